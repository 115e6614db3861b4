// core/native.h: native mode (design.md, decision 3). The same actor code
// runs on real OS threads with real atomics and a real spinlock, as a kernel
// developer's stress test would; the invariants are checked at the end of
// every round from a timestamped event log. It is the baseline the
// deterministic search is measured against, and it lets TSan check the
// model code under real concurrency.
//
//   NativeRunner runner;                       // starts kMaxThreads workers
//   const Result& r = runner.Run(tc, rules);   // one round: every thread of tc on its own OS thread
//   if (r.outcome == Outcome::kViolation) ...  // r.trace is empty in native mode
#ifndef SPTEFUZZ_CORE_NATIVE_H_
#define SPTEFUZZ_CORE_NATIVE_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/model.h"

namespace sptefuzz {

class NativeRunner {
 public:
  NativeRunner();
  ~NativeRunner();
  NativeRunner(const NativeRunner&) = delete;
  NativeRunner& operator=(const NativeRunner&) = delete;

  // Runs one round. The result is valid until the next call.
  const Result& Run(const TestCase& tc, const Rules& rules);

 private:
  void Worker(int index);

  std::unique_ptr<Model> model_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> round_{0};     // bumped to start a round
  std::atomic<int> finished_{0};       // workers done with the current round
  std::atomic<int> active_{0};         // threads in the current round
  std::atomic<bool> stop_{false};
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_NATIVE_H_
