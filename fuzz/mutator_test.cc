#include "fuzz/mutator.h"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace sptefuzz
