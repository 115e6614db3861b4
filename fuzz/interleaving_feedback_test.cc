#include "fuzz/interleaving_feedback.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/executor.h"
#include "core/rules.h"
#include "core/scenarios.h"
#include "core/scheduler.h"

namespace sptefuzz {
namespace {

std::vector<uint8_t> CountersAfter(const TestCase& tc, const Rules& rules) {
  uint8_t* c = FeedbackCounters();
  std::memset(c, 0, kFeedbackCounters);
  Executor ex;
  SegmentScheduler sched;
  RecordInterleavingFeedback(tc, ex.Run(tc, rules, sched));
  return std::vector<uint8_t>(c, c + kFeedbackCounters);
}

int NonZero(const std::vector<uint8_t>& v) {
  int n = 0;
  for (uint8_t b : v) n += b != 0;
  return n;
}

// Outside sptefuzz_fuzzer_fb the counters are an ordinary array: no engine
// scans them, and SPTEFUZZ_FEEDBACK=on is refused (fuzz/expect_usage_error.sh).
TEST(InterleavingFeedbackTest, CountersAreInvisibleToTheEngineHere) {
  EXPECT_FALSE(FeedbackCountersSeenByEngine());
}

// The same program under two schedules: the racy order (S1's) and the
// vCPU running to the end first. Each bumps counters, and they differ: the
// feedback rewards a new order of conflicting events, not only new code.
TEST(InterleavingFeedbackTest, DifferentInterleavingsGiveDifferentCounters) {
  const Rules& rules = FindPreset("v5-patch")->rules;
  const TestCase racy = ScenarioS1();
  TestCase serial = racy;
  serial.schedule = {Segment{0, SegmentKind::kToEnd, Label::kH1, 0}};
  const std::vector<uint8_t> a = CountersAfter(racy, rules);
  const std::vector<uint8_t> b = CountersAfter(serial, rules);
  EXPECT_GT(NonZero(a), 3);
  EXPECT_GT(NonZero(b), 3);
  EXPECT_NE(a, b);
  // Deterministic: the same run bumps the same counters.
  EXPECT_EQ(a, CountersAfter(racy, rules));
}

}  // namespace
}  // namespace sptefuzz
