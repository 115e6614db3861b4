#include "fuzz/guided.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// Runs `n` executions of `g`.
void RunSearch(GuidedSearch& g, int n) {
  Executor ex;
  for (int i = 0; i < n; ++i) (void)g.Next(ex);
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

// The search finds a harder bug of the history within a small budget for
// every seed tried (random search needs a median of about 1.8k executions
// for b5 and 3.5k for b13, bench/results/time-to-bug-guided.md).
TEST(GuidedTest, FindsB5AndB13) {
  for (const char* preset : {"b5-harvest-flush-after-unlock", "b13-lockless-aging-v6.13-predicate"}) {
    for (uint64_t seed : {1, 2, 3}) {
      GuidedOptions o;
      o.seed = seed;
      EXPECT_NE(ExecutionsToBug(preset, o, 60000), 0u) << preset << " seed " << seed;
    }
  }
}

// A correct preset gives no finding (the guided search once reported
// lost-page-dirty under linux-3.6 after 8k executions: a program mutation
// had turned on the adversarial D-assist, which random search leaves out
// unless --adversarial). Every executed program keeps the strict D-assist.
TEST(GuidedTest, CleanPresetsStayCleanAndNoAdversarialDAssist) {
  for (const char* preset : {"linux-3.6", "linux-5.18", "linux-6.15"}) {
    GuidedOptions o;
    o.seed = 1;
    GuidedSearch g(PresetRules(preset), o);
    Executor ex;
    for (int i = 0; i < 60000; ++i) {
      const Result& r = g.Next(ex);
      ASSERT_EQ(g.current().config.dassist, DAssist::kStrict) << preset << " execution " << i;
      ASSERT_NE(r.outcome, Outcome::kViolation) << preset << " execution " << i << ": "
                                                << InvariantName(r.violations[0].invariant);
    }
  }
}

// Derived runs start from entries with rare features: the entries picked
// have rarer features than the corpus at large, and than the uniform pick's
// (which favours the 32 newest entries half the time, and so already picks
// somewhat rarer ones than the corpus average: 37.7 against 47.5 here).
TEST(GuidedTest, RarityPicksEntriesWithRareFeatures) {
  auto mean_rarest = [](bool rarity, bool picked) {
    GuidedOptions o;
    o.seed = 5;
    o.rarity = rarity;
    GuidedSearch g(PresetRules("linux-6.15"), o);
    RunSearch(g, 5000);
    double sum = 0;
    const int n = picked ? 4000 : static_cast<int>(g.corpus_size());
    for (int i = 0; i < n; ++i) sum += g.RarestHits(picked ? g.PickEntryIndex() : static_cast<size_t>(i));
    return sum / n;
  };
  const double corpus = mean_rarest(true, false);
  const double rare = mean_rarest(true, true);
  const double uniform = mean_rarest(false, true);
  EXPECT_LT(rare * 2, corpus) << "rarity pick " << rare << ", corpus " << corpus;
  EXPECT_LT(rare * 1.5, uniform) << "rarity pick " << rare << ", uniform pick " << uniform;
}

// Without the feedback no features are counted: the pick is uniform.
TEST(GuidedTest, RarityWithoutFeedbackPicksEveryEntry) {
  GuidedOptions o;
  o.seed = 2;
  o.feedback = false;
  GuidedSearch g(PresetRules("linux-6.15"), o);
  RunSearch(g, 5000);
  ASSERT_GT(g.corpus_size(), 10u);
  std::vector<bool> hit(g.corpus_size());
  for (int i = 0; i < 100000; ++i) hit[g.PickEntryIndex()] = true;
  EXPECT_EQ(std::count(hit.begin(), hit.end(), false), 0);
}

// GuidedOptions::program: every execution runs that program (its schedule
// dropped), fresh or derived, and the search still varies the schedule.
TEST(GuidedTest, FixedProgramRunsOnlyThatProgram) {
  TestCase p = ScenarioS1();
  GuidedOptions o;
  o.seed = 4;
  o.program = &p;
  GuidedSearch g(PresetRules("linux-3.6"), o);
  Executor ex;
  TestCase want = p;
  want.schedule.clear();
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 2000; ++i) {
    const Result& r = g.Next(ex);
    ASSERT_EQ(r.outcome, Outcome::kOk) << "execution " << i;
    ASSERT_EQ(g.current(), want) << "execution " << i;
    hashes.push_back(r.TraceHash());
  }
  std::sort(hashes.begin(), hashes.end());
  EXPECT_GT(std::unique(hashes.begin(), hashes.end()) - hashes.begin(), 20);
  EXPECT_GT(g.stats().derived, 500u);
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
