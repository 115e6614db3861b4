// Ground-truth scenarios of spec §7 driven by explicit schedules.
#include "core/scenarios.h"

#include <gtest/gtest.h>

#include "core/test_util.h"

namespace sptefuzz {
namespace {

constexpr Spte kRoMmuW = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;

TEST(ScenarioS1, V5PatchLosesPageDirty) {
  const Result r = RunSegments(ScenarioS1(), PresetRules("v5-patch"));
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kLostPageDirty) << r.violations[0].explanation;
  // The interleaving of spec §7 S1: K reads at Z1, the vCPU's write goes
  // through the fast path and a walk that sets D, then K's plain store.
  EXPECT_EQ(LabelsOf(r, 1), "H4 F2 F3 F4 H4 H4.cas");
  EXPECT_EQ(LabelsOf(r, 0), "N1 Z1 Z2 FL N2 WB");
  // The store at Z2 was plain (the v5 rule thinks the RO spte is stable).
  bool plain_z2 = false;
  for (const TraceStep& s : r.trace) plain_z2 |= s.label == Label::kZ2 && s.event == Event::kStore;
  EXPECT_TRUE(plain_z2);
}

TEST(ScenarioS1, AviLiteralAlsoLosesPageDirty) {
  const Result r = RunSegments(ScenarioS1(), PresetRules("avi-proposal-literal"));
  ASSERT_EQ(r.outcome, Outcome::kViolation);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kLostPageDirty);
}

TEST(ScenarioS1, Linux36PassesTheSameInterleaving) {
  for (const char* p : {"linux-3.6", "avi-proposal"}) {
    const Result r = RunSegments(ScenarioS1(), PresetRules(p));
    EXPECT_EQ(r.outcome, Outcome::kOk) << p << ": " << (r.violations.empty() ? "" : r.violations[0].explanation);
    // The same interleaving really happened: the fast path won before Z2,
    // and Z2 was an xchg that saw D.
    EXPECT_EQ(LabelsOf(r, 1), "H4 F2 F3 F4 H4 H4.cas") << p;
    bool xchg_saw_d = false;
    for (const TraceStep& s : r.trace) xchg_saw_d |= s.label == Label::kZ2 && s.event == Event::kXchg && (s.before & kSpteD);
    EXPECT_TRUE(xchg_saw_d) << p;
  }
}

TEST(ScenarioS1, Pre36HasNoFastPathSoNoRace) {
  const Result r = RunSegments(ScenarioS1(), PresetRules("pre-3.6"));
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(LabelsOf(r, 1).find("F2"), std::string::npos);
}

TEST(ScenarioS2, V5PatchLeavesAWritableShadowedPageTable) {
  const Result r = RunSegments(ScenarioS2(), PresetRules("v5-patch"));
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kStaleTlbAfterPtProtect) << r.violations[0].explanation;
  // Detected at vCPU0's F3, with the illegal fast-path write at the same step.
  EXPECT_EQ(r.trace[r.violations[0].step - 1].label, Label::kF3);
  ASSERT_GE(r.violations.size(), 2u);
  EXPECT_EQ(r.violations[1].invariant, Invariant::kIllegalFastPathWrite);
}

TEST(ScenarioS2, Linux36PassesTheSameInterleaving) {
  const Result r = RunSegments(ScenarioS2(), PresetRules("linux-3.6"));
  EXPECT_EQ(r.outcome, Outcome::kOk) << (r.violations.empty() ? "" : r.violations[0].explanation);
  // pt_protect cleared MMU_W, so vCPU0's fast path was refused and it went
  // to the slow path, where the write to the shadowed gfn was emulated.
  EXPECT_NE(LabelsOf(r, 2).find("F2 S1"), std::string::npos) << LabelsOf(r, 2);
  EXPECT_NE(LabelsOf(r, 2).find("E1"), std::string::npos) << LabelsOf(r, 2);
}

TEST(ScenarioS5, V36FlushRuleWithV315HarvestPlacementMissesAFlush) {
  Rules r5 = PresetRules("linux-3.6");
  r5.harvest_flush = HarvestFlush::kAfterUnlock;
  const Result r = RunSegments(ScenarioS5(), r5);
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kFlushPlacement) << r.violations[0].explanation;
  EXPECT_EQ(r.trace[r.violations[0].step - 1].label, Label::kP4);
  // With the flush inside the lock (3.6) the same schedule is clean.
  const Result ok = RunSegments(ScenarioS5(), PresetRules("linux-3.6"));
  EXPECT_EQ(ok.outcome, Outcome::kOk) << (ok.violations.empty() ? "" : ok.violations[0].explanation);
}

// ---- post-3.6 scenarios: each fails under its buggy preset, the same
// interleaving passes under the preset with the fix. ----

struct Ground {
  const char* name;
  TestCase (*make)();
  const char* buggy;
  const char* fixed;
  std::vector<std::pair<std::string, std::string>> fixed_knobs;  // on top of `fixed`
  Invariant expect;
};

std::vector<Ground> Grounds() {
  return {
      {"S6", ScenarioS6, "linux-5.10", "linux-5.18", {}, Invariant::kStaleTlbAfterPtProtect},
      {"S7a", ScenarioS7a, "linux-5.10", "linux-5.18", {}, Invariant::kLostPageDirty},
      {"S7b", ScenarioS7b, "linux-5.10", "linux-5.18", {}, Invariant::kResurrectedBits},
      {"S8", ScenarioS8, "linux-4.12", "linux-4.12", {{"enable-log-flush", "always"}}, Invariant::kStaleTlbAfterDirtyLog},
      {"S5", ScenarioS5, "b5-harvest-flush-after-unlock", "linux-3.15", {}, Invariant::kFlushPlacement},
      {"S3", ScenarioS3, "b3-fast-pf-indirect-sp-aba", "linux-3.6", {}, Invariant::kIllegalFastPathWrite},
      {"S4", ScenarioS4, "b4-fast-pf-large-spte-logs-base-gfn", "linux-3.15", {}, Invariant::kLostDirtyLog},
      // The 2021 rule (fast path refused on a large leaf only while the slot logs).
      {"S4", ScenarioS4, "b4-fast-pf-large-spte-logs-base-gfn", "b4-fast-pf-large-spte-logs-base-gfn",
       {{"fast-pf-large", "not-while-logging"}}, Invariant::kLostDirtyLog},
      {"S14", ScenarioS14, "b14-mmu-w-gate-change-pte-keeps-mmu-w", "linux-5.18", {}, Invariant::kIllegalFastPathWrite},
      {"S13", ScenarioS13, "b13-lockless-aging-v6.13-predicate", "linux-6.15", {}, Invariant::kResurrectedBits},
      {"S12", ScenarioS12, "b12-zap-range-yield-forgets-flush", "linux-6.15", {}, Invariant::kFlushPlacement},
      // linux-5.10's zap yields only after a zap and flushes first.
      {"S12", ScenarioS12, "b12-zap-range-yield-forgets-flush", "linux-5.10", {}, Invariant::kFlushPlacement},
      {"S11", ScenarioS11, "b11-make-spte-skips-d-conditional-harvest-flush", "linux-6.15", {},
       Invariant::kStaleTlbAfterDirtyLog},
      // cc7ed3358e41 alone, with the mutated harvest flush kept.
      {"S11", ScenarioS11, "b11-make-spte-skips-d-conditional-harvest-flush",
       "b11-make-spte-skips-d-conditional-harvest-flush", {{"make-spte-d", "if-writable"}},
       Invariant::kStaleTlbAfterDirtyLog},
      // Released 5.16 .. 6.12 kernels: the overwrite happens, the harvest's
      // unconditional flush masks it (latent).
      {"S11", ScenarioS11, "b11-make-spte-skips-d-conditional-harvest-flush", "linux-5.18", {},
       Invariant::kStaleTlbAfterDirtyLog},
  };
}

TEST(ModernScenarios, BuggyPresetViolatesFixedPresetPasses) {
  for (const Ground& gr : Grounds()) {
    const Result bad = RunSegments(gr.make(), PresetRules(gr.buggy));
    ASSERT_EQ(bad.outcome, Outcome::kViolation) << gr.name << " under " << gr.buggy << ": " << StepList(bad);
    EXPECT_EQ(bad.violations[0].invariant, gr.expect)
        << gr.name << ": " << InvariantName(bad.violations[0].invariant) << ": " << bad.violations[0].explanation;
    Rules fixed = PresetRules(gr.fixed);
    for (const auto& [k, v] : gr.fixed_knobs) ASSERT_TRUE(SetKnob(fixed, k, v).ok());
    const Result ok = RunSegments(gr.make(), fixed);
    EXPECT_EQ(ok.outcome, Outcome::kOk) << gr.name << " under " << gr.fixed << ": "
                                        << (ok.violations.empty() ? "" : ok.violations[0].explanation) << "\n"
                                        << StepList(ok);
  }
}

TEST(ModernScenarios, S7aIsTheSpecInterleaving) {
  // K snapshots at T0, the vCPU's write goes through the fast path and a
  // walk that sets D, then K's plain store (5.10) or xchg (5.18).
  const Result bad = RunSegments(ScenarioS7a(), PresetRules("linux-5.10"));
  EXPECT_EQ(LabelsOf(bad, 1), "H4 F2 F3 F4 H4 H4.cas");
  EXPECT_EQ(LabelsOf(bad, 0), "N1 T0 TW FL N2 WB");
  const Result ok = RunSegments(ScenarioS7a(), PresetRules("linux-5.18"));
  bool xchg_saw_d = false;
  for (const TraceStep& s : ok.trace) xchg_saw_d |= s.label == Label::kTW && s.event == Event::kXchg && (s.before & kSpteD);
  EXPECT_TRUE(xchg_saw_d) << StepList(ok);
}

// S11 step by step (spec §7): vCPU1's fault, which lost the race, rebuilds
// the spte without D (make_spte skips D over a writable old spte) and does
// not flush; the harvest finds no D to clear and, with the mutated flush,
// returns without flushing.
TEST(ModernScenarios, S11IsTheSpecInterleaving) {
  const char* b11 = "b11-make-spte-skips-d-conditional-harvest-flush";
  const Result bad = RunSegments(ScenarioS11(), PresetRules(b11));
  ASSERT_EQ(bad.outcome, Outcome::kViolation) << StepList(bad);
  // vCPU0: the not-present write fault installs {P W A D HW MW} (T1) and
  // logs g0 (T2); the retried walk finds A and D set and fills {w d}.
  EXPECT_EQ(LabelsOf(bad, 0), "H4 S1 R3 T0 T1 T2 R11 H4");
  EXPECT_EQ(LabelsOf(bad, 1), "S1 R3 T0 T1 R11");
  EXPECT_EQ(LabelsOf(bad, 2), "G1 PK G2 T0 G4");  // no TW (no D to clear), no FL
  const TraceStep* overwrite = nullptr;
  for (const TraceStep& st : bad.trace) {
    if (st.thread == 1 && st.label == Label::kT1) overwrite = &st;
  }
  ASSERT_NE(overwrite, nullptr);
  EXPECT_EQ(overwrite->event, Event::kCasOk);
  EXPECT_EQ(overwrite->before, kSptePresent | kSpteA | kSpteD | kSpteW | kSpteHostW | kSpteMmuW);
  EXPECT_EQ(overwrite->after, kSptePresent | kSpteA | kSpteW | kSpteHostW | kSpteMmuW);
  EXPECT_EQ(bad.trace[bad.violations[0].step - 1].label, Label::kG4);

  // cc7ed3358e41: the losing fault builds the same spte, RET_PF_SPURIOUS;
  // the harvest then clears D (TW), which the mutated rule still flushes.
  Rules fixed = PresetRules(b11);
  ASSERT_TRUE(SetKnob(fixed, "make-spte-d", "if-writable").ok());
  const Result ok = RunSegments(ScenarioS11(), fixed);
  EXPECT_EQ(ok.outcome, Outcome::kOk) << StepList(ok);
  EXPECT_EQ(LabelsOf(ok, 1), "S1 R3 T0 R11 H4");
  EXPECT_EQ(LabelsOf(ok, 2), "G1 PK G2 T0 TW G4 FL FL");
  // vCPU0's second write: the flush dropped {w d}, the walk sets D again
  // and the CPU logs g0 in its PML buffer (reported by the final harvest).
  EXPECT_EQ(LabelsOf(ok, 0), "H4 S1 R3 T0 T1 T2 R11 H4 H4 H4.cas");
  EXPECT_TRUE(ok.trace[ok.trace.size() - 2].flags & kTracePml) << StepList(ok);

  // 386d69f9f29b (6.13) alone also stops the overwrite: the old leaf allows
  // the write, so the fault is spurious before make_spte() runs.
  Rules spurious = PresetRules(b11);
  ASSERT_TRUE(SetKnob(spurious, "tdp-fault-spurious", "access-allowed").ok());
  const Result sp = RunSegments(ScenarioS11(), spurious);
  EXPECT_EQ(sp.outcome, Outcome::kOk) << StepList(sp);
  EXPECT_EQ(LabelsOf(sp, 1), "S1 R3 T0 R11 H4");

  // 5.18 has the overwrite (8b8f9d753b84) but flushes after every harvest
  // whose bitmap had bits: latent.
  const Result masked = RunSegments(ScenarioS11(), PresetRules("linux-5.18"));
  EXPECT_EQ(masked.outcome, Outcome::kOk) << StepList(masked);
  EXPECT_EQ(LabelsOf(masked, 1), "S1 R3 T0 T1 R11 H4");
  EXPECT_EQ(LabelsOf(masked, 2), "G1 PK G2 T0 G4 FL FL");
}

// 1a175082b190: a TDP fault that clears MMU-writable of a present leaf
// flushes. Under 5.10's write_protect_gfn (B6) a read-only spte keeps
// MMU_W after g0 became a page table; the write fault then installs a
// read-only, !MMU-writable spte over it and emulates the write.
TEST(ModernScenarios, TdpFaultFlushesWhenItClearsMmuWritable) {
  TestCase tc;
  tc.config.vcpus = 1;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kRoMmuW;
  tc.threads = {KvmThread({{OpKind::kWpPt, 0}}), VcpuThread(0, {{OpKind::kFault, 0}})};
  tc.schedule = {{0, SegmentKind::kToEnd}, {1, SegmentKind::kToEnd}};
  const Result before = RunSegments(tc, PresetRules("linux-5.10"));
  EXPECT_EQ(LabelsOf(before, 1), "S1 R3 T0 T1 R11 E1") << StepList(before);
  Rules after = PresetRules("linux-5.10");
  ASSERT_TRUE(SetKnob(after, "tdp-fault-flush", "mmu-w-cleared").ok());
  const Result r = RunSegments(tc, after);
  EXPECT_EQ(LabelsOf(r, 1), "S1 R3 T0 T1 FL R11 E1") << StepList(r);
}

TEST(ModernScenarios, S8SkipsTheFlushOnlyBeforeTheFix) {
  const Result bad = RunSegments(ScenarioS8(), PresetRules("linux-4.12"));
  EXPECT_EQ(LabelsOf(bad, 1), "L1 L2 W1 L5 L6");
  Rules fixed = PresetRules("linux-4.12");
  ASSERT_TRUE(SetKnob(fixed, "enable-log-flush", "always").ok());
  const Result ok = RunSegments(ScenarioS8(), fixed);
  EXPECT_EQ(LabelsOf(ok, 1), "L1 L2 W1 L5 FL L6");
  // The vCPU's write then restores the access-tracked spte through the fast path.
  EXPECT_EQ(LabelsOf(ok, 2), "H4 F2 F3 F4 H4");
}

TEST(ScenarioS9, B9LeavesAWritableEntryPastPageTableProtection) {
  const Result r = RunSegments(ScenarioS9(), PresetRules("b9-sync-page-tlbs-dirty"));
  ASSERT_EQ(r.outcome, Outcome::kViolation) << StepList(r);
  EXPECT_EQ(r.violations[0].invariant, Invariant::kStaleTlbAfterPtProtect) << r.violations[0].explanation;
}

TEST(ScenarioS9, Linux36FlushesRemotelySoTheWriteIsEmulated) {
  const Result ok = RunSegments(ScenarioS9(), PresetRules("linux-3.6"));
  ASSERT_EQ(ok.outcome, Outcome::kOk) << StepList(ok) << (ok.violations.empty() ? "" : ok.violations[0].explanation);
  EXPECT_EQ(LabelsOf(ok, 0), "Y1 Z1 Z2 FL FL Y4");
  // vcpu0's write then misses, faults and is emulated (g0 is shadowed).
  EXPECT_EQ(LabelsOf(ok, 2).substr(0, 2), "H4");
  EXPECT_NE(LabelsOf(ok, 2).find("E1"), std::string::npos);
}

TEST(ScenarioS10, B10LosesPageDirtyOnlyWithoutTheTransfer) {
  const Result bad = RunSegments(ScenarioS10(), PresetRules("b10-sync-page-dirty-lost"));
  ASSERT_EQ(bad.outcome, Outcome::kViolation) << StepList(bad);
  EXPECT_EQ(bad.violations[0].invariant, Invariant::kLostPageDirty) << bad.violations[0].explanation;
  EXPECT_EQ(LabelsOf(bad, 0), "H4 H4.cas");
  EXPECT_EQ(LabelsOf(bad, 1), "Y1 Y3 U1 U2 FL FL Y4");
  EXPECT_EQ(LabelsOf(bad, 2), "N1 Z1 Z2 FL FL N2 WB");
  const Result ok = RunSegments(ScenarioS10(), PresetRules("linux-3.6"));
  EXPECT_EQ(ok.outcome, Outcome::kOk) << (ok.violations.empty() ? "" : ok.violations[0].explanation);
}

}  // namespace
}  // namespace sptefuzz
