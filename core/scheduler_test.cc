#include "core/scheduler.h"

#include <gtest/gtest.h>

#include "core/program_gen.h"
#include "core/scenarios.h"
#include "core/test_util.h"

namespace sptefuzz {
namespace {

TEST(DefaultPickTest, KeepsCurrentThenRoundRobin) {
  Label pending[3] = {};
  SchedView v{3, 0b111, 1, false, 0, pending};
  EXPECT_EQ(DefaultPick(v), 1);
  v.current_yielded = true;
  EXPECT_EQ(DefaultPick(v), 2);
  v.enabled = 0b011;
  EXPECT_EQ(DefaultPick(v), 0);
  v.current = -1;
  v.current_yielded = false;
  v.enabled = 0b100;
  EXPECT_EQ(DefaultPick(v), 2);
}

TEST(SegmentsFromStepsTest, RunLengthEncodes) {
  auto segs = SegmentsFromSteps({0, 0, 1, 1, 1, 0});
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].thread, 0);
  EXPECT_EQ(segs[0].count, 2);
  EXPECT_EQ(segs[1].thread, 1);
  EXPECT_EQ(segs[1].count, 3);
  EXPECT_EQ(segs[2].kind, SegmentKind::kSteps);
}

// Every run records its schedule; replaying it step by step, or as
// run-length segments, gives the same trace.
TEST(ReplayTest, RandomRunsReplayExactly) {
  SplitMix64 rng(7);
  RandomScheduler random(11);
  Executor ex, ex2;
  for (int i = 0; i < 300; ++i) {
    TestCase tc = RandomTestCase(rng, GenOptions{});
    const Result r = ex.Run(tc, PresetRules("linux-3.6"), random);
    ReplayScheduler replay(r.schedule);
    const Result& again = ex2.Run(tc, PresetRules("linux-3.6"), replay);
    ASSERT_EQ(again.TraceHash(), r.TraceHash()) << "run " << i;
    EXPECT_EQ(replay.divergences(), 0);
    tc.schedule = SegmentsFromSteps(r.schedule);
    SegmentScheduler seg;
    EXPECT_EQ(ex2.Run(tc, PresetRules("linux-3.6"), seg).TraceHash(), r.TraceHash()) << "run " << i;
  }
}

TEST(ReplayTest, InvalidPicksFallBackAndCountDivergences) {
  TestCase tc = ScenarioS1();
  tc.schedule.clear();
  ReplayScheduler replay({9, 9, 9});  // no thread 9
  Executor ex;
  const Result& r = ex.Run(tc, PresetRules("linux-3.6"), replay);
  EXPECT_EQ(r.outcome, Outcome::kOk);
  EXPECT_GE(replay.divergences(), 3);
}

TEST(DeterminismTest, SameSeedSameTraceHash) {
  auto run = [](uint64_t seed) {
    SplitMix64 rng(seed);
    RandomScheduler random(seed * 3 + 1);
    Executor ex;
    uint64_t h = 0;
    for (int i = 0; i < 500; ++i) h = h * 31 + ex.Run(RandomTestCase(rng, GenOptions{}), PresetRules("v5-patch"), random).TraceHash();
    return h;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(SegmentSchedulerTest, ThroughStopsAfterTheLabel) {
  TestCase tc = ScenarioS1();
  const Result r = RunSegments(tc, PresetRules("linux-3.6"));
  // "0 through Z1": thread 0 runs N1 Z1, then thread 1 runs.
  ASSERT_GE(r.trace.size(), 3u);
  EXPECT_EQ(r.trace[0].label, Label::kN1);
  EXPECT_EQ(r.trace[1].label, Label::kZ1);
  EXPECT_EQ(r.trace[2].thread, 1);
}

TEST(StepLimitTest, CutsOffAndIsNotAFinding) {
  TestCase tc = ScenarioS1();
  ExecOptions opts;
  opts.step_limit = 3;
  SegmentScheduler seg;
  Executor ex;
  const Result& r = ex.Run(tc, PresetRules("v5-patch"), seg, opts);
  EXPECT_EQ(r.outcome, Outcome::kStepLimit);
  EXPECT_EQ(r.steps, 3u);
  EXPECT_TRUE(r.violations.empty());
}

TEST(ArenaTest, SteadyStateAllocatesNoNewChunks) {
  SplitMix64 rng(3);
  RandomScheduler random(4);
  Executor ex;
  TestCase first = RandomTestCase(rng, GenOptions{});
  const Result r = ex.Run(first, PresetRules("linux-3.6"), random);
  for (int i = 0; i < 200; ++i) (void)ex.Run(RandomTestCase(rng, GenOptions{}), PresetRules("linux-3.6"), random);
  const size_t warm = ex.arena_chunks();
  EXPECT_GE(warm, 1u);
  for (int i = 0; i < 2000; ++i) (void)ex.Run(RandomTestCase(rng, GenOptions{}), PresetRules("linux-3.6"), random);
  EXPECT_EQ(ex.arena_chunks(), warm);
  // Running the first input again after thousands of others behaves as alone.
  ReplayScheduler replay(r.schedule);
  EXPECT_EQ(ex.Run(first, PresetRules("linux-3.6"), replay).TraceHash(), r.TraceHash());
}

}  // namespace
}  // namespace sptefuzz
