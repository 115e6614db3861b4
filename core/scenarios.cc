#include "core/scenarios.h"

namespace sptefuzz {
namespace {
constexpr Spte kRoMmuW = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;

ThreadSpec Kvm(std::vector<Op> ops) { return ThreadSpec{ThreadKind::kKernel, 0, std::move(ops)}; }
ThreadSpec Vcpu(int v, std::vector<Op> ops) { return ThreadSpec{ThreadKind::kVcpu, static_cast<uint8_t>(v), std::move(ops)}; }
}  // namespace

TestCase ScenarioS1() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.ad = true;
  tc.config.logging = true;
  tc.config.init_spte[0] = kRoMmuW;
  tc.threads = {Kvm({{OpKind::kWriteback, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kZ1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS2() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.ad = true;
  tc.config.logging = false;
  tc.config.init_spte[0] = kRoMmuW;
  tc.threads = {Kvm({{OpKind::kWpPt, 0}}), Vcpu(1, {{OpKind::kFault, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd},
                 {1, SegmentKind::kThrough, Label::kS6, 1},
                 {2, SegmentKind::kToEnd},
                 {1, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS3() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.ad = true;
  tc.config.logging = true;
  tc.config.indirect = true;
  // What kvm_mmu_pte_write's prefetch (speculative: no A) leaves after dirty
  // logging write-protected it.
  tc.config.init_spte[0] = kSptePresent | kSpteHostW | kSpteMmuW;
  tc.threads = {Vcpu(0, {{OpKind::kWrite, 0}}), Vcpu(1, {{OpKind::kRemap, 0}}), Kvm({{OpKind::kHarvest, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kF2, 1},
                 {1, SegmentKind::kToEnd},
                 {2, SegmentKind::kToEnd},
                 {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS4() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 4;
  tc.config.ad = true;
  tc.config.logging = false;
  tc.config.large = true;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteW | kSpteLarge | kSpteHostW | kSpteMmuW;
  tc.threads = {Kvm({{OpKind::kEnableLog, 0}}), Vcpu(0, {{OpKind::kWrite, 2}, {OpKind::kWrite, 3}}),
                Kvm({{OpKind::kHarvest, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS5() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.ad = true;
  tc.config.logging = true;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteD | kSpteW | kSpteHostW | kSpteMmuW;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.config.init_bitmap = 1;
  tc.threads = {Kvm({{OpKind::kHarvest, 0}}), Kvm({{OpKind::kWpPt, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kG4, 1}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd},
                 {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS6() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW | kSpteD;  // W cleared by a completed harvest, TLBs flushed
  tc.threads = {Kvm({{OpKind::kWpPt, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS7a() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW;
  tc.threads = {Kvm({{OpKind::kWriteback, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kT0, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS7b() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW | kSpteD;  // left read-only by an earlier logging round
  tc.threads = {Kvm({{OpKind::kAge, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kT0, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS8() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.ad = false;
  tc.config.init_spte[0] = kSptePresent | kSpteW | kSpteHostW | kSpteMmuW;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, false};
  tc.threads = {Kvm({{OpKind::kClearYoung, 0}}), Kvm({{OpKind::kEnableLog, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS11() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.ad = true;
  tc.config.logging = true;
  tc.config.pml = true;
  tc.threads = {Vcpu(0, {{OpKind::kWrite, 0}, {OpKind::kWrite, 0}}), Vcpu(1, {{OpKind::kFault, 0}}),
                Kvm({{OpKind::kHarvest, 0}})};
  // vCPU0's first write (fault, install, the walk that fills the TLB:
  // the second H4), vCPU1's fault up to its read_unlock, the harvest, then
  // the rest.
  tc.schedule = {{0, SegmentKind::kThrough, Label::kH4, 2},
                 {1, SegmentKind::kThrough, Label::kR11, 1},
                 {2, SegmentKind::kToEnd},
                 {0, SegmentKind::kToEnd},
                 {1, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS12() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteD | kSpteW | kSpteHostW | kSpteMmuW;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.threads = {Kvm({{OpKind::kZapRange, 0}}), Kvm({{OpKind::kWpPt, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kZY1, 1}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd},
                 {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS13() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.ad = false;
  tc.config.logging = true;
  tc.config.init_spte[0] = kSptePresent | kSpteW | kSpteHostW | kSpteMmuW;
  tc.config.init_bitmap = 1;
  tc.threads = {Kvm({{OpKind::kHarvest, 0}}), Kvm({{OpKind::kAge, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kT0, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS14() {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW | kSpteW;
  tc.threads = {Kvm({{OpKind::kChangePte, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS9() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW | kSpteW | kSpteD;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.threads = {Vcpu(1, {{OpKind::kSyncDrop, 0}}), Kvm({{OpKind::kWpPt, 0}}), Vcpu(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd}};
  return tc;
}

TestCase ScenarioS10() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW | kSpteW;
  tc.threads = {Vcpu(0, {{OpKind::kWrite, 0}}), Vcpu(1, {{OpKind::kSyncRo, 0}}), Kvm({{OpKind::kWriteback, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd}};
  return tc;
}

}  // namespace sptefuzz
