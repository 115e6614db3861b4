// Op zap-atomic: kvm_mmu_zap_collapsible_sptes() for one gfn, the TDP MMU's
// read-lock zap with FROZEN_SPTE (tdp_mmu_zap_spte_atomic, Rules::zap_atomic)
// and how every other actor treats a frozen spte (spec §3.10, I8e).
#include <gtest/gtest.h>

#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kRo = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
constexpr Spte kRwDirty = kRo | kSpteW | kSpteD;

// g0 mapped writable and dirty, cached by vcpu0; dirty logging off (the
// collapsible zap runs when logging is disabled).
TestCase ZapAtomicAlone() {
  TestCase tc;
  tc.config.logging = false;
  tc.config.init_spte[0] = kRwDirty;
  tc.config.init_tlb[0][0] = TlbEntry{true, true, true};
  tc.threads = {KvmThread({{OpKind::kZapAtomic, 0}})};
  return tc;
}

Rules Freeze(const char* preset) {
  Rules r = PresetRules(preset);
  EXPECT_TRUE(SetKnob(r, "zap-atomic", "freeze").ok());
  return r;
}

const TraceStep* FirstStep(const Result& r, Label l) {
  for (const TraceStep& s : r.trace) {
    if (s.label == l) return &s;
  }
  return nullptr;
}

TEST(ZapAtomicTest, KnobValuesPerPreset) {
  // 2db6f772b530 (5.13) .. 35ef80eb29ab (6.13).
  EXPECT_EQ(PresetRules("linux-5.10").zap_atomic, ZapAtomic::kFreeze);
  EXPECT_EQ(PresetRules("linux-5.18").zap_atomic, ZapAtomic::kFreeze);
  EXPECT_EQ(PresetRules("linux-6.13").zap_atomic, ZapAtomic::kNoFreeze);
  EXPECT_EQ(PresetRules("linux-6.15").zap_atomic, ZapAtomic::kNoFreeze);
}

TEST(ZapAtomicTest, FreezeIsCasFlushStoreUnderTheReadLock) {
  for (const char* preset : {"linux-5.18", "linux-6.15"}) {
    const Result r = RunSegments(ZapAtomicAlone(), Freeze(preset));
    ASSERT_EQ(r.outcome, Outcome::kOk) << preset;
    // Z1 (+Z2) at ZA1, Z3 = FL, Z4 = ZA4, all inside the read lock (ZAR..ZAU).
    EXPECT_EQ(LabelsOf(r, 0), "ZA0 ZAR T0 ZA1 FL ZA4 ZAU") << preset;
    const TraceStep* z1 = FirstStep(r, Label::kZA1);
    ASSERT_NE(z1, nullptr);
    EXPECT_EQ(z1->event, Event::kCasOk);
    EXPECT_EQ(z1->before, kRwDirty);
    EXPECT_EQ(z1->after, kSpteFrozen);
    EXPECT_TRUE(z1->flags & kTracePageDirty);  // handle_changed_spte: D to the page
    const TraceStep* z4 = FirstStep(r, Label::kZA4);
    ASSERT_NE(z4, nullptr);
    EXPECT_EQ(z4->before, kSpteFrozen);
    EXPECT_EQ(z4->after, Spte{0});
  }
}

TEST(ZapAtomicTest, NoFreezeIsOneCasAndAFlushBeforeTheUnlock) {
  const Result r = RunSegments(ZapAtomicAlone(), PresetRules("linux-6.15"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZA0 ZAR T0 ZA1 FL ZAU");
  const TraceStep* z1 = FirstStep(r, Label::kZA1);
  ASSERT_NE(z1, nullptr);
  EXPECT_EQ(z1->after, Spte{0});
  EXPECT_TRUE(z1->flags & kTracePageDirty);
}

TEST(ZapAtomicTest, NothingWhileTheSlotLogsOrTheSpteIsNotPresent) {
  TestCase tc = ZapAtomicAlone();
  tc.config.logging = true;
  Result r = RunSegments(tc, PresetRules("linux-6.15"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZA0");
  tc = ZapAtomicAlone();
  tc.config.init_spte[0] = 0;
  tc.config.init_tlb[0][0] = TlbEntry{};
  r = RunSegments(tc, Freeze("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZA0 ZAR T0 ZAU");
}

TEST(ZapAtomicTest, ShadowMmuZapsUnderTheWriteLock) {
  const Result r = RunSegments(ZapAtomicAlone(), PresetRules("linux-4.1"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZA0 ZAR Z1 Z2 FL ZAU");
}

// A TDP fault that finds the spte FROZEN retries (RET_PF_RETRY) and
// installs a new spte only after Z4.
TEST(ZapAtomicTest, TdpFaultMeetsFrozenAndRetries) {
  TestCase tc = ZapAtomicAlone();
  tc.config.init_tlb[0][0] = TlbEntry{};
  tc.threads.push_back(VcpuThread(0, {{OpKind::kFault, 0}}));
  tc.schedule = {{0, SegmentKind::kThrough, Label::kZA1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd},
                 {1, SegmentKind::kToEnd}};
  const Result r = RunSegments(tc, Freeze("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 0), "ZA0 ZAR T0 ZA1 FL ZA4 ZAU");
  const std::string v = LabelsOf(r, 1);
  EXPECT_EQ(v.rfind("S1 R3 T0 R4 S1 R3 T0 T1", 0), 0u) << v;
  // The first T0 saw FROZEN; the fault's cmpxchg came after Z4.
  bool saw_frozen = false;
  for (const TraceStep& s : r.trace) {
    if (s.thread == 1 && s.label == Label::kT0 && !saw_frozen) {
      EXPECT_EQ(s.before, kSpteFrozen);
      saw_frozen = true;
    }
    if (s.thread == 1 && s.label == Label::kT1) {
      EXPECT_EQ(s.before, Spte{0});
      EXPECT_EQ(s.event, Event::kCasOk);
    }
  }
  EXPECT_TRUE(saw_frozen);
}

// A fault whose snapshot (T0) predates the freeze loses its T1 cmpxchg to
// FROZEN and retries (RET_PF_RETRY); it never replaces FROZEN.
TEST(ZapAtomicTest, TdpFaultCasLosesToTheFreeze) {
  TestCase tc = ZapAtomicAlone();
  tc.config.init_spte[0] = kRo;
  tc.config.init_tlb[0][0] = TlbEntry{};
  tc.threads.push_back(VcpuThread(0, {{OpKind::kFault, 0}}));
  tc.schedule = {{1, SegmentKind::kThrough, Label::kT0, 1}, {0, SegmentKind::kThrough, Label::kZA1, 1},
                 {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  const Result r = RunSegments(tc, Freeze("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 1).rfind("S1 R3 T0 T1 R11", 0), 0u) << LabelsOf(r, 1);
  const TraceStep* t1 = FirstStep(r, Label::kT1);
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->event, Event::kCasFail);
  EXPECT_EQ(t1->before, kSpteFrozen);
}

// The fast path treats FROZEN as not present and never cmpxchg's it: a
// write to a read-only MMU-writable spte that the zap froze goes to the
// slow path; one whose F2 load came before the freeze loses its F3 cmpxchg.
TEST(ZapAtomicTest, FastPathNeverCasesFrozen) {
  TestCase tc = ZapAtomicAlone();
  tc.config.init_spte[0] = kRo;
  tc.config.init_tlb[0][0] = TlbEntry{};
  tc.threads.push_back(VcpuThread(0, {{OpKind::kWrite, 0}}));
  // H4 saw the read-only spte (a present write fault, so fast_page_fault()
  // runs); frozen before F2: F2 sees FROZEN -> slow path -> T0 FROZEN -> retry.
  tc.schedule = {{1, SegmentKind::kThrough, Label::kH4, 1}, {0, SegmentKind::kThrough, Label::kZA1, 1},
                 {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  Result r = RunSegments(tc, Freeze("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 1).rfind("H4 F2 S1 R3 T0 R4", 0), 0u) << LabelsOf(r, 1);
  for (const TraceStep& s : r.trace) {
    if (s.label == Label::kF3) ADD_FAILURE() << "the fast path reached F3";
  }
  // F2 loaded the read-only spte before the freeze: its F3 cmpxchg fails on
  // FROZEN, the re-walk (F6) sees FROZEN and the fault goes slow.
  tc.schedule = {{1, SegmentKind::kThrough, Label::kF2, 1}, {0, SegmentKind::kThrough, Label::kZA1, 1},
                 {1, SegmentKind::kThrough, Label::kF6, 1}, {0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  r = RunSegments(tc, Freeze("linux-5.18"));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 1).rfind("H4 F2 F3 F6", 0), 0u) << LabelsOf(r, 1);
  const TraceStep* f3 = FirstStep(r, Label::kF3);
  ASSERT_NE(f3, nullptr);
  EXPECT_EQ(f3->event, Event::kCasFail);
  EXPECT_EQ(f3->before, kSpteFrozen);
  EXPECT_EQ(f3->after, kSpteFrozen);
}

// I8e breaks on purpose: a fault that installs over FROZEN.
TEST(ZapAtomicTest, OverwritingFrozenBreaksI8e) {
  TestCase tc = ZapAtomicAlone();
  tc.config.init_tlb[0][0] = TlbEntry{};
  tc.threads.push_back(VcpuThread(0, {{OpKind::kFault, 0}}));
  tc.schedule = {{0, SegmentKind::kThrough, Label::kZA1, 1}, {1, SegmentKind::kToEnd}, {0, SegmentKind::kToEnd}};
  Rules rules = Freeze("linux-5.18");
  ASSERT_TRUE(SetKnob(rules, "plant", "fault-overwrites-frozen").ok());
  const Result r = RunSegments(tc, rules);
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kSpteBits);
  EXPECT_NE(r.violations[0].explanation.find("I8e"), std::string::npos) << r.violations[0].explanation;
}

}  // namespace
}  // namespace sptefuzz
