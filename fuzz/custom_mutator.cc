// fuzz/custom_mutator.cc: LLVMFuzzerCustomMutator for the libFuzzer build.
// 30% of the mutations are libFuzzer's own byte mutations; the other 70%
// decode the input, apply one structure-aware change (fuzz/mutator.h) and
// re-encode it (MutateOrGenerate: run-aware schedule mutations and fresh
// random programs among them; those run on the mutator's own executor, and
// reuse the target's last run when they mutate its input, fuzz/last_run.h).
// SPTEFUZZ_MUTATOR=off leaves only the byte mutations.
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/executor.h"
#include "core/scheduler.h"
#include "fuzz/codec.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/last_run.h"
#include "fuzz/mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  using namespace sptefuzz;
  const FuzzEnv& env = GetFuzzEnv();
  SplitMix64 rng(seed);
  if (!env.structured_mutator || rng.Chance(300)) return LLVMFuzzerMutate(data, size, max_size);
  const uint8_t version = env.forced_version != 0 ? env.forced_version : CodecVersionOf(data, size);
  TestCase tc = DecodeTestCaseAs(version, data, size);
  static Executor* ex = new Executor();
  // Leaves the adversarial D-assist off unless SPTEFUZZ_ADVERSARIAL=on (the target would reject it).
  // The steps of this input's run, if it is the one the target ran last
  // (the usual case: libFuzzer runs each mutation before mutating it again).
  const std::vector<uint8_t>* steps = GetLastRun().StepsOf(data, size);
  if (!MutateOrGenerate(&tc, version, env.rules, env.adversarial, *ex, rng, steps)) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  const std::vector<uint8_t> out = EncodeTestCaseAs(tc, version);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
