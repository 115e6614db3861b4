// fuzz/custom_mutator.cc: LLVMFuzzerCustomMutator for the libFuzzer build.
// 30% of the mutations are libFuzzer's own byte mutations; the other 70%
// decode the input, apply one structure-aware change (fuzz/mutator.h) and
// re-encode it (MutateOrGenerate: run-aware schedule mutations and fresh
// random programs among them; those run on the mutator's own executor). The
// target and the mutator share runs (fuzz/run_reuse.h): the mutator takes
// the steps of the target's last run when it mutates that input, and in
// the `libfuzzer` presets' build (SPTEFUZZ_REUSE_MUTATOR_RUNS) it keeps the
// coverage of its last run for the target. SPTEFUZZ_MUTATOR=off leaves only
// the byte mutations.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "core/executor.h"
#include "core/scheduler.h"
#include "fuzz/codec.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/mutator.h"
#include "fuzz/run_reuse.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace sptefuzz {
namespace {

Executor& MutatorExecutor() {
  static Executor* ex = [] {
    auto* e = new Executor();
    WarmUpExecutor(*e, GetFuzzEnv().rules);
    return e;
  }();
  return *ex;
}

void ClearCoverageCounters() {
  const absl::Span<uint8_t> c = CoverageCounters();
  std::memset(c.data(), 0, c.size());
}

}  // namespace
}  // namespace sptefuzz

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace sptefuzz;
  const FuzzEnv& env = GetFuzzEnv();
  GetProducedRun().Drop();
  SplitMix64 rng(seed);
  if (!env.structured_mutator || rng.Chance(300)) return LLVMFuzzerMutate(data, size, max_size);
  const uint8_t version = env.forced_version != 0 ? env.forced_version : CodecVersionOf(data, size);
  TestCase tc = DecodeTestCaseAs(version, data, size);
  // The steps of this input's run, if it is the one the target ran last
  // (the usual case: libFuzzer runs each mutation before mutating it again).
  const std::vector<uint8_t>* steps = GetLastRun().StepsOf(data, size);
  // The counters are cleared before the mutation's last run, so that they
  // hold that run's coverage alone (libFuzzer clears them again before the
  // target runs anything).
  static MutationRun* run = new MutationRun();
  const bool share = SharesMutatorRuns(env);
  run->before = share ? ClearCoverageCounters : nullptr;
  // Leaves the adversarial D-assist off unless SPTEFUZZ_ADVERSARIAL=on (the target would reject it).
  if (!MutateOrGenerate(&tc, version, env.rules, env.adversarial, MutatorExecutor(), rng, steps, run)) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  const std::vector<uint8_t> out = EncodeTestCaseAs(tc, version);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  if (share && run->replays) {
    // The target would reject this configuration unrun (MutateOrGenerate never returns it).
    SPTEFUZZ_CHECK(env.adversarial || tc.config.dassist == DAssist::kStrict);
    GetProducedRun().Offer(out, run->steps, CoverageCounters());
  }
  return out.size();
}
