// fuzz/last_run.h: the input the fuzz target ran last, and the steps its
// run took, for the custom mutator of the same process.
//
// libFuzzer mutates an input up to -mutate_depth times in a row, running
// each result before it mutates it again (Fuzzer::MutateAndTestOne). So the
// input the custom mutator gets is usually the one the target has just run,
// and the run-aware schedule mutation (MutateScheduleByRunning), which
// starts by running the input under its own schedule, can take that run's
// steps instead. The model is deterministic: the steps are the same, and so
// is every mutation (fuzz/mutator_test.cc checks both ways give the same).
//
//   GetLastRun().Record(data, size, result.schedule);       // the target
//   const std::vector<uint8_t>* steps = GetLastRun().StepsOf(data, size);  // the mutator
#ifndef SPTEFUZZ_FUZZ_LAST_RUN_H_
#define SPTEFUZZ_FUZZ_LAST_RUN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

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

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_LAST_RUN_H_
