// The semantic minimizer: same invariant, 1-minimal, deterministic, within
// 1.5x the steps of the spec's ground-truth scenarios, threads and vCPUs
// renumbered correctly.
#include "repro/minimize.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/program_gen.h"
#include "core/scenarios.h"
#include "core/test_util.h"
#include "repro/repro_format.h"
#include "repro/repro_test_util.h"

namespace sptefuzz {
namespace {

Rules S5Rules() {
  Rules r = PresetRules("linux-3.6");
  r.harvest_flush = HarvestFlush::kAfterUnlock;
  return r;
}

// No valid, smaller single reduction of `tc` keeps the violation.
void ExpectOneMinimal(const TestCase& tc, const Rules& rules, Invariant target) {
  for (const TestCase& c : MinimizeCandidates(tc)) {
    if (!ValidateTestCase(c).ok() || !SmallerTestCase(c, tc)) continue;
    const Result r = RunSegments(c, rules);
    const bool fails = r.outcome == Outcome::kViolation && r.violations[0].invariant == target;
    Repro shown;
    shown.tc = c;
    EXPECT_FALSE(fails) << "a smaller candidate still fails:\n" << PrintRepro(shown);
  }
}

struct Case {
  const char* name;
  TestCase tc;
  Rules rules;
  Invariant target;
};

TEST(MinimizeTest, SpecScenariosWithinOneAndAHalfTimesTheirSteps) {
  const Case cases[] = {
      {"S1", ScenarioS1(), PresetRules("v5-patch"), Invariant::kLostPageDirty},
      {"S2", ScenarioS2(), PresetRules("v5-patch"), Invariant::kStaleTlbAfterPtProtect},
      {"S5", ScenarioS5(), S5Rules(), Invariant::kFlushPlacement},
      {"S6", ScenarioS6(), PresetRules("linux-5.10"), Invariant::kStaleTlbAfterPtProtect},
      {"S7a", ScenarioS7a(), PresetRules("linux-5.10"), Invariant::kLostPageDirty},
      {"S7b", ScenarioS7b(), PresetRules("linux-5.10"), Invariant::kResurrectedBits},
      {"S8", ScenarioS8(), PresetRules("linux-4.12"), Invariant::kStaleTlbAfterDirtyLog},
  };
  for (const Case& c : cases) {
    const Result truth = RunSegments(c.tc, c.rules);
    ASSERT_EQ(truth.outcome, Outcome::kViolation) << c.name;
    absl::StatusOr<MinimizeResult> m = MinimizeTestCase(c.tc, c.rules, c.target, {});
    ASSERT_TRUE(m.ok()) << c.name << ": " << m.status();
    EXPECT_EQ(m->steps_before, truth.steps) << c.name;
    EXPECT_LE(m->steps_after * 2, truth.steps * 3) << c.name << ": " << m->steps_after << " vs " << truth.steps;
    const Result r = RunSegments(m->tc, c.rules);
    ASSERT_EQ(r.outcome, Outcome::kViolation) << c.name;
    EXPECT_EQ(r.violations[0].invariant, c.target) << c.name;
    EXPECT_EQ(r.steps, m->steps_after) << c.name;
    ExpectOneMinimal(m->tc, c.rules, c.target);
    // Deterministic: the same input gives the same output.
    absl::StatusOr<MinimizeResult> again = MinimizeTestCase(c.tc, c.rules, c.target, {});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->tc, m->tc) << c.name;
    EXPECT_EQ(again->executions, m->executions) << c.name;
  }
}

// S1's threads behind an idle vCPU thread that owns vcpu0: removing it must
// renumber the schedule's threads and move the writer from vcpu1 to vcpu0.
TEST(MinimizeTest, RemovingAThreadRenumbersSegmentsAndVcpus) {
  TestCase tc = ScenarioS1();
  tc.config.vcpus = 2;
  tc.threads[1].vcpu = 1;
  tc.threads.insert(tc.threads.begin(), VcpuThread(0, {{OpKind::kRead, 0}}));
  for (Segment& s : tc.schedule) ++s.thread;
  tc.schedule.insert(tc.schedule.begin(), Segment{0, SegmentKind::kSteps, Label::kH1, 1});
  ASSERT_TRUE(ValidateTestCase(tc).ok());
  const Rules& rules = PresetRules("v5-patch");
  ASSERT_EQ(RunSegments(tc, rules).outcome, Outcome::kViolation);
  absl::StatusOr<MinimizeResult> m = MinimizeTestCase(tc, rules, Invariant::kLostPageDirty, {});
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->tc.threads.size(), 2u);
  EXPECT_EQ(m->tc.config.vcpus, 1);
  EXPECT_EQ(m->tc.threads[0].kind, ThreadKind::kKernel);
  EXPECT_EQ(m->tc.threads[1].kind, ThreadKind::kVcpu);
  EXPECT_EQ(m->tc.threads[1].vcpu, 0);
  ASSERT_FALSE(m->tc.schedule.empty());
  EXPECT_EQ(m->tc.schedule[0], (Segment{0, SegmentKind::kThrough, Label::kZ1, 1}));
  ExpectOneMinimal(m->tc, rules, Invariant::kLostPageDirty);
}

// "t for N" segments become "t through LABEL #k" when that is the same
// interleaving.
TEST(MinimizeTest, StepCountsBecomeLabels) {
  TestCase tc = ScenarioS1();
  tc.schedule = {{0, SegmentKind::kSteps, Label::kH1, 2}, {1, SegmentKind::kToEnd}};
  absl::StatusOr<MinimizeResult> m = MinimizeTestCase(tc, PresetRules("v5-patch"), Invariant::kLostPageDirty, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(PrintSchedule(m->tc.schedule), "0 through Z1; 1 to end");
}

TEST(MinimizeTest, RefusesATestCaseWithoutTheViolation) {
  absl::StatusOr<MinimizeResult> m =
      MinimizeTestCase(ScenarioS1(), PresetRules("linux-3.6"), Invariant::kLostPageDirty, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "the test case does not violate lost-page-dirty (its verdict is ok)");
}

// Findings of random programs and schedules: every minimized one keeps its
// invariant, is 1-minimal and is found quickly.
TEST(MinimizeTest, RandomFindingsStayFailingAndOneMinimal) {
  SplitMix64 rng(99);
  RandomScheduler random(5);
  Executor ex;
  GenOptions gen;
  gen.max_ops = 4;
  int found = 0;
  double worst_s = 0;
  for (const char* preset : {"v5-patch", "avi-proposal-literal", "pre-3.6"}) {
    const Rules& rules = PresetRules(preset);
    for (int i = 0; i < 20000 && found < 24; ++i) {
      TestCase tc = RandomTestCase(rng, gen);
      const Result& r = ex.Run(tc, rules, random);
      if (r.outcome != Outcome::kViolation) continue;
      tc.schedule = SegmentsFromSteps(r.schedule);
      const Invariant target = r.violations[0].invariant;
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<MinimizeResult> m = MinimizeTestCase(tc, rules, target, {});
      worst_s = std::max(worst_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      ASSERT_TRUE(m.ok()) << m.status();
      EXPECT_LE(m->tc.threads.size(), tc.threads.size());
      const Result after = RunSegments(m->tc, rules);
      ASSERT_EQ(after.outcome, Outcome::kViolation);
      EXPECT_EQ(after.violations[0].invariant, target);
      ExpectOneMinimal(m->tc, rules, target);
      // Printable: the output is a text repro that parses back.
      Repro rep;
      rep.rules = preset;
      rep.tc = m->tc;
      absl::StatusOr<Repro> back = ParseRepro(PrintRepro(rep));
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(back->tc, m->tc);
      ++found;
    }
  }
  EXPECT_GE(found, 10);
  EXPECT_LT(worst_s, 10.0);
}

}  // namespace
}  // namespace sptefuzz
