#include "fuzz/mutator.h"

#include <gtest/gtest.h>

#include <set>

#include "core/executor.h"
#include "core/scenarios.h"
#include "fuzz/codec.h"
#include "fuzz/last_run.h"

namespace sptefuzz {
namespace {

TEST(MutatorTest, MutationsStayValidAndEncodable) {
  for (uint8_t version : {kCodecVersionSegments, kCodecVersionSteps}) {
    SplitMix64 rng(version);
    TestCase tc = DecodeTestCaseAs(version, nullptr, 0);
    int applied = 0;
    for (int i = 0; i < 20000; ++i) {
      if (MutateTestCase(&tc, version, rng)) ++applied;
      ASSERT_TRUE(ValidateTestCase(tc).ok()) << ValidateTestCase(tc) << " step " << i;
      ASSERT_TRUE(IsEncodableAs(tc, version)) << "step " << i;
      const std::vector<uint8_t> b = EncodeTestCaseAs(tc, version);
      ASSERT_EQ(DecodeTestCase(b.data(), b.size()), tc) << "step " << i;
      if (i % 500 == 0) tc = DecodeTestCaseAs(version, nullptr, 0);  // restart from a small case
    }
    EXPECT_GT(applied, 19000);
  }
}

TEST(MutatorTest, ReachesEveryKindOfChange) {
  SplitMix64 rng(3);
  const TestCase base = ScenarioS1();
  bool ops = false, sched = false, config = false, threads = false;
  for (int i = 0; i < 2000; ++i) {
    TestCase tc = base;
    ASSERT_TRUE(MutateTestCase(&tc, kCodecVersionSegments, rng));
    if (tc.threads.size() != base.threads.size()) {
      threads = true;
    } else if (!(tc.config == base.config)) {
      config = true;
    } else if (!(tc.threads == base.threads)) {
      ops = true;
    } else if (!(tc.schedule == base.schedule)) {
      sched = true;
    }
  }
  EXPECT_TRUE(ops);
  EXPECT_TRUE(sched);
  EXPECT_TRUE(config);
  EXPECT_TRUE(threads);
}

TEST(MutatorTest, CrossOverKeepsConfigAndTakesSchedule) {
  const TestCase a = ScenarioS1(), b = ScenarioS2();
  const TestCase c = CrossOverTestCases(a, b, kCodecVersionSegments);
  EXPECT_EQ(c.config, a.config);
  EXPECT_EQ(c.threads, a.threads);
  ASSERT_EQ(c.schedule.size(), b.schedule.size());
  for (const Segment& s : c.schedule) EXPECT_LT(s.thread, a.threads.size());
}

// The custom mutator hands MutateOrGenerate the steps of the target's last
// run (fuzz/last_run.h) instead of letting it run the input again: the
// mutations must be the same either way, on every preset's rules.
TEST(MutatorTest, KnownOwnStepsGiveTheSameMutations) {
  SplitMix64 gen(11);
  Executor target, ex_a, ex_b;
  int used = 0;
  for (const RulesPreset& preset : AllPresets()) {
    for (int i = 0; i < 60; ++i) {
      std::vector<uint8_t> bytes(16 + gen.Below(120));
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(gen.Next());
      bytes[0] = kCodecVersionSteps;
      const TestCase tc = DecodeTestCase(bytes.data(), bytes.size());
      // As the target runs it: its own schedule, with a trace (the feedback build records one).
      SegmentScheduler seg;
      const std::vector<uint8_t> steps = target.Run(tc, preset.rules, seg).schedule;
      const uint64_t seed = gen.Next();
      SplitMix64 rng_a(seed), rng_b(seed), rng_c(seed);
      TestCase a = tc, b = tc, c = tc;
      const bool changed_a = MutateOrGenerate(&a, kCodecVersionSteps, preset.rules, false, ex_a, rng_a);
      const bool changed_b = MutateOrGenerate(&b, kCodecVersionSteps, preset.rules, false, ex_b, rng_b, &steps);
      ASSERT_EQ(changed_a, changed_b) << preset.name << " input " << i;
      ASSERT_EQ(a, b) << preset.name << " input " << i;
      ASSERT_EQ(rng_a.Next(), rng_b.Next()) << preset.name << " input " << i;
      // The steps are read: wrong ones change some mutations.
      const std::vector<uint8_t> none;
      MutateOrGenerate(&c, kCodecVersionSteps, preset.rules, false, ex_b, rng_c, &none);
      if (!(c == a)) ++used;
    }
  }
  EXPECT_GT(used, 0);
}

TEST(MutatorTest, LastRunMatchesOnlyItsOwnInput) {
  LastRun last;
  const std::vector<uint8_t> input = {2, 0, 1, 5}, steps = {0, 0, 1};
  EXPECT_EQ(last.StepsOf(input.data(), input.size()), nullptr);
  last.Record(input.data(), input.size(), steps);
  const std::vector<uint8_t>* got = last.StepsOf(input.data(), input.size());
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, steps);
  const std::vector<uint8_t> other = {2, 0, 1, 6}, longer = {2, 0, 1, 5, 0};
  EXPECT_EQ(last.StepsOf(other.data(), other.size()), nullptr);
  EXPECT_EQ(last.StepsOf(longer.data(), longer.size()), nullptr);
  EXPECT_EQ(last.StepsOf(input.data(), 3), nullptr);
}

}  // namespace
}  // namespace sptefuzz
