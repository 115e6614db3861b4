#include "fuzz/guided.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/executor.h"
#include "core/rules.h"
#include "core/scenarios.h"
#include "fuzz/codec.h"
#include "fuzz/mutator.h"

namespace sptefuzz {
namespace {

const Rules& PresetRules(const char* name) {
  const RulesPreset* p = FindPreset(name);
  SPTEFUZZ_CHECK(p != nullptr);
  return p->rules;
}

// Executions until the first violation (0: none within `budget`).
uint64_t ExecutionsToBug(const char* preset, GuidedOptions o, uint64_t budget) {
  GuidedSearch g(PresetRules(preset), o);
  Executor ex;
  for (uint64_t i = 1; i <= budget; ++i) {
    if (g.Next(ex).outcome == Outcome::kViolation) return i;
  }
  return 0;
}

TEST(GuidedTest, SameSeedSameExecutions) {
  GuidedOptions o;
  o.seed = 11;
  GuidedSearch a(PresetRules("linux-6.15"), o), b(PresetRules("linux-6.15"), o);
  Executor ea, eb;
  for (int i = 0; i < 3000; ++i) {
    const uint64_t ha = a.Next(ea).TraceHash();
    ASSERT_EQ(ha, b.Next(eb).TraceHash()) << "execution " << i;
  }
  EXPECT_EQ(a.stats().corpus, b.stats().corpus);
  EXPECT_GT(a.stats().corpus, 10u);
  EXPECT_GT(a.stats().derived, 1000u);
  EXPECT_GT(a.stats().features, 100u);
}

TEST(GuidedTest, NewFeaturesGrowTheCorpusOnlyWhileTheyAreNew) {
  GuidedOptions o;
  o.seed = 3;
  GuidedSearch g(PresetRules("linux-6.15"), o);
  Executor ex;
  for (int i = 0; i < 2000; ++i) (void)g.Next(ex);
  const uint64_t early = g.stats().corpus;
  for (int i = 0; i < 18000; ++i) (void)g.Next(ex);
  const uint64_t late = g.stats().corpus - early;
  // The first 2,000 runs add more than any later 2,000 do on average.
  EXPECT_GT(early, late / 9);
  EXPECT_EQ(g.stats().executions, 20000u);
  EXPECT_EQ(g.stats().fresh + g.stats().derived, 20000u);
}

// B3 needs config indirect=on, logging, a harvest, a remap and a preemption
// between F2 and F3: uniform random search takes about 0.4-1.1 M executions
// (bench/results/time-to-bug.md). The feedback-guided search takes tens of
// thousands; without the feedback (a corpus kept at random) it is back near
// random. Deterministic per seed.
TEST(GuidedTest, FeedbackFindsB3ManyTimesFasterThanWithout) {
  GuidedOptions on;
  uint64_t with_feedback = 0;
  for (uint64_t seed : {1, 2, 3}) {
    on.seed = seed;
    const uint64_t n = ExecutionsToBug("b3-fast-pf-indirect-sp-aba", on, 200000);
    ASSERT_NE(n, 0u) << "seed " << seed << ": B3 not found in 200k guided executions";
    with_feedback += n;
  }
  GuidedOptions off = on;
  off.feedback = false;
  off.seed = 1;
  const uint64_t without = ExecutionsToBug("b3-fast-pf-indirect-sp-aba", off, 3 * with_feedback);
  EXPECT_EQ(without, 0u) << "without feedback B3 was found after " << without << " executions, within 3x the "
                         << with_feedback << " that three seeds with it took in all";
}

TEST(PrefixThenRandomSchedulerTest, FollowsThePrefixThenVaries) {
  const TestCase tc = ScenarioS1();
  const Rules& rules = PresetRules("linux-3.6");
  Executor ex;
  SegmentScheduler own;
  const std::vector<uint8_t> steps = ex.Run(tc, rules, own).schedule;
  ASSERT_GT(steps.size(), 8u);
  // The whole schedule as the prefix: the same run.
  PrefixThenRandomScheduler all(&steps, steps.size(), 1);
  EXPECT_EQ(ex.Run(tc, rules, all).schedule, steps);
  // A cut: the first steps agree, and some seed varies the rest.
  bool varied = false;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    PrefixThenRandomScheduler cut(&steps, 4, seed);
    const std::vector<uint8_t> s = ex.Run(tc, rules, cut).schedule;
    ASSERT_GE(s.size(), 4u);
    EXPECT_TRUE(std::equal(steps.begin(), steps.begin() + 4, s.begin()));
    varied |= s != steps;
  }
  EXPECT_TRUE(varied);
}

TEST(MutatorTest, ScheduleByRunningGivesAReplayableNewSchedule) {
  const Rules& rules = PresetRules("linux-3.6");
  Executor ex;
  SplitMix64 rng(5);
  int changed = 0;
  for (int i = 0; i < 200; ++i) {
    TestCase tc = ScenarioS1();
    tc.schedule = SegmentsFromSteps({0, 0, 1});
    const TestCase before = tc;
    if (!MutateScheduleByRunning(&tc, kCodecVersionSteps, rules, ex, rng)) continue;
    ++changed;
    EXPECT_EQ(tc.threads, before.threads);
    EXPECT_EQ(tc.config, before.config);
    EXPECT_NE(tc.schedule, before.schedule);
    ASSERT_TRUE(IsEncodableAs(tc, kCodecVersionSteps));
    ASSERT_LE(tc.schedule.size(), static_cast<size_t>(kMaxSegments));
    // Its schedule spells out the whole run (unless cut at kMaxSegments):
    // the default policy adds nothing at the end.
    SegmentScheduler seg;
    const std::vector<uint8_t> ran = ex.Run(tc, rules, seg).schedule;
    if (tc.schedule.size() < static_cast<size_t>(kMaxSegments)) EXPECT_EQ(SegmentsFromSteps(ran), tc.schedule);
  }
  EXPECT_GT(changed, 150);
}

}  // namespace
}  // namespace sptefuzz
