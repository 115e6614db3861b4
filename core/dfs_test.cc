// Tests of PCT, the step footprints and the bounded DFS (core/pct_scheduler.h,
// core/dfs_footprint.h, core/dfs.h).
#include "core/dfs.h"

#include "core/executor.h"
#include "core/pct_scheduler.h"
#include "core/rules.h"
#include "core/scenarios.h"
#include "gtest/gtest.h"

namespace sptefuzz {
namespace {

const Rules& PresetRules(const char* name) {
  const RulesPreset* p = FindPreset(name);
  EXPECT_NE(p, nullptr) << name;
  return p->rules;
}

TestCase S1Program() {
  TestCase tc = ScenarioS1();
  tc.schedule.clear();
  return tc;
}

// ---- footprints ----

TEST(FootprintTest, IndependenceRule) {
  const Footprint read_a{FpSpte(0), 0}, read_b{FpSpte(0), 0};
  const Footprint write_a{0, FpSpte(0)}, write_other{0, FpSpte(1)};
  EXPECT_TRUE(Independent(read_a, read_b));          // both only read
  EXPECT_FALSE(Independent(read_a, write_a));        // read/write of the same spte
  EXPECT_FALSE(Independent(write_a, write_a));
  EXPECT_TRUE(Independent(write_a, write_other));    // different sptes
  EXPECT_FALSE(Independent(Footprint{kFpAll, kFpAll}, read_a));
  const Footprint add_a{0, 0, kFpBitmap}, add_b{0, 0, kFpBitmap}, read_bm{kFpBitmap, 0, 0};
  EXPECT_TRUE(Independent(add_a, add_b));            // commutative updates
  EXPECT_FALSE(Independent(add_a, read_bm));
}

TEST(FootprintTest, StepsOfTheModel) {
  TestCase tc = S1Program();  // thread 0: wb g0, thread 1: vcpu0 write g0
  const Footprint z1 = StepFootprint(tc, 0, Label::kZ1, 0);
  const Footprint z2 = StepFootprint(tc, 0, Label::kZ2, 0);
  const Footprint n1 = StepFootprint(tc, 0, Label::kN1, 0);
  const Footprint h1 = StepFootprint(tc, 1, Label::kH1, 0);
  const Footprint f2 = StepFootprint(tc, 1, Label::kF2, 0);
  const Footprint f3 = StepFootprint(tc, 1, Label::kF3, 0);
  const Footprint s3 = StepFootprint(tc, 1, Label::kS3, 0);
  EXPECT_TRUE(Independent(z1, f2));    // two loads of the spte
  EXPECT_FALSE(Independent(z1, f3));   // load vs cmpxchg: the S1 race
  EXPECT_FALSE(Independent(z2, f2));
  EXPECT_FALSE(Independent(n1, s3));   // both take mmu_lock
  EXPECT_TRUE(Independent(n1, f2));    // the lock vs a lockless load
  EXPECT_TRUE(Independent(z1, h1));    // the TLB lookup of a read-only hit path only loads the spte
  EXPECT_FALSE(Independent(z2, h1));
  // Two vCPUs' guest accesses of the same gfn only read the spte and record
  // history: independent; a writeback reads that history: dependent.
  TestCase two = tc;
  two.config.vcpus = 2;
  two.threads.push_back(ThreadSpec{ThreadKind::kVcpu, 1, {{OpKind::kWrite, 0}}});
  const Footprint h1_other = StepFootprint(two, 2, Label::kH1, 0);
  EXPECT_TRUE(Independent(h1, h1_other));
  EXPECT_FALSE(Independent(StepFootprint(tc, 0, Label::kWB, 0), h1));
  // Setting bits in the dirty bitmap commutes.
  EXPECT_TRUE(Independent(StepFootprint(tc, 1, Label::kF4, 0), StepFootprint(two, 2, Label::kS7, 0)));
  // Ops whose steps are not modeled step by step conflict with everything.
  TestCase h = tc;
  h.threads[0].ops = {{OpKind::kHarvest, 0}};
  EXPECT_FALSE(Independent(StepFootprint(h, 0, Label::kG2, 0), f2));
}

// ---- PCT ----

TEST(PctTest, BoundFormula) {
  EXPECT_DOUBLE_EQ(PctScheduler::Bound(2, 10, 1), 0.5);
  EXPECT_DOUBLE_EQ(PctScheduler::Bound(2, 10, 3), 1.0 / 200);
}

TEST(PctTest, LearnsKAsTheLongestRun) {
  Executor ex;
  PctScheduler pct(7, 2, /*initial_k=*/1);
  const TestCase tc = S1Program();
  uint32_t longest = 0;
  for (int i = 0; i < 20; ++i) longest = std::max(longest, ex.Run(tc, PresetRules("linux-3.6"), pct).steps);
  ex.Run(tc, PresetRules("linux-3.6"), pct);  // Begin() folds in the previous run
  EXPECT_EQ(pct.k(), longest);
}

// S1 under v5-patch is a depth-2 bug (one ordering constraint beyond the
// first: the fast path's F3 between Z1 and Z2). With k about 20 steps and 2
// threads PCT's bound is 1/40 per run; a fixed seed finds it well within 400.
TEST(PctTest, FindsS1WithinBoundedRuns) {
  Executor ex;
  PctScheduler pct(1, 2);
  const TestCase tc = S1Program();
  int found_at = -1;
  for (int i = 1; i <= 400 && found_at < 0; ++i) {
    if (ex.Run(tc, PresetRules("v5-patch"), pct).outcome == Outcome::kViolation) found_at = i;
  }
  EXPECT_GT(found_at, 0);
  // Depth 1 (no change point) runs the threads in priority order only: never the bug.
  PctScheduler serial(1, 1);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ex.Run(tc, PresetRules("v5-patch"), serial).outcome, Outcome::kOk);
}

// ---- DFS ----

DfsOutcome RunDfs(const TestCase& tc, const char* rules, int k, bool por) {
  Executor ex;
  DfsOptions o;
  o.preemptions = k;
  o.por = por;
  DfsExplorer dfs(tc, PresetRules(rules), o);
  return dfs.Run(ex);
}

TEST(DfsTest, FindsS1UnderV5AtOnePreemption) {
  for (bool por : {false, true}) {
    const DfsOutcome zero = RunDfs(S1Program(), "v5-patch", 0, por);
    EXPECT_FALSE(zero.violation.has_value());
    EXPECT_TRUE(zero.stats.exhaustive);
    const DfsOutcome one = RunDfs(S1Program(), "v5-patch", 1, por);
    ASSERT_TRUE(one.violation.has_value());
    EXPECT_EQ(one.violation_preemptions, 1);
    EXPECT_EQ(one.violation->violations[0].invariant, Invariant::kLostPageDirty);
    // The finding replays step by step.
    Executor ex;
    ReplayScheduler replay(one.violation->schedule);
    EXPECT_EQ(ex.Run(S1Program(), PresetRules("v5-patch"), replay).TraceHash(), one.violation->TraceHash());
  }
}

TEST(DfsTest, ProvesS1CleanUnderLinux36) {
  const DfsOutcome full = RunDfs(S1Program(), "linux-3.6", 3, /*por=*/false);
  const DfsOutcome por = RunDfs(S1Program(), "linux-3.6", 3, /*por=*/true);
  EXPECT_FALSE(full.violation.has_value());
  EXPECT_FALSE(por.violation.has_value());
  EXPECT_TRUE(full.stats.exhaustive);
  EXPECT_TRUE(por.stats.exhaustive);
  // The reduction skips reorderings of independent steps.
  EXPECT_LT(por.stats.interleavings, full.stats.interleavings);
  EXPECT_GT(por.stats.interleavings, 1u);
}

// Config large=on: every step may touch slot 0 and every gfn's oracle
// state, so nothing is independent; DFS finds B4 (S4) and proves the same
// program clean under 3.15 at a small bound.
TEST(DfsTest, LargeLeafStepsAreNeverIndependentAndS4IsFound) {
  TestCase tc = ScenarioS4();
  const Footprint all{kFpAll, kFpAll, kFpAll};
  EXPECT_EQ(StepFootprint(tc, 1, Label::kH1, 0), all);
  EXPECT_EQ(StepFootprint(tc, 1, Label::kF2, 0), all);
  tc.schedule.clear();
  const DfsOutcome bad = RunDfs(tc, "b4-fast-pf-large-spte-logs-base-gfn", 0, /*por=*/true);
  ASSERT_TRUE(bad.violation.has_value());
  EXPECT_EQ(bad.violation->violations[0].invariant, Invariant::kLostDirtyLog);
  const DfsOutcome ok = RunDfs(tc, "linux-3.15", 2, /*por=*/true);
  EXPECT_FALSE(ok.violation.has_value());
  EXPECT_TRUE(ok.stats.exhaustive);
}

// Without preemptions a 2-thread program has exactly two schedules (which
// thread runs first); a larger bound only adds schedules.
TEST(DfsTest, CountsGrowWithTheBound) {
  EXPECT_EQ(RunDfs(S1Program(), "linux-3.6", 0, false).stats.interleavings, 2u);
  uint64_t prev = 0;
  for (int k = 0; k <= 3; ++k) {
    const DfsOutcome o = RunDfs(S1Program(), "linux-3.6", k, false);
    EXPECT_TRUE(o.stats.exhaustive);
    EXPECT_EQ(o.stats.sleep_blocked, 0u);
    EXPECT_GT(o.stats.interleavings, prev);
    prev = o.stats.interleavings;
  }
}

TEST(DfsTest, SmallProgramEnumeration) {
  SmallProgramSpace space;
  space.config = SmallProgramConfig();
  space.max_ops = 1;
  uint64_t n = ForEachSmallProgram(space, [](const TestCase& tc) {
    EXPECT_TRUE(ValidateTestCase(tc).ok());
    EXPECT_LE(tc.threads[0].ops[0].kind, tc.threads[1].ops[0].kind);  // vCPU symmetry
    return true;
  });
  EXPECT_EQ(n, 6u * 6u);  // {r,w,f} unordered pairs with repetition x 6 kernel ops
  space.max_ops = 2;
  EXPECT_EQ(ForEachSmallProgram(space, [](const TestCase&) { return true; }), (12u * 13u / 2u) * 42u);
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// The reduction must not lose a violation: over every small program, DFS
// with sleep sets finds one exactly when the plain bounded DFS does (also
// with PML, whose steps append to and drain the per-vCPU buffers).
TEST(DfsTest, ReductionKeepsEveryVerdict) {
  for (bool pml : {false, true}) {
    SmallProgramSpace space;
    space.config = SmallProgramConfig();
    space.config.pml = pml;
    space.max_ops = 1;
    for (const char* rules : {"v5-patch", "avi-proposal", "linux-4.12", "linux-5.10", "b5-harvest-flush-after-unlock",
                              "linux-6.15", "b11-make-spte-skips-d-conditional-harvest-flush"}) {
      for (int k = 0; k <= 1; ++k) {
        ForEachSmallProgram(space, [&](const TestCase& tc) {
          const bool full = RunDfs(tc, rules, k, false).violation.has_value();
          const bool por = RunDfs(tc, rules, k, true).violation.has_value();
          EXPECT_EQ(full, por) << rules << " bound " << k << " pml " << pml << " program "
                               << tc.threads[0].ops.size();
          return true;
        });
      }
    }
  }
}

TestCase S11Program() {
  TestCase tc = ScenarioS11();
  tc.schedule.clear();
  return tc;
}

// S11 needs two preemptions (vCPU1's fault after vCPU0's install, the
// harvest before vCPU0's second write); the fixed kernel passes the same
// bound exhaustively.
TEST(DfsTest, FindsS11UnderB11AndProvesLinux615Clean) {
  const char* b11 = "b11-make-spte-skips-d-conditional-harvest-flush";
  const DfsOutcome found = RunDfs(S11Program(), b11, 2, /*por=*/true);
  ASSERT_TRUE(found.violation.has_value());
  EXPECT_LE(found.violation_preemptions, 2);
  EXPECT_EQ(found.violation->violations[0].invariant, Invariant::kStaleTlbAfterDirtyLog);
  const DfsOutcome clean = RunDfs(S11Program(), "linux-6.15", 2, /*por=*/true);
  EXPECT_FALSE(clean.violation.has_value());
  EXPECT_TRUE(clean.stats.exhaustive);
}

TEST(FootprintTest, PmlSteps) {
  const TestCase tc = S11Program();  // thread 0: vcpu0, thread 1: vcpu1, thread 2: harvest
  const Footprint px0 = StepFootprint(tc, 0, Label::kPX, 0);
  const Footprint cas1 = StepFootprint(tc, 1, Label::kH4Cas, 0);
  const Footprint cas0 = StepFootprint(tc, 0, Label::kH4Cas, 1);
  EXPECT_TRUE(Independent(px0, cas1));    // different vCPUs' buffers; bitmap bits commute
  EXPECT_FALSE(Independent(px0, StepFootprint(tc, 2, Label::kPK, 0)));  // the harvest conflicts with all
  EXPECT_NE(cas0.write & FpPml(0), 0u);
  EXPECT_EQ(px0.add, kFpBitmap);
}

}  // namespace
}  // namespace sptefuzz
