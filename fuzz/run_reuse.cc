#include "fuzz/run_reuse.h"

#include <algorithm>

#include "core/check.h"
#include "core/scheduler.h"

// The section bounds the linker defines for libFuzzer's inline 8-bit
// counters (the same ones the compiler's module constructor passes to
// __sanitizer_cov_8bit_counters_init); weak, so null without coverage.
extern "C" {
[[gnu::weak]] extern uint8_t __start___sancov_cntrs[];
[[gnu::weak]] extern uint8_t __stop___sancov_cntrs[];
}

namespace sptefuzz {
namespace {

bool SameBytes(const std::vector<uint8_t>& v, const uint8_t* data, size_t size) {
  return size == v.size() && std::equal(v.begin(), v.end(), data);
}

}  // namespace

void LastRun::Record(const uint8_t* data, size_t size, const std::vector<uint8_t>& steps) {
  // assign() reuses the buffers: no allocation once they have grown.
  input_.assign(data, data + size);
  steps_.assign(steps.begin(), steps.end());
  valid_ = true;
}

const std::vector<uint8_t>* LastRun::StepsOf(const uint8_t* data, size_t size) const {
  return valid_ && SameBytes(input_, data, size) ? &steps_ : nullptr;
}

LastRun& GetLastRun() {
  static LastRun* r = new LastRun();
  return *r;
}

void ProducedRun::Offer(const std::vector<uint8_t>& input, const std::vector<uint8_t>& steps,
                        absl::Span<const uint8_t> counters) {
  input_.assign(input.begin(), input.end());
  steps_.assign(steps.begin(), steps.end());
  counters_.assign(counters.begin(), counters.end());
  valid_ = true;
}

bool ProducedRun::Take(const uint8_t* data, size_t size, const std::vector<uint8_t>** steps,
                       absl::Span<const uint8_t>* counters) {
  if (!valid_ || !SameBytes(input_, data, size)) return false;
  valid_ = false;
  *steps = &steps_;
  *counters = counters_;
  return true;
}

ProducedRun& GetProducedRun() {
  static ProducedRun* r = new ProducedRun();
  return *r;
}

absl::Span<uint8_t> CoverageCounters() {
  if (__start___sancov_cntrs == nullptr || __stop___sancov_cntrs == nullptr) return {};
  return absl::Span<uint8_t>(__start___sancov_cntrs, static_cast<size_t>(__stop___sancov_cntrs - __start___sancov_cntrs));
}

void WarmUpExecutor(Executor& ex, const Rules& rules) {
  SegmentScheduler seg;
  for (int round = 0; round < 4; ++round) {
    TestCase tc;
    tc.config.vcpus = kMaxVcpus;
    tc.config.gfns = kMaxGfns;
    tc.config.logging = round % 2 == 1;
    for (int g = 0; g < kMaxGfns; ++g) tc.config.init_spte[g] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
    for (int i = 0; i < kMaxThreads; ++i) {
      ThreadSpec th;
      th.kind = i < kMaxVcpus ? ThreadKind::kVcpu : ThreadKind::kKernel;
      th.vcpu = i < kMaxVcpus ? static_cast<uint8_t>(i) : 0;
      for (int k = 0; k < kMaxOpsPerThread; ++k) {
        const OpKind vcpu_ops[] = {OpKind::kWrite, OpKind::kFault, OpKind::kRead};
        const OpKind kvm_ops[] = {OpKind::kWriteback, OpKind::kWpPt, OpKind::kHarvest, OpKind::kAge, OpKind::kZap};
        th.ops.push_back(i < kMaxVcpus ? Op{vcpu_ops[(k + round) % 3], static_cast<uint8_t>(k % kMaxGfns)}
                                       : Op{kvm_ops[(k + i + round) % 5], static_cast<uint8_t>((k + 1) % kMaxGfns)});
        if (!OpUsesGfn(th.ops.back().kind)) th.ops.back().gfn = 0;
      }
      tc.threads.push_back(std::move(th));
    }
    for (int i = 0; i < kMaxSegments; ++i) {
      tc.schedule.push_back({static_cast<uint8_t>((i * 5 + round) % kMaxThreads), SegmentKind::kSteps, Label::kH1,
                             static_cast<uint16_t>(1 + (i + round) % 3)});
    }
    SPTEFUZZ_CHECK(ValidateTestCase(tc).ok());
    (void)ex.Run(tc, rules, seg);
  }
}

}  // namespace sptefuzz
