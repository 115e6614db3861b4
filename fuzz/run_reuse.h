// fuzz/run_reuse.h: model runs that the libFuzzer target and its custom
// mutator share, so that no input is run twice for the same result.
//
// libFuzzer mutates an input up to -mutate_depth times in a row, running
// each result before it mutates it again (Fuzzer::MutateAndTestOne), and it
// runs what the custom mutator returns right away. Both directions repeat a
// run the other side has just made:
//
//  * LastRun, target to mutator: the run-aware schedule mutation
//    (MutateScheduleByRunning) starts by running its input under its own
//    schedule, and that input is usually the one the target has just run.
//    It takes the steps of that run instead.
//  * ProducedRun, mutator to target: the run-aware mutation and the
//    generation of a fresh program (GenerateTestCase) end with a run whose
//    steps become the new input's schedule, so the target's run of that
//    input would take the same steps again. The custom mutator keeps what
//    that run left in the coverage counters (CoverageCounters); when the
//    target gets exactly those bytes next, it puts the counters back instead
//    of running the model. Only runs that ended without a violation are
//    kept (a finding is always run, and run again, by the target), and only
//    when the target's own files are not instrumented (their edges would be
//    missing from the counters): SPTEFUZZ_REUSE_MUTATOR_RUNS, set by the
//    `libfuzzer` presets (CMakeLists.txt). SPTEFUZZ_REUSE=off runs every
//    input; SPTEFUZZ_REUSE=check runs it too and aborts if the counters or
//    the steps differ from the kept ones.
//
// The model is deterministic and resets all state per run: the same test
// case under the same steps runs the same actor code. Both ways give the
// same mutations and the same coverage (fuzz/mutator_test.cc checks the
// steps and verdicts on every preset; bench/results/fuzz.md, "Runs shared
// by the target and its mutator", the counters).
//
//   GetLastRun().Record(data, size, result.schedule);                    // the target
//   const std::vector<uint8_t>* steps = GetLastRun().StepsOf(data, size);  // the mutator
#ifndef SPTEFUZZ_FUZZ_RUN_REUSE_H_
#define SPTEFUZZ_FUZZ_RUN_REUSE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/executor.h"
#include "core/rules.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/interleaving_feedback.h"

namespace sptefuzz {

class LastRun {
 public:
  // The target ran `data` with its own schedule and took `steps` (Result::schedule).
  void Record(const uint8_t* data, size_t size, const std::vector<uint8_t>& steps);
  // The steps of the last recorded run if its input was exactly `data`, else null.
  const std::vector<uint8_t>* StepsOf(const uint8_t* data, size_t size) const;

 private:
  bool valid_ = false;
  std::vector<uint8_t> input_;
  std::vector<uint8_t> steps_;
};

// The process's one record (the target and the mutator run on one thread).
LastRun& GetLastRun();

// A run the custom mutator made of the input it returned: the steps and
// the coverage counters it left. Taken at most once.
class ProducedRun {
 public:
  void Offer(const std::vector<uint8_t>& input, const std::vector<uint8_t>& steps, absl::Span<const uint8_t> counters);
  void Drop() { valid_ = false; }
  // If `data` is the offered input: true, with its steps and counters in
  // *steps and *counters (valid until the next Offer), and the offer is gone.
  bool Take(const uint8_t* data, size_t size, const std::vector<uint8_t>** steps, absl::Span<const uint8_t>* counters);

 private:
  bool valid_ = false;
  std::vector<uint8_t> input_;
  std::vector<uint8_t> steps_;
  std::vector<uint8_t> counters_;
};

ProducedRun& GetProducedRun();

// The libFuzzer inline 8-bit coverage counters of this binary (the
// __sancov_cntrs section); empty in a binary without them.
absl::Span<uint8_t> CoverageCounters();

// Whether the target and its custom mutator share runs (ProducedRun): a
// target built with SPTEFUZZ_REUSE_MUTATOR_RUNS (its own files are not
// instrumented; only they see the define), SPTEFUZZ_REUSE not off, no
// interleaving feedback (its counters come from the target's trace), and
// coverage counters to share.
inline bool SharesMutatorRuns(const FuzzEnv& env) {
#ifdef SPTEFUZZ_REUSE_MUTATOR_RUNS
  return env.reuse != Reuse::kOff && !InterleavingFeedbackEnabled() && !CoverageCounters().empty();
#else
  (void)env;
  return false;
#endif
}

// Runs the largest programs once on `ex`, so that its arena and buffers have
// reached their final size: the code that grows them would otherwise run
// only in the first executions that need it, which AFL++ counts as
// instability where that code is instrumented. (The arena's chunk
// allocation, which the actors' frame allocation inlines, is out of line in
// core/task.cc for the same reason: runs the mutator shares with the target
// must not leave edges that depend on the runs before.)
void WarmUpExecutor(Executor& ex, const Rules& rules);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_RUN_REUSE_H_
