// Each actor's step list, run alone (or with a partner) from a known state.
#include <gtest/gtest.h>

#include "core/scenarios.h"
#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kRo = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
constexpr Spte kRwDirty = kRo | kSpteW | kSpteD;

TestCase One(ThreadSpec t, Spte init, bool logging = true, bool ad = true) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.ad = ad;
  tc.config.logging = logging;
  tc.config.init_spte[0] = init;
  tc.threads = {std::move(t)};
  return tc;
}

Result Run36(const TestCase& tc) { return RunSegments(tc, PresetRules("linux-3.6")); }

TEST(GuestAccessTest, WriteToReadOnlyMmuWritableTakesTheFastPath) {
  Result r = Run36(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRo));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "H4 F2 F3 F4 H4 H4.cas");
  EXPECT_EQ(r.trace.back().after, kRwDirty);
  EXPECT_TRUE(r.trace.back().flags & kTraceWrite);
}

TEST(GuestAccessTest, TlbHitWithDirtyEntryTouchesNoMemory) {
  TestCase tc = One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRwDirty);
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "H2");
  EXPECT_EQ(r.trace[0].event, Event::kTlbHit);
  EXPECT_EQ(r.trace[0].before, r.trace[0].after);
}

TEST(GuestAccessTest, DAssistStrictIsLoadThenCas) {
  TestCase tc = One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRo | kSpteW);
  tc.config.init_tlb[0][0] = TlbEntry{true, true, false};
  Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "H2 H2.cas");
  EXPECT_EQ(r.trace.back().after, kRwDirty);
}

TEST(GuestAccessTest, DAssistAdversarialIsOneOr) {
  TestCase tc = One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRo | kSpteW);
  tc.config.init_tlb[0][0] = TlbEntry{true, true, false};
  tc.config.dassist = DAssist::kAdversarial;
  Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "H2");
  EXPECT_EQ(r.trace[0].event, Event::kOr);
  EXPECT_EQ(r.trace[0].after, kRwDirty);
}

TEST(GuestAccessTest, ReadMissOnUnmappedGoesToTheSlowPath) {
  Result r = Run36(One(VcpuThread(0, {{OpKind::kRead, 0}}), 0, /*logging=*/false));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  // Not present: the fast path is not even tried (error code P=0).
  EXPECT_EQ(LabelsOf(r, 0), "H4 S1 S3 S6 S7 U1 U2 S11 H4");
  // 3.6 set_spte installs W|MMU_W|HOST_W and A, never D.
  EXPECT_EQ(r.trace.back().before, kRo | kSpteW);
}

TEST(GuestAccessTest, WithoutAdTheWalkFillsWithoutCas) {
  Result r = Run36(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kSptePresent | kSpteW | kSpteHostW | kSpteMmuW, true, false));
  EXPECT_EQ(LabelsOf(r, 0), "H4");
  EXPECT_TRUE(r.trace[0].flags & kTraceTlbFill);
}

TEST(SlowPathTest, FaultOpSkipsTheFastPathAndRetriesTheWrite) {
  Result r = Run36(One(VcpuThread(0, {{OpKind::kFault, 0}}), kRo));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  // U2 is an xchg: a locklessly-modifiable spte is volatile in 3.6.
  EXPECT_EQ(LabelsOf(r, 0), "S1 S3 S6 S7 U1 U2 S11 H4 H4.cas");
  for (const TraceStep& s : r.trace) {
    if (s.label == Label::kU2) EXPECT_EQ(s.event, Event::kXchg);
  }
}

TEST(SlowPathTest, Pre36RereadsForTheFlushCheck) {
  Result r = RunSegments(One(VcpuThread(0, {{OpKind::kFault, 0}}), kRo), PresetRules("pre-3.6"));
  EXPECT_EQ(LabelsOf(r, 0), "S1 S3 S6 S7 U1 U2 S9 S11 H4 H4.cas");
}

TEST(InvalidateTest, ZapFlushesAndTransfersDirty) {
  TestCase tc = One(KvmThread({{OpKind::kWriteback, 0}}), kRwDirty);
  Result r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "N1 Z1 Z2 FL N2 WB N3 N4");
  const TraceStep& wb = r.trace[5];
  EXPECT_EQ(wb.event, Event::kPageDirty);
  EXPECT_EQ(wb.aux, 1u);  // the page was dirty
}

TEST(InvalidateTest, UnmappedPageIsNotTouched) {
  Result r = Run36(One(KvmThread({{OpKind::kZap, 0}}), 0));
  EXPECT_EQ(LabelsOf(r, 0), "N1 N2 N3 N4");
}

TEST(AgeTest, AdClearsAccessedAndFlushes) {
  Result r = Run36(One(KvmThread({{OpKind::kAge, 0}}), kRo));
  EXPECT_EQ(LabelsOf(r, 0), "A1 A2 A3 FL A4");
  EXPECT_EQ(r.trace[2].after, kRo & ~kSpteA);
}

TEST(AgeTest, WithoutAdZaps) {
  Result r = Run36(One(KvmThread({{OpKind::kAge, 0}}), kSptePresent | kSpteHostW | kSpteMmuW, true, false));
  EXPECT_EQ(LabelsOf(r, 0), "A1 Z1 Z2 FL A4");
}

TEST(WriteProtectTest, PtProtectClearsMmuWritableOfReadOnlySpte) {
  Result r = Run36(One(KvmThread({{OpKind::kWpPt, 0}}), kRo));
  EXPECT_EQ(LabelsOf(r, 0), "P1 W1 U1 U2 P4");
  EXPECT_EQ(r.trace[3].after, kRo & ~kSpteMmuW);
}

TEST(WriteProtectTest, V5SkipsReadOnlySpte) {
  Result r = RunSegments(One(KvmThread({{OpKind::kWpPt, 0}}), kRo), PresetRules("v5-patch"));
  EXPECT_EQ(LabelsOf(r, 0), "P1 W1 P4");
}

TEST(WriteProtectTest, WritableSpteIsProtectedAndFlushed) {
  Result r = Run36(One(KvmThread({{OpKind::kWpPt, 0}}), kRwDirty));
  EXPECT_EQ(LabelsOf(r, 0), "P1 W1 U1 U2 FL P4");
}

TEST(DirtyLogTest, EnableWriteProtectsAndAlwaysFlushes) {
  Result r = Run36(One(KvmThread({{OpKind::kEnableLog, 0}}), kRwDirty, /*logging=*/false));
  EXPECT_EQ(LabelsOf(r, 0), "L1 L2 W1 U1 U2 FL L3");
  EXPECT_EQ(r.trace[4].after, kRo | kSpteD);
}

TEST(DirtyLogTest, HarvestReportsWriteProtectsAndFlushesInsideTheLock) {
  TestCase tc = One(KvmThread({{OpKind::kHarvest, 0}}), kRwDirty);
  tc.config.init_bitmap = 1;
  Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "G1 G2 W1 U1 U2 FL G4");
  EXPECT_EQ(r.trace[1].aux, 1u);
}

TEST(DirtyLogTest, HarvestAfterUnlockFlushesLast) {
  TestCase tc = One(KvmThread({{OpKind::kHarvest, 0}}), kRwDirty);
  tc.config.init_bitmap = 1;
  Rules r315 = PresetRules("linux-3.6");
  r315.harvest_flush = HarvestFlush::kAfterUnlock;
  Result r = RunSegments(tc, r315);
  EXPECT_EQ(LabelsOf(r, 0), "G1 G2 W1 U1 U2 G4 FL");
}

TEST(DirtyLogTest, HarvestWithoutLoggingDoesNothing) {
  Result r = Run36(One(KvmThread({{OpKind::kHarvest, 0}}), kRwDirty, /*logging=*/false));
  EXPECT_EQ(LabelsOf(r, 0), "G1 G4");
}

TEST(NotifierTest, SlowPathRetriesDuringAnInvalidation) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = 0;
  tc.threads = {KvmThread({{OpKind::kZap, 0}}), VcpuThread(0, {{OpKind::kWrite, 0}})};
  // The fault reads the sequence, then the invalidation starts and returns,
  // then the fault takes the lock: it must retry (S4).
  tc.schedule = {{1, SegmentKind::kThrough, Label::kS1, 1}, {0, SegmentKind::kThrough, Label::kN2, 1},
                 {1, SegmentKind::kThrough, Label::kS4, 1}, {0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  Result r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.violations[0].explanation;
  EXPECT_EQ(LabelsOf(r, 1), "H4 S1 S3 S4 S1 S3 S6 S7 U1 U2 S11 H4 H4.cas");
}

TEST(FlushTest, FlushWaitsForAVcpuInALocklessWalk) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRo;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 0}}), KvmThread({{OpKind::kAge, 0}})};
  // The vCPU enters the fast path (F2); the ager wants to flush: its FL must
  // wait until the vCPU leaves the lockless walk.
  tc.schedule = {{0, SegmentKind::kThrough, Label::kF2, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd},
                 {1, SegmentKind::kToEnd}};
  Result r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  std::string s = StepList(r);
  EXPECT_NE(s.find("0:F2 1:A1 1:A2 1:A3 0:F3"), std::string::npos) << s;
}

// ---- PML (spec §3.1, §3.6) ----

TestCase Pml(TestCase tc) {
  tc.config.pml = true;
  return tc;
}

Result Run615(const TestCase& tc) { return RunSegments(tc, PresetRules("linux-6.15")); }

uint8_t PmlDrained(const Result& r, Label l) {
  for (const TraceStep& s : r.trace) {
    if (s.label == l) return static_cast<uint8_t>(s.aux);
  }
  return 0xff;
}

TEST(PmlTest, WalkThatSetsDAppendsToTheVcpusBuffer) {
  // A write walk over a clean writable spte sets D: PML logs g0, the
  // harvest's kick drains it into the bitmap (PK) before the xchg (G2).
  TestCase tc = Pml(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRo | kSpteW));
  tc.threads.push_back(KvmThread({{OpKind::kHarvest, 0}}));
  const Result r = Run615(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "H4 H4.cas");
  EXPECT_TRUE(r.trace[1].flags & kTracePml);
  // PML mode: the harvest clears D (TW), not W, and flushes.
  EXPECT_EQ(LabelsOf(r, 1), "G1 PK G2 T0 TW G4 FL");
  EXPECT_EQ(PmlDrained(r, Label::kPK), 1u);
  for (const TraceStep& s : r.trace) {
    if (s.label == Label::kTW) EXPECT_EQ(s.after, kRo | kSpteW) << "D cleared, W kept";
  }
}

TEST(PmlTest, WalkOverADirtySpteLogsNothing) {
  const Result r = Run615(Pml(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRwDirty)));
  EXPECT_EQ(LabelsOf(r, 0), "H4");  // A and D already set: no locked update, no D transition
  EXPECT_FALSE(r.trace[0].flags & kTracePml);
  // ... so the write is unlogged: the spte was dirty (logged) before logging started.
  EXPECT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kLostDirtyLog);
}

TEST(PmlTest, DAssistOnACleanEntryLogsAndADirtyEntryDoesNot) {
  TestCase clean = Pml(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRo | kSpteW));
  clean.config.init_tlb[0][0] = TlbEntry{true, true, false};
  const Result a = Run615(clean);
  ASSERT_EQ(a.outcome, Outcome::kOk) << StepList(a);  // the write is in vcpu0's PML buffer (I1')
  EXPECT_EQ(LabelsOf(a, 0), "H2 H2.cas");
  EXPECT_TRUE(a.trace[1].flags & kTracePml);

  TestCase dirty = Pml(One(VcpuThread(0, {{OpKind::kWrite, 0}}), kRwDirty));
  dirty.config.init_tlb[0][0] = TlbEntry{true, true, true};
  const Result b = Run615(dirty);
  EXPECT_EQ(LabelsOf(b, 0), "H2");  // no D transition: no PML entry, the write is lost to the log
  ASSERT_EQ(b.outcome, Outcome::kViolation);
  EXPECT_EQ(b.violations[0].invariant, Invariant::kLostDirtyLog);

  TestCase adv = clean;
  adv.config.dassist = DAssist::kAdversarial;
  const Result c = Run615(adv);
  EXPECT_EQ(LabelsOf(c, 0), "H2");
  EXPECT_TRUE(c.trace[0].flags & kTracePml);
  EXPECT_EQ(c.outcome, Outcome::kOk);
}

TEST(PmlTest, VmExitDrainsTheBufferBeforeTheFault) {
  // vcpu0 dirties g0 (PML entry), then faults on the unmapped g1: the exit
  // drains g0 into the bitmap (PX) before the fault is handled.
  TestCase tc = Pml(One(VcpuThread(0, {{OpKind::kWrite, 0}, {OpKind::kWrite, 1}}), kRo | kSpteW));
  tc.config.gfns = 2;
  const Result r = Run615(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "H4 H4.cas H4 PX S1 R3 T0 T1 T2 R11 H4");
  EXPECT_EQ(PmlDrained(r, Label::kPX), 1u);
}

TEST(PmlTest, NeedsAKernelWithPmlSupport) {
  // 3.6 has no PML: pml=on changes nothing, the harvest write-protects.
  TestCase tc = Pml(One(KvmThread({{OpKind::kHarvest, 0}}), kRwDirty));
  tc.config.init_bitmap = 1;
  const Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "G1 G2 W1 U1 U2 FL G4");
  Rules with = PresetRules("linux-3.6");
  ASSERT_TRUE(SetKnob(with, "pml-support", "on").ok());
  const Result p = RunSegments(tc, with);
  // spte_clear_dirty(): D1 reads, mmu_spte_update() clears D.
  EXPECT_EQ(LabelsOf(p, 0), "G1 PK G2 D1 U1 U2 FL G4");
  EXPECT_EQ(p.trace[p.trace.size() - 3].after, kRo | kSpteW);
}

TEST(PmlTest, EnableLoggingClearsDirty) {
  // TDP MMU: clear_dirty_gfn_range() under the read lock, then the flush
  // (b64d740ea7dd). Shadow MMU (4.12): __rmap_clear_dirty(), flushed because D was cleared.
  const Result tdp = Run615(Pml(One(KvmThread({{OpKind::kEnableLog, 0}}), kRwDirty, /*logging=*/false)));
  EXPECT_EQ(LabelsOf(tdp, 0), "L1 L2 T0 T1 L5 FL L6");
  EXPECT_EQ(tdp.trace[3].after, kRo | kSpteW);
  const Result shadow =
      RunSegments(Pml(One(KvmThread({{OpKind::kEnableLog, 0}}), kRwDirty, /*logging=*/false)), PresetRules("linux-4.12"));
  EXPECT_EQ(LabelsOf(shadow, 0), "L1 L2 D1 U1 U2 L5 FL L6");
  EXPECT_EQ(shadow.trace[4].after, kRo | kSpteW);
}

TEST(PmlTest, ValidationNeedsAd) {
  TestCase tc = Pml(One(VcpuThread(0, {{OpKind::kRead, 0}}), 0, true, /*ad=*/false));
  EXPECT_FALSE(ValidateTestCase(tc).ok());
  tc.config.ad = true;
  EXPECT_TRUE(ValidateTestCase(tc).ok());
}

// The S11 harvest mutations. if-changed (any mode): lockless aging made the
// A/D-disabled g0 access-tracked (W gone) without a flush, so the harvest
// finds no W to clear and skips its flush: B8's pattern, on the harvest.
// if-d-cleared keeps write-protect mode's unconditional flush.
TEST(DirtyLogTest, HarvestFlushMutations) {
  TestCase tc = One(KvmThread({{OpKind::kAge, 0}, {OpKind::kHarvest, 0}}),
                    kSptePresent | kSpteW | kSpteHostW | kSpteMmuW, /*logging=*/true, /*ad=*/false);
  tc.config.init_tlb[0][0] = TlbEntry{true, true, false};
  tc.config.init_bitmap = 1;
  Rules r = PresetRules("linux-6.15");
  ASSERT_TRUE(SetKnob(r, "harvest-flush", "if-changed").ok());
  const Result bad = RunSegments(tc, r);
  ASSERT_EQ(bad.outcome, Outcome::kViolation) << StepList(bad);
  EXPECT_EQ(bad.violations[0].invariant, Invariant::kStaleTlbAfterDirtyLog);
  EXPECT_EQ(LabelsOf(bad, 0), "T0 A5 T1 G1 G2 T0 G4");
  ASSERT_TRUE(SetKnob(r, "harvest-flush", "if-d-cleared").ok());
  const Result ok = RunSegments(tc, r);
  EXPECT_EQ(ok.outcome, Outcome::kOk) << StepList(ok);
  EXPECT_EQ(LabelsOf(ok, 0), "T0 A5 T1 G1 G2 T0 G4 FL");
}

// ---- make_spte()'s D (Rules::make_spte_d) ----

TEST(MakeSpteTest, SlowPathCreatesWritableSptesDirtyFrom41) {
  const TestCase tc = One(VcpuThread(0, {{OpKind::kRead, 0}}), 0, /*logging=*/false);
  // 3.6: W without D (see ReadMissOnUnmappedGoesToTheSlowPath); 4.1
  // (9b51a63024bd): W with D.
  const Result r = RunSegments(tc, PresetRules("linux-4.1"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.trace.back().before, kRwDirty);
}

TEST(MakeSpteTest, TdpFaultOverAWritableSpte) {
  // A write fault that lost the race: the spte is already {P W A D HW MW}.
  const TestCase tc = One(VcpuThread(0, {{OpKind::kFault, 0}}), kRwDirty);
  Rules r518 = PresetRules("linux-5.18");  // 8b8f9d753b84: D skipped, the spte is rebuilt clean
  const Result a = RunSegments(tc, r518);
  EXPECT_EQ(LabelsOf(a, 0), "S1 R3 T0 T1 R11 H4 H4.cas");
  EXPECT_EQ(a.trace[3].after, kRo | kSpteW);
  ASSERT_TRUE(SetKnob(r518, "make-spte-d", "if-writable").ok());  // cc7ed3358e41: the same spte, spurious
  EXPECT_EQ(LabelsOf(RunSegments(tc, r518), 0), "S1 R3 T0 R11 H4");
  Rules r510 = PresetRules("linux-5.10");  // faults passed can_unsync: D was always set
  EXPECT_EQ(LabelsOf(RunSegments(tc, r510), 0), "S1 R3 T0 R11 H4");
  // 6.13+: spurious before make_spte() (386d69f9f29b), whatever the D rule.
  Rules r615 = PresetRules("linux-6.15");
  ASSERT_TRUE(SetKnob(r615, "make-spte-d", "skip-if-old-w").ok());
  EXPECT_EQ(LabelsOf(RunSegments(tc, r615), 0), "S1 R3 T0 R11 H4");
}

// Config large=on (spec B4): one large leaf in slot g0 maps g0..g3.
constexpr Spte kLargeRw = kSptePresent | kSpteA | kSpteW | kSpteLarge | kSpteHostW | kSpteMmuW;

TestCase LargeCase(std::vector<ThreadSpec> threads, Spte leaf = kLargeRw) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 4;
  tc.config.logging = false;
  tc.config.large = true;
  tc.config.init_spte[0] = leaf;
  tc.threads = std::move(threads);
  return tc;
}

// Enable logging (thread 0, to the end), then vcpu0 writes g2 (thread 1).
TestCase EnableThenWriteG2() {
  return LargeCase({KvmThread({{OpKind::kEnableLog, 0}}), VcpuThread(0, {{OpKind::kWrite, 2}})});
}

TEST(LargeLeafTest, FastPathFixesTheLargeLeafAndLogsItsBaseGfn) {
  // b4: "lazily drop large spte" as first merged: RO large leaves kept, the
  // fast path not limited to 4K leaves.
  const Result r = RunSegments(EnableThenWriteG2(), PresetRules("b4-fast-pf-large-spte-logs-base-gfn"));
  EXPECT_EQ(LabelsOf(r, 0), "L1 L2 W1 U1 U2 L5 FL L6");
  EXPECT_EQ(r.trace[4].after, kLargeRw & ~kSpteW);  // kept, read-only, MMU-writable
  EXPECT_EQ(LabelsOf(r, 1), "H4 F2 F3 F4 H4 H4.cas");
  const TraceStep& f4 = r.trace[11];
  ASSERT_EQ(f4.label, Label::kF4);
  EXPECT_EQ(f4.gfn, 0);  // the base gfn, not g2
  EXPECT_TRUE(f4.flags & kTraceBitmap);
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kLostDirtyLog);  // g2's write is never reported
}

TEST(LargeLeafTest, FourKOnlyFastPathLeavesItToTheSlowPathWhichDropsIt) {
  // c126d94f2c90: the fast path refuses the large leaf; the slow path maps
  // 4K on a logging slot: drop_large_spte (zap + flush), then a 4K spte.
  for (const char* knob : {"4k-only", "not-while-logging"}) {
    Rules rules = PresetRules("linux-3.15");
    ASSERT_TRUE(SetKnob(rules, "fast-pf-large", knob).ok());
    const Result r = RunSegments(EnableThenWriteG2(), rules);
    ASSERT_EQ(r.outcome, Outcome::kOk) << knob << ": " << StepList(r);
    EXPECT_EQ(LabelsOf(r, 1), "H4 F2 S1 S3 Z1 Z2 FL S6 S7 U1 U2 S11 H4 H4.cas") << knob;
    EXPECT_EQ(r.trace[13].after, 0u);  // Z2: the large leaf is gone
    const TraceStep& s7 = r.trace[16];
    ASSERT_EQ(s7.label, Label::kS7);
    EXPECT_EQ(s7.gfn, 2);  // g2 itself is logged
    EXPECT_EQ(r.trace.back().gfn, 2);
    EXPECT_FALSE(r.trace.back().after & kSpteLarge);
  }
}

TEST(LargeLeafTest, FastPathOnALargeLeafIsAllowedOnlyWithoutLogging) {
  Rules r = PresetRules("linux-5.18");
  EXPECT_TRUE(FastPfMayFixLarge(r, /*logging=*/false));
  EXPECT_FALSE(FastPfMayFixLarge(r, /*logging=*/true));
  EXPECT_FALSE(FastPfMayFixLarge(PresetRules("linux-3.15"), false));
  EXPECT_TRUE(FastPfMayFixLarge(PresetRules("linux-3.6"), true));
}

TEST(LargeLeafTest, V36WriteProtectionDropsTheLargeLeaf) {
  // 3.6 spte_write_protect(): __drop_large_spte() and a flush; the write
  // then faults on g2's empty 4K slot.
  const Result r = Run36(EnableThenWriteG2());
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "L1 L2 W1 Z1 Z2 FL L3");
  EXPECT_EQ(r.trace[4].after, 0u);
  EXPECT_EQ(LabelsOf(r, 1), "H4 S1 S3 S6 S7 U1 U2 S11 H4 H4.cas");
}

TEST(LargeLeafTest, ZapOfOneGfnTransfersDirtyToEveryPageOfTheLargeLeaf) {
  // kvm_unmap_rmapp() walks every level: writeback of g1 zaps the large
  // leaf; its D goes to the head page of the compound page, i.e. to all.
  const Result r = Run36(LargeCase({KvmThread({{OpKind::kWriteback, 1}, {OpKind::kWriteback, 3}})}, kLargeRw | kSpteD));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "N1 Z1 Z2 FL N2 WB N3 N4 N1 N2 WB N3 N4");
  EXPECT_EQ(r.trace[2].after, 0u);
  EXPECT_EQ(r.trace[5].aux, 1u);   // g1's page is dirty
  EXPECT_EQ(r.trace[10].aux, 1u);  // and so is g3's, with no spte left
}

TEST(LargeLeafTest, WritesThroughTheLargeLeafFillPerGfnTlbEntries) {
  const Result r = Run36(LargeCase({VcpuThread(0, {{OpKind::kWrite, 1}, {OpKind::kWrite, 3}, {OpKind::kRead, 1}})}));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "H4 H4.cas H4 H2");  // g3 misses (its own TLB entry), g1 hits
  EXPECT_EQ(r.trace[1].after, kLargeRw | kSpteD);
  EXPECT_EQ(r.trace[1].gfn, 1);
}

TEST(LargeLeafTest, TdpMmuIgnoresLarge) {
  // Large leaves are modeled for the shadow MMU only: under the TDP MMU g0
  // starts as a 4K leaf and g1 is unmapped.
  const Result r = RunSegments(LargeCase({VcpuThread(0, {{OpKind::kRead, 1}})}), PresetRules("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(r.trace[0].label, Label::kH4);
  EXPECT_EQ(r.trace[0].before, 0u);
}

TEST(LargeLeafTest, Validation) {
  TestCase tc = EnableThenWriteG2();
  EXPECT_TRUE(ValidateTestCase(tc).ok());
  TestCase bad = tc;
  bad.config.logging = true;
  EXPECT_FALSE(ValidateTestCase(bad).ok());
  bad = tc;
  bad.config.init_spte[0] = kLargeRw & ~kSpteW;  // RO but MMU-writable: reached through the ops only
  EXPECT_FALSE(ValidateTestCase(bad).ok());
  bad = tc;
  bad.config.init_spte[1] = kRo;
  EXPECT_FALSE(ValidateTestCase(bad).ok());
  bad = tc;
  bad.config.large = false;  // L without large=on
  EXPECT_FALSE(ValidateTestCase(bad).ok());
  bad = tc;
  bad.config.gfns = 1;
  EXPECT_FALSE(ValidateTestCase(bad).ok());
  tc.config.init_tlb[0][3] = TlbEntry{true, true, false};  // g3 cached from the large leaf
  EXPECT_TRUE(ValidateTestCase(tc).ok());
}

// ---- kvm_zap_gfn_range (op zap-range, Rules::zap_yield_flush, B12) ----

// g0 and g1 mapped writable and dirty, vcpu0 caching both.
TestCase ZapRangeTwoGfns() {
  TestCase tc;
  tc.config.gfns = 2;
  tc.config.init_spte[0] = tc.config.init_spte[1] = kRwDirty;
  tc.config.init_tlb[0][0] = tc.config.init_tlb[0][1] = TlbEntry{true, true, true};
  tc.threads = {KvmThread({{OpKind::kZapRange, 0}})};
  return tc;
}

TEST(ZapRangeTest, FixedRuleFlushesBeforeEveryYield) {
  // a835429cda91: within root 1 (before g1) and at root 2, the pending flush
  // comes first; nothing is left for the end.
  const Result r = RunSegments(ZapRangeTwoGfns(), PresetRules("linux-6.15"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW FL ZY1 ZY2 T0 TW FL ZY1 ZY2 ZR2");
  for (const TraceStep& s : r.trace) {
    if (s.label == Label::kTW) EXPECT_TRUE(s.flags & kTracePageDirty);  // D transferred at the zap
  }
}

TEST(ZapRangeTest, PreFixRuleYieldsAtTheRootChangeWithoutTheFlush) {
  const RulesPreset* b12 = FindPreset("b12-zap-range-yield-forgets-flush");
  ASSERT_NE(b12, nullptr);
  EXPECT_EQ(b12->fixed_by, std::string("linux-6.15"));
  EXPECT_EQ(KnobDiff(b12->rules, PresetRules("linux-6.15")),
            (std::vector<std::pair<std::string, std::string>>{{"zap-yield-flush", "forget-across-roots"}}));
  // Only g0 cached: root 1's own yield (before g1) still flushes; the yield
  // at root 2 does not, the final flush covers g1; nobody caches g1: clean.
  TestCase tc = ZapRangeTwoGfns();
  tc.config.init_tlb[0][1] = TlbEntry{};
  Result r = RunSegments(tc, b12->rules);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW FL ZY1 ZY2 T0 TW ZY1 ZY2 FL ZR2");
  // The flush at the first yield empties vcpu0's TLB; vcpu0 reads g1 while
  // the lock is free and caches it again; then g1 is zapped and mmu_lock is
  // dropped at root 2 with that entry still cached (I10).
  tc.threads.push_back(VcpuThread(0, {{OpKind::kRead, 1}}));
  tc.schedule = {{0, SegmentKind::kThrough, Label::kZY1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  r = RunSegments(tc, b12->rules);
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kFlushPlacement);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW FL ZY1 ZY2 T0 TW ZY1");
  // The same under the fix: FL before the second ZY1.
  r = RunSegments(tc, PresetRules("linux-6.15"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW FL ZY1 ZY2 T0 TW FL ZY1 ZY2 ZR2");
}

TEST(ZapRangeTest, RmapWalkAlwaysFlushesBeforeYielding) {
  // slot_handle_level_range(lock_flush_tlb=true): the knob is TDP-only.
  Rules r = PresetRules("linux-3.6");
  for (const char* v : {"flush-before-yield", "forget-across-roots"}) {
    ASSERT_TRUE(SetKnob(r, "zap-yield-flush", v).ok());
    const Result res = RunSegments(ZapRangeTwoGfns(), r);
    ASSERT_EQ(res.outcome, Outcome::kOk) << v;
    EXPECT_EQ(LabelsOf(res, 0), "ZR1 Z1 Z2 FL ZY1 ZY2 Z1 Z2 FL ZR2") << v;
  }
}

TEST(ZapRangeTest, S12PageTableProtectionDuringTheYield) {
  // Spec §7 S12: the zap yields at root 2; wp-pt and vcpu0's write run while
  // mmu_lock is free. Pre-fix: the run stops at the unflushed yield (I10).
  Result r = RunSegments(ScenarioS12(), PresetRules("b12-zap-range-yield-forgets-flush"));
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kFlushPlacement);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW ZY1");
  // a835429cda91: FL before ZY1; wp-pt finds g0 unmapped, the write faults
  // and is emulated (g0 is now a page table); nothing stale is left.
  r = RunSegments(ScenarioS12(), PresetRules("linux-6.15"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZR1 T0 TW FL ZY1 ZY2 ZR2");
  EXPECT_EQ(LabelsOf(r, 1), "P1 T0 P4");
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// Config indirect=on (spec B3, S3): slot g0 belongs to an indirect shadow
// page; op remap repoints it between gfn g0 and its alias g4.
constexpr Spte kPrefetchedRo = kSptePresent | kSpteHostW | kSpteMmuW;

TestCase IndirectS3() {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.gfns = 1;
  tc.config.logging = true;
  tc.config.indirect = true;
  tc.config.init_spte[0] = kPrefetchedRo;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 0}}), VcpuThread(1, {{OpKind::kRemap, 0}}),
                KvmThread({{OpKind::kHarvest, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kF2, 1}, {1, SegmentKind::kToEnd}, {2, SegmentKind::kToEnd},
                 {0, SegmentKind::kToEnd}};
  return tc;
}

TEST(IndirectTest, RemapZapsPrefetchesTheNewGfnAndSkipsTheRemoteFlush) {
  TestCase tc = IndirectS3();
  tc.threads = {VcpuThread(1, {{OpKind::kRemap, 0}, {OpKind::kRemap, 0}})};
  tc.schedule.clear();
  const Result r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  // kvm_mmu_pte_write: zap, prefetch (set_spte logs the new gfn), no remote
  // flush (same pfn, no right lost), local flush + unlock.
  EXPECT_EQ(LabelsOf(r, 0), "R1 Z1 Z2 S7 U1 U2 R2 R1 Z1 Z2 S7 U1 U2 R2");
  EXPECT_EQ(r.trace[3].aux, 4u + 1);  // S7 marks g4 (shown as "(gfn g4)")
  EXPECT_EQ(r.trace[5].after, kSptePresent | kSpteHostW | kSpteW | kSpteMmuW);
  EXPECT_EQ(r.trace[10].aux, 0u);  // the second remap goes back to g0 itself
}

TEST(IndirectTest, RemapWithoutPrefetchFlushesRemotely) {
  // gfn_to_pfn_atomic gives no host-writable pfn for a KSM page (change-pte
  // made g0's page read-only): no prefetch, need_remote_flush(present, 0).
  TestCase tc = IndirectS3();
  tc.threads = {KvmThread({{OpKind::kChangePte, 0}}), VcpuThread(1, {{OpKind::kRemap, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  Result r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 1), "R1 Z1 Z2 FL FL R2");
  // Inside an invalidation (after range_start zapped the slot): no prefetch either.
  tc.threads = {KvmThread({{OpKind::kZap, 0}}), VcpuThread(1, {{OpKind::kRemap, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kN2, 1}, {1, SegmentKind::kToEnd}};
  r = Run36(tc);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 1), "R1 R2");
}

TEST(IndirectTest, AllowedFastPathLogsTheGfnItReadBeforeTheCas) {
  // b3: the cmpxchg succeeds on the refilled value (ABA): I6 at F3.
  Result r = RunSegments(IndirectS3(), PresetRules("b3-fast-pf-indirect-sp-aba"));
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kIllegalFastPathWrite);
  EXPECT_EQ(r.trace.back().label, Label::kF3);
  // Without the I6 oracle's verdict the run goes on to F4 logging g0 and the
  // write landing in g4: I1 at the end. Shown by the same run with the I6
  // check out of the way: a second CAS window is not needed, so compare the
  // gfn the fast path marks (F4, slot g0, no alias) with the slot's (g4).
  EXPECT_NE(r.violations[0].explanation.find("now maps gfn g4"), std::string::npos);
  EXPECT_NE(r.violations[0].explanation.find("read gfn g0"), std::string::npos);
}

TEST(IndirectTest, DirectOnlyFastPathSendsIndirectFaultsToTheSlowPath) {
  Rules rules = PresetRules("b3-fast-pf-indirect-sp-aba");
  ASSERT_TRUE(SetKnob(rules, "fast-pf-indirect", "direct-only").ok());
  EXPECT_EQ(rules, PresetRules("linux-3.6"));
  const Result r = RunSegments(IndirectS3(), rules);
  ASSERT_EQ(r.outcome, Outcome::kOk) << StepList(r);
  EXPECT_EQ(LabelsOf(r, 0), "H4 S1 S3 S6 S7 U1 U2 S11 H4 H4.cas");
}

TEST(IndirectTest, WithoutIndirectRemapIsInvisibleToKvm) {
  TestCase tc = IndirectS3();
  tc.config.indirect = false;
  tc.threads = {VcpuThread(1, {{OpKind::kRemap, 0}})};
  tc.schedule.clear();
  const Result r = Run36(tc);
  EXPECT_EQ(LabelsOf(r, 0), "R0");
  // And the TDP MMU ignores indirect=on.
  tc.config.indirect = true;
  EXPECT_EQ(LabelsOf(RunSegments(tc, PresetRules("linux-6.15")), 0), "R0");
}

TEST(IndirectTest, ValidationRefusesWhatIndirectDoesNotModel) {
  TestCase tc = IndirectS3();
  EXPECT_TRUE(ValidateTestCase(tc).ok());
  tc.threads.push_back(KvmThread({{OpKind::kWpPt, 0}}));
  EXPECT_FALSE(ValidateTestCase(tc).ok());
  tc = IndirectS3();
  tc.config.ad = false;
  tc.config.init_spte[0] = kPrefetchedRo;
  EXPECT_FALSE(ValidateTestCase(tc).ok());
}

}  // namespace
}  // namespace sptefuzz
