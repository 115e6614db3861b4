// core/pct_scheduler.h: PCT, probabilistic concurrency testing.
//
// After S. Burckhardt, P. Kothari, M. Musuvathi, S. Nagarakatte, "A
// Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
// ASPLOS 2010. Each execution gives the n threads distinct random priorities
// d..d+n-1 and picks d-1 priority change points uniformly among the k steps
// it expects; the highest-priority enabled thread always runs, and at the
// j-th change point the running thread drops to priority d-j. A bug of depth
// d (d-1 ordering constraints beyond the first) is then found by one
// execution with probability at least 1/(n·k^(d-1)).
//
//   PctScheduler pct(/*seed=*/1, /*depth=*/3);
//   for (...) executor.Run(tc, rules, pct);   // k is learned across runs
//   double p = PctScheduler::Bound(n, pct.k(), 3);
#ifndef SPTEFUZZ_CORE_PCT_SCHEDULER_H_
#define SPTEFUZZ_CORE_PCT_SCHEDULER_H_

#include <array>
#include <cstdint>

#include "core/scheduler.h"

namespace sptefuzz {

class PctScheduler : public Scheduler {
 public:
  // `depth` >= 1; `initial_k`: the step estimate before any run was seen.
  PctScheduler(uint64_t seed, int depth, uint32_t initial_k = 64);
  void Begin(const TestCase& tc) override;
  int Pick(const SchedView& v) override;
  void Observe(int thread, Label label) override { ++steps_; }

  // The step estimate k: the most steps any execution so far has taken (the
  // paper's k is an upper bound on the steps of one execution).
  uint32_t k() const { return k_; }
  int depth() const { return depth_; }
  // The paper's lower bound on the probability that one execution hits a
  // given bug of depth d: 1/(n·k^(d-1)).
  static double Bound(int n, uint32_t k, int d);

 private:
  static constexpr int kMaxChange = 16;
  SplitMix64 rng_;
  int depth_;
  uint32_t k_;
  uint32_t steps_ = 0;     // steps of the current execution
  bool begun_ = false;
  int n_ = 0;
  std::array<int, kMaxThreads> prio_{};
  std::array<uint32_t, kMaxChange> change_at_{};  // step numbers (1-based) of the change points
  int nchange_ = 0;
  int lowest_ = 0;         // the lowest priority handed out so far (for yields)
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_PCT_SCHEDULER_H_
