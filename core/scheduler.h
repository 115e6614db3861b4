// core/scheduler.h: who runs next. The Scheduler interface and strategies.
//
// Before every scheduling point the executor asks the scheduler to pick one
// of the enabled threads, then tells it which label that thread executed.
// Strategies are separate implementations (replay, segments, seeded random);
// the executor records every pick so any run can be replayed exactly.
//
//   RandomScheduler random(/*seed=*/42);
//   Result r = Execute(tc, rules, random, opts);
//   ReplayScheduler replay(r.schedule);   // the same run again, step by step
#ifndef SPTEFUZZ_CORE_SCHEDULER_H_
#define SPTEFUZZ_CORE_SCHEDULER_H_

#include <cstdint>
#include <vector>

#include "core/labels.h"
#include "core/testcase.h"

namespace sptefuzz {

// What a scheduler may look at when it picks.
struct SchedView {
  int threads = 0;
  uint32_t enabled = 0;    // bit t: thread t can take its next step
  int current = -1;        // the thread that took the previous step (-1 at the start)
  bool current_yielded = false;  // it ended its last step in a spin-wait retry
  uint32_t step = 0;       // steps taken so far
  const Label* pending = nullptr;  // pending[t]: the label thread t will execute next (kH1 for accesses)
  // pending_op[t]: index in tc.threads[t].ops of the operation that step
  // belongs to. With the label it gives the step's footprint (core/dfs_footprint.h).
  const uint8_t* pending_op = nullptr;
  // pending_arg[t]: what thread t's pending step acts on where its label
  // does not say: the vCPU a flush step (FL) flushes; 0 otherwise.
  const uint8_t* pending_arg = nullptr;
  uint32_t live = 0;       // bit t: thread t has not finished (enabled or blocked)
};

// The default policy used after an explicit schedule runs out: keep the
// current thread while it is enabled and has not yielded, otherwise the next
// enabled thread in round-robin order.
int DefaultPick(const SchedView& v);

// What Pick() may return instead of a thread: end the execution here, with
// Outcome::kAborted and without the end-of-run oracles (the DFS abandons a
// schedule that only repeats one explored before).
inline constexpr int kAbortRun = -1;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // A new execution of `tc` starts.
  virtual void Begin(const TestCase& tc) {}
  // Returns an enabled thread (v.enabled has at least one bit set), or kAbortRun.
  virtual int Pick(const SchedView& v) = 0;
  // Thread `thread` executed a step labeled `label`.
  virtual void Observe(int thread, Label label) {}
};

// Replays a per-step thread sequence; a pick that is not enabled, or a run
// longer than the sequence, falls back to DefaultPick and counts a divergence.
class ReplayScheduler : public Scheduler {
 public:
  explicit ReplayScheduler(std::vector<uint8_t> steps) : steps_(std::move(steps)) {}
  void Begin(const TestCase&) override { pos_ = 0; divergences_ = 0; }
  int Pick(const SchedView& v) override;
  int divergences() const { return divergences_; }

 private:
  std::vector<uint8_t> steps_;
  size_t pos_ = 0;
  int divergences_ = 0;
};

// Runs the TestCase's own schedule segments, then the default policy.
class SegmentScheduler : public Scheduler {
 public:
  SegmentScheduler() = default;
  void Begin(const TestCase& tc) override;
  int Pick(const SchedView& v) override;
  void Observe(int thread, Label label) override;

 private:
  void Advance();
  const std::vector<Segment>* segs_ = nullptr;
  size_t seg_ = 0;
  uint32_t done_in_seg_ = 0;  // steps (kSteps) or label hits (kThrough) so far
};

// Small, fast, seedable PRNG (splitmix64) so runs are reproducible across
// platforms and library versions.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  bool Chance(uint32_t per_mille) { return Below(1000) < per_mille; }

 private:
  uint64_t s_;
};

// Seeded random strategy: at every step, switch to a uniformly chosen enabled
// thread with probability `switch_per_mille`/1000, otherwise keep the current
// one. Begin() draws a fresh switch probability per execution unless fixed.
class RandomScheduler : public Scheduler {
 public:
  explicit RandomScheduler(uint64_t seed, int switch_per_mille = -1)
      : rng_(seed), fixed_(switch_per_mille) {}
  void Begin(const TestCase&) override;
  int Pick(const SchedView& v) override;
  // A uniformly chosen enabled thread, from the same random stream.
  int PickUniform(const SchedView& v);

 private:
  SplitMix64 rng_;
  int fixed_;
  uint32_t p_ = 100;
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_SCHEDULER_H_
