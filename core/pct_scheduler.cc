#include "core/pct_scheduler.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace sptefuzz {

PctScheduler::PctScheduler(uint64_t seed, int depth, uint32_t initial_k)
    : rng_(seed), depth_(std::clamp(depth, 1, kMaxChange + 1)), k_(std::max<uint32_t>(initial_k, 1)) {}

double PctScheduler::Bound(int n, uint32_t k, int d) {
  return 1.0 / (static_cast<double>(std::max(n, 1)) * std::pow(static_cast<double>(std::max<uint32_t>(k, 1)), d - 1));
}

void PctScheduler::Begin(const TestCase& tc) {
  // Learn k from the previous execution (a running max, as the paper's k is
  // an upper bound on the length of an execution).
  if (begun_) k_ = std::max(k_, steps_);
  begun_ = true;
  steps_ = 0;
  n_ = static_cast<int>(tc.threads.size());
  // Random distinct priorities d..d+n-1 (Fisher-Yates over a permutation).
  std::array<int, kMaxThreads> perm{};
  for (int i = 0; i < n_; ++i) perm[i] = i;
  for (int i = n_ - 1; i > 0; --i) std::swap(perm[i], perm[rng_.Below(static_cast<uint32_t>(i + 1))]);
  for (int i = 0; i < n_; ++i) prio_[i] = depth_ + perm[i];
  // d-1 change points, uniform over [1, k].
  nchange_ = depth_ - 1;
  for (int j = 0; j < nchange_; ++j) change_at_[j] = 1 + rng_.Below(k_);
  lowest_ = 1;
}

int PctScheduler::Pick(const SchedView& v) {
  // The step about to run is number v.step + 1. A change point lowers the
  // priority of the thread that would run now to d-j (j = 1..d-1), so the
  // pick is made again after the change.
  const uint32_t step = v.step + 1;
  auto best = [&] {
    int b = -1;
    for (int t = 0; t < v.threads; ++t) {
      if (((v.enabled >> t) & 1) && (b < 0 || prio_[t] > prio_[b])) b = t;
    }
    return b;
  };
  // A thread that just yielded in a spin-wait only spins if it keeps the
  // highest priority: it goes below every other thread (a practical
  // adaptation; the paper assumes no busy waiting).
  if (v.current >= 0 && v.current_yielded && v.threads > 1) {
    prio_[v.current] = --lowest_;
  }
  int b = best();
  SPTEFUZZ_CHECK(b >= 0);
  for (int j = 0; j < nchange_; ++j) {
    if (change_at_[j] == step) {
      prio_[b] = depth_ - 1 - j;  // the paper's d-j for the j-th point (1-based j)
      lowest_ = std::min(lowest_, prio_[b]);
      b = best();
    }
  }
  return b;
}

}  // namespace sptefuzz
