// Every invariant, broken on purpose: each test builds the smallest run that
// violates it and checks the name, the step and the explanation.
#include "core/invariants.h"

#include <gtest/gtest.h>

#include "core/scenarios.h"
#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kRo = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
constexpr Spte kRwDirty = kRo | kSpteW | kSpteD;

Rules Planted(Plant p) {
  Rules r = PresetRules("linux-3.6");
  r.plant = p;
  return r;
}

void ExpectPrimary(const Result& r, Invariant inv) {
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, inv) << InvariantName(r.violations[0].invariant) << ": "
                                            << r.violations[0].explanation;
  EXPECT_FALSE(r.violations[0].explanation.empty());
}

TEST(InvariantNamesTest, KebabCaseNamesFromDesign) {
  EXPECT_STREQ(InvariantName(Invariant::kLostDirtyLog), "lost-dirty-log");
  EXPECT_STREQ(InvariantName(Invariant::kLostPageDirty), "lost-page-dirty");
  EXPECT_STREQ(InvariantName(Invariant::kStaleTlbAfterPtProtect), "stale-tlb-after-pt-protect");
  EXPECT_STREQ(InvariantName(Invariant::kStaleTlbAfterDirtyLog), "stale-tlb-after-dirty-log");
  EXPECT_STREQ(InvariantName(Invariant::kLostAccessed), "lost-accessed");
  EXPECT_STREQ(InvariantName(Invariant::kIllegalFastPathWrite), "illegal-fast-path-write");
  EXPECT_STREQ(InvariantName(Invariant::kZapIncomplete), "zap-incomplete");
  EXPECT_STREQ(InvariantName(Invariant::kSpteBits), "spte-bits");
  EXPECT_STREQ(InvariantName(Invariant::kResurrectedBits), "resurrected-bits");
  EXPECT_STREQ(InvariantName(Invariant::kFlushPlacement), "flush-placement");
  for (int i = 0; i < kInvariantCount; ++i) {
    auto inv = static_cast<Invariant>(i);
    EXPECT_EQ(ParseInvariant(InvariantName(inv)), inv);
  }
  EXPECT_EQ(ParseInvariant("I2"), Invariant::kLostPageDirty);
  EXPECT_FALSE(ParseInvariant("nope").has_value());
}

// I1: a lockless W set that is never logged loses a write at the final harvest.
TEST(BreakTest, LostDirtyLog) {
  TestCase tc;
  tc.config.logging = true;
  tc.config.init_spte[0] = kRo;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 0}})};
  const Result r = RunSegments(tc, Planted(Plant::kFastPfNoMarkDirty));
  ExpectPrimary(r, Invariant::kLostDirtyLog);
  EXPECT_EQ(r.violations[0].step, 0u);  // at the end of the run
  EXPECT_EQ(RunSegments(tc, PresetRules("linux-3.6")).outcome, Outcome::kOk);
}

// I2: spec S1 under the v5 rules.
TEST(BreakTest, LostPageDirty) {
  const Result r = RunSegments(ScenarioS1(), PresetRules("v5-patch"));
  ExpectPrimary(r, Invariant::kLostPageDirty);
  EXPECT_EQ(r.trace[r.violations[0].step - 1].label, Label::kWB);
  EXPECT_NE(r.violations[0].explanation.find("H4.cas"), std::string::npos) << r.violations[0].explanation;
}

// I3: spec S2 under the v5 rules.
TEST(BreakTest, StaleTlbAfterPtProtect) {
  ExpectPrimary(RunSegments(ScenarioS2(), PresetRules("v5-patch")), Invariant::kStaleTlbAfterPtProtect);
}

// I4: a harvest that never flushes returns with a writable TLB entry.
TEST(BreakTest, StaleTlbAfterDirtyLog) {
  TestCase tc;
  tc.config.logging = true;
  tc.config.init_spte[0] = kRwDirty;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.config.init_bitmap = 1;
  tc.threads = {KvmThread({{OpKind::kHarvest, 0}})};
  Rules r = PresetRules("linux-3.6");
  r.harvest_flush = HarvestFlush::kNever;
  const Result res = RunSegments(tc, r);
  ExpectPrimary(res, Invariant::kStaleTlbAfterDirtyLog);
  EXPECT_EQ(res.trace[res.violations[0].step - 1].label, Label::kG4);
  EXPECT_EQ(RunSegments(tc, PresetRules("linux-3.6")).outcome, Outcome::kOk);
}

// I4 in PML mode: a harvest that never flushes returns with a dirty (d=1)
// TLB entry (D cleared in memory, writes through the entry leave no PML
// entry); a clean writable entry is fine (its first write logs through the
// D-assist). Spec S11 under the B11 preset is the same failure found by a race.
TEST(BreakTest, StaleTlbAfterDirtyLogPml) {
  TestCase tc;
  tc.config.logging = true;
  tc.config.pml = true;
  tc.config.init_spte[0] = kRwDirty;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.config.init_bitmap = 1;
  tc.threads = {KvmThread({{OpKind::kHarvest, 0}})};
  Rules r = PresetRules("linux-6.15");
  r.harvest_flush = HarvestFlush::kNever;
  const Result res = RunSegments(tc, r);
  ExpectPrimary(res, Invariant::kStaleTlbAfterDirtyLog);
  EXPECT_NE(res.violations[0].explanation.find("dirty translation"), std::string::npos);
  tc.config.init_tlb[0][0] = TlbEntry{true, true, false};
  EXPECT_EQ(RunSegments(tc, r).outcome, Outcome::kOk);
  ExpectPrimary(RunSegments(ScenarioS11(), PresetRules("b11-make-spte-skips-d-conditional-harvest-flush")),
                Invariant::kStaleTlbAfterDirtyLog);
}

// I5 (opt-in STRICT_A): a plain store computed before a hardware walk set A
// drops it (Avi's literal predicate treats the A=0 spte as non-volatile).
TEST(BreakTest, LostAccessed) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.logging = true;
  tc.config.init_spte[0] = kSptePresent | kSpteD | kSpteW | kSpteHostW | kSpteMmuW;  // A clear
  tc.config.init_bitmap = 1;
  tc.threads = {KvmThread({{OpKind::kHarvest, 0}}), VcpuThread(0, {{OpKind::kRead, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kU1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  Rules r = PresetRules("avi-proposal-literal");
  r.strict_a = true;
  ExpectPrimary(RunSegments(tc, r), Invariant::kLostAccessed);
  r.strict_a = false;  // off by default: A may be lost
  EXPECT_EQ(RunSegments(tc, r).outcome, Outcome::kOk);
}

// I6: the fast path sets W after page-table write protection skipped the
// read-only spte (before the lock is released, so I3 is not yet armed).
TEST(BreakTest, IllegalFastPathWrite) {
  TestCase tc;
  tc.config.init_spte[0] = kRo;
  tc.threads = {KvmThread({{OpKind::kWpPt, 0}}), VcpuThread(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kW1, 1}, {1, SegmentKind::kToEnd}};
  const Result r = RunSegments(tc, PresetRules("v5-patch"));
  ExpectPrimary(r, Invariant::kIllegalFastPathWrite);
  EXPECT_EQ(r.trace[r.violations[0].step - 1].label, Label::kF3);
  EXPECT_EQ(RunSegments(tc, PresetRules("linux-3.6")).outcome, Outcome::kOk);
}

// I7: a fault that ignores mmu_notifier_retry installs an spte while an
// invalidation is between range_start and range_end.
TEST(BreakTest, ZapIncomplete) {
  TestCase tc;
  tc.config.init_spte[0] = kRwDirty;
  tc.threads = {KvmThread({{OpKind::kZap, 0}}), VcpuThread(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kN2, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  const Result r = RunSegments(tc, Planted(Plant::kFaultIgnoresNotifier));
  ExpectPrimary(r, Invariant::kZapIncomplete);
  EXPECT_EQ(RunSegments(tc, PresetRules("linux-3.6")).outcome, Outcome::kOk);
}

// I8: a writable spte without MMU-writable.
TEST(BreakTest, SpteBits) {
  TestCase tc;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 0}})};
  const Result r = RunSegments(tc, Planted(Plant::kSlowPathWNoMmuW));
  ExpectPrimary(r, Invariant::kSpteBits);
  EXPECT_NE(r.violations[0].explanation.find("I8a"), std::string::npos);
}

// I9: the v5 slow path's plain store undoes the W and D that the fast path
// and the CPU set after its U1 read.
TEST(BreakTest, ResurrectedBits) {
  TestCase tc;
  tc.config.vcpus = 2;
  tc.config.init_spte[0] = kRo;
  tc.threads = {VcpuThread(1, {{OpKind::kFault, 0}}), VcpuThread(0, {{OpKind::kWrite, 0}})};
  tc.schedule = {{0, SegmentKind::kThrough, Label::kU1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  const Result r = RunSegments(tc, PresetRules("v5-patch"));
  ExpectPrimary(r, Invariant::kResurrectedBits);
  EXPECT_EQ(r.trace[r.violations[0].step - 1].label, Label::kU2);
  EXPECT_EQ(RunSegments(tc, PresetRules("linux-3.6")).outcome, Outcome::kOk);
}

// I10: spec S5, the B5 mutation (3.6 flush predicate with 3.15 placement).
TEST(BreakTest, FlushPlacement) {
  Rules r = PresetRules("linux-3.6");
  r.harvest_flush = HarvestFlush::kAfterUnlock;
  ExpectPrimary(RunSegments(ScenarioS5(), r), Invariant::kFlushPlacement);
}

}  // namespace
}  // namespace sptefuzz
