// Step lists of kvm_sync_page() -> FNAME(sync_page) (core/actors_sync.cc)
// under the rules that changed: the tlbs_dirty deferral (a4ee1ca4a36e, B9)
// against the remote flush (f81602958c11), who honours tlbs_dirty, and the
// dirty transfer of the read-only rewrite (B10).
#include <gtest/gtest.h>

#include "core/scenarios.h"
#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kRwDirty = kSptePresent | kSpteA | kSpteD | kSpteW | kSpteHostW | kSpteMmuW;

// vcpu0 caches g0 writable and dirty; the listed threads follow it.
TestCase TwoVcpus(std::vector<ThreadSpec> threads, Spte init = kRwDirty) {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = init;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, (init & kSpteD) != 0};
  tc.threads = std::move(threads);
  tc.schedule = {};
  for (size_t i = 0; i < tc.threads.size(); ++i) tc.schedule.push_back({static_cast<uint8_t>(i), SegmentKind::kToEnd});
  return tc;
}

bool StepHasFlag(const Result& r, int thread, Label l, uint16_t flag) {
  for (const TraceStep& s : r.trace) {
    if (s.thread == thread && s.label == l && (s.flags & flag)) return true;
  }
  return false;
}

TEST(SyncPageTest, DropWithRemoteFlushFlushesEveryVcpuBeforeUnlock) {
  const Result r = RunSegments(TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}}), VcpuThread(0, {{OpKind::kRead, 0}})}),
                               PresetRules("linux-3.6"));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "Y1 Z1 Z2 FL FL Y4");
  // vcpu0's entry is gone: its read walks and faults on the dropped spte.
  EXPECT_EQ(LabelsOf(r, 1).substr(0, 2), "H4");
  // drop_spte transfers D to the page like any zap.
  EXPECT_TRUE(StepHasFlag(r, 0, Label::kZ2, kTracePageDirty));
}

TEST(SyncPageTest, DropWithTlbsDirtyLeavesRemoteEntriesAndFlushesOnlyItself) {
  TestCase tc = TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}}), VcpuThread(0, {{OpKind::kWrite, 0}})});
  tc.config.init_tlb[1][0] = TlbEntry{true, true, true};
  const Result r = RunSegments(tc, PresetRules("b9-sync-page-tlbs-dirty"));
  // No flush-placement finding at Y4: the deferral is the kernel's contract.
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r) << (r.violations.empty() ? "" : r.violations[0].explanation);
  EXPECT_EQ(LabelsOf(r, 0), "Y1 Z1 Z2 Y2 Y4");
  EXPECT_EQ(r.trace[3].event, Event::kTlbsDirty);
  EXPECT_EQ(r.trace[3].aux, 1u);
  // vcpu0 still writes through its stale entry; vcpu1's own entry is gone.
  EXPECT_EQ(LabelsOf(r, 1), "H2");
  TestCase own = tc;
  own.threads = {VcpuThread(1, {{OpKind::kSyncDrop, 0}, {OpKind::kRead, 0}})};
  own.schedule = {};
  const Result r2 = RunSegments(own, PresetRules("b9-sync-page-tlbs-dirty"));
  EXPECT_EQ(LabelsOf(r2, 0).substr(0, 17), "Y1 Z1 Z2 Y2 Y4 H4");
}

TEST(SyncPageTest, InvalidationHonoursTlbsDirtyAndAFlushResetsIt) {
  // The zap finds no rmap (sync_page dropped it) but flushes because
  // kvm->tlbs_dirty != 0; its flush resets tlbs_dirty, so the second zap
  // does not flush.
  const Result r = RunSegments(
      TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}}), KvmThread({{OpKind::kZap, 0}, {OpKind::kZap, 0}})}),
      PresetRules("b9-sync-page-tlbs-dirty"));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 1), "N1 FL FL N2 N3 N4 N1 N2 N3 N4");
}

TEST(SyncPageTest, EveryKvmFlushRemoteTlbsResetsTlbsDirty) {
  // 3.6's enable-log flushes unconditionally: after it the zap has nothing
  // deferred to flush.
  TestCase tc = TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}}), KvmThread({{OpKind::kEnableLog, 0}, {OpKind::kZap, 0}})});
  const Result r = RunSegments(tc, PresetRules("b9-sync-page-tlbs-dirty"));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 1), "L1 L2 FL FL L3 N1 N2 N3 N4");
}

TEST(SyncPageTest, PageTableWriteProtectionDoesNotHonourTlbsDirty) {
  // B9 itself (S9): rmap_write_protect of the gfn finds no rmap, reports no
  // flush, and P4 releases mmu_lock with vcpu0's writable entry alive.
  const Result bad = RunSegments(ScenarioS9(), PresetRules("b9-sync-page-tlbs-dirty"));
  ASSERT_EQ(bad.outcome, Outcome::kViolation) << StepList(bad);
  EXPECT_EQ(bad.violations[0].invariant, Invariant::kStaleTlbAfterPtProtect) << bad.violations[0].explanation;
  EXPECT_EQ(LabelsOf(bad, 0), "Y1 Z1 Z2 Y2 Y4");
  EXPECT_EQ(LabelsOf(bad, 1), "P1 P4");
  EXPECT_EQ(bad.trace[bad.violations[0].step - 1].label, Label::kP4);
}

TEST(SyncPageTest, ReadOnlyRewriteTransfersDirtyAndFlushes) {
  // sync-ro of a written spte: set_spte builds {P HW} (no A: speculative; no
  // W/MMU_W; no D); mmu_spte_update's xchg returns the D and marks the page
  // dirty; W(old) && !W(new) -> remote flush before the unlock.
  const Result ok = RunSegments(TwoVcpus({VcpuThread(1, {{OpKind::kSyncRo, 0}})}), PresetRules("linux-3.6"));
  ASSERT_EQ(ok.outcome, Outcome::kOk) << StepList(ok);
  EXPECT_EQ(LabelsOf(ok, 0), "Y1 Y3 U1 U2 FL FL Y4");
  EXPECT_EQ(ok.trace[3].event, Event::kXchg);
  EXPECT_EQ(ok.trace[3].after, kSptePresent | kSpteHostW);
  EXPECT_TRUE(ok.trace[3].flags & kTracePageDirty);
  // B10: the same rewrite without the transfer.
  const Result bad = RunSegments(TwoVcpus({VcpuThread(1, {{OpKind::kSyncRo, 0}})}), PresetRules("b10-sync-page-dirty-lost"));
  EXPECT_EQ(LabelsOf(bad, 0), "Y1 Y3 U1 U2 FL FL Y4");
  EXPECT_FALSE(bad.trace[3].flags & kTracePageDirty);
}

TEST(SyncPageTest, Pre36ReadOnlyRewriteFlushesFromTheEntrySnapshot) {
  const Result r = RunSegments(TwoVcpus({VcpuThread(1, {{OpKind::kSyncRo, 0}})}), PresetRules("pre-3.6"));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "Y1 Y3 U1 U2 FL FL Y4");
}

TEST(SyncPageTest, EmptySlotIsSkipped) {
  TestCase tc = TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}, {OpKind::kSyncRo, 0}})});
  tc.config.init_spte[0] = 0;
  tc.config.init_tlb[0][0] = TlbEntry{};
  const Result r = RunSegments(tc, PresetRules("b9-sync-page-tlbs-dirty"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "Y1 Y4 Y1 Y4");
}

TEST(SyncPageTest, TdpMmuHasNoUnsyncPages) {
  const Result r = RunSegments(TwoVcpus({VcpuThread(1, {{OpKind::kSyncDrop, 0}, {OpKind::kSyncRo, 0}})}),
                               PresetRules("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "");
}

}  // namespace
}  // namespace sptefuzz
