#include "fuzz/mutator.h"

#include <gtest/gtest.h>

#include <set>

#include "core/executor.h"
#include "core/rules.h"
#include "core/scenarios.h"
#include "fuzz/codec.h"

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

// The cache of own-schedule steps only saves runs: an engine-like loop
// (pick a corpus input, mutate it, sometimes keep the mutant) gives the
// same mutants with and without it, and mostly hits the cache.
TEST(MutatorTest, OwnStepsCacheGivesTheSameMutations) {
  const RulesPreset* p = FindPreset("linux-3.6");
  ASSERT_NE(p, nullptr);
  for (uint8_t version : {kCodecVersionSegments, kCodecVersionSteps}) {
    Executor ex_a, ex_b;
    OwnStepsCache cache;
    // Inputs as an engine has them: decoded bytes (the empty input and random strings).
    std::vector<TestCase> corpus = {DecodeTestCaseAs(version, nullptr, 0)};
    SplitMix64 pick(version);
    for (int i = 0; i < 4; ++i) {
      std::vector<uint8_t> bytes(24 + 8 * i);
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(pick.Next());
      bytes[0] = version;
      corpus.push_back(DecodeTestCaseAs(version, bytes.data(), bytes.size()));
    }
    int differing_schedules = 0;
    for (int i = 0; i < 3000; ++i) {
      const TestCase& in = corpus[pick.Below(static_cast<uint32_t>(corpus.size()))];
      TestCase a = in, b = in;
      SplitMix64 rng_a(1000 + i), rng_b(1000 + i);
      const bool ca = MutateOrGenerate(&a, version, p->rules, false, ex_a, rng_a, &cache);
      const bool cb = MutateOrGenerate(&b, version, p->rules, false, ex_b, rng_b, nullptr);
      ASSERT_EQ(ca, cb) << "mutation " << i;
      ASSERT_EQ(a, b) << "mutation " << i;
      differing_schedules += !(a.schedule == in.schedule);
      if (ca && i % 10 == 0 && corpus.size() < 40) corpus.push_back(a);
    }
    EXPECT_GT(differing_schedules, 1000);
    // 12 in 30 mutations are run-aware, over a corpus of at most 40 inputs.
    EXPECT_GT(cache.hits(), 600u) << "version " << int{version};
    EXPECT_LT(cache.misses(), 60u) << "version " << int{version};
  }
}

}  // namespace
}  // namespace sptefuzz
