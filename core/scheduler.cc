#include "core/scheduler.h"

#include "core/check.h"

namespace sptefuzz {

int DefaultPick(const SchedView& v) {
  SPTEFUZZ_CHECK(v.enabled != 0);
  if (v.current >= 0 && !v.current_yielded && ((v.enabled >> v.current) & 1)) return v.current;
  // Round robin from the thread after the current one (a yielded thread goes last).
  const int start = v.current < 0 ? 0 : v.current + 1;
  for (int i = 0; i < v.threads; ++i) {
    const int t = (start + i) % v.threads;
    if ((v.enabled >> t) & 1) return t;
  }
  SPTEFUZZ_CHECK(false);
  return 0;
}

int ReplayScheduler::Pick(const SchedView& v) {
  if (pos_ < steps_.size()) {
    const int t = steps_[pos_++];
    if (t < v.threads && ((v.enabled >> t) & 1)) return t;
  }
  ++divergences_;
  return DefaultPick(v);
}

void SegmentScheduler::Begin(const TestCase& tc) {
  segs_ = &tc.schedule;
  seg_ = 0;
  done_in_seg_ = 0;
}

void SegmentScheduler::Advance() {
  ++seg_;
  done_in_seg_ = 0;
}

int SegmentScheduler::Pick(const SchedView& v) {
  while (segs_ != nullptr && seg_ < segs_->size()) {
    const Segment& s = (*segs_)[seg_];
    // A segment ends early when its thread cannot run (blocked or finished)
    // or has just yielded in a spin-wait (it would only spin).
    const bool spinning = s.kind != SegmentKind::kSteps && v.current == s.thread && v.current_yielded;
    if (((v.enabled >> s.thread) & 1) && !spinning) return s.thread;
    Advance();
  }
  return DefaultPick(v);
}

void SegmentScheduler::Observe(int thread, Label label) {
  if (segs_ == nullptr || seg_ >= segs_->size()) return;
  const Segment& s = (*segs_)[seg_];
  if (s.thread != thread) return;
  switch (s.kind) {
    case SegmentKind::kSteps:
      if (++done_in_seg_ >= s.count) Advance();
      break;
    case SegmentKind::kThrough:
      if (label == s.label && ++done_in_seg_ >= s.count) Advance();
      break;
    case SegmentKind::kToEnd:
      break;  // ends when the thread finishes (it is then no longer enabled)
  }
}

void RandomScheduler::Begin(const TestCase&) {
  if (fixed_ >= 0) {
    p_ = static_cast<uint32_t>(fixed_);
  } else {
    // Bugs need 1-3 preemptions at the right places; mixing switch
    // probabilities per execution covers both short and long windows.
    static constexpr uint32_t kChoices[] = {20, 50, 100, 200, 350, 500};
    p_ = kChoices[rng_.Below(6)];
  }
}

int RandomScheduler::Pick(const SchedView& v) {
  const bool cur_ok = v.current >= 0 && ((v.enabled >> v.current) & 1) && !v.current_yielded;
  if (cur_ok && !rng_.Chance(p_)) return v.current;
  return PickUniform(v);
}

int RandomScheduler::PickUniform(const SchedView& v) {
  const int n = __builtin_popcount(v.enabled);
  uint32_t k = rng_.Below(static_cast<uint32_t>(n));
  for (int t = 0; t < v.threads; ++t) {
    if ((v.enabled >> t) & 1) {
      if (k == 0) return t;
      --k;
    }
  }
  SPTEFUZZ_CHECK(false);
  return 0;
}

}  // namespace sptefuzz
