#include "fuzz/mutator.h"

#include <gtest/gtest.h>

#include <set>

#include "core/executor.h"
#include "core/scenarios.h"
#include "fuzz/codec.h"
#include "fuzz/run_reuse.h"

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
// run (fuzz/run_reuse.h) instead of letting it run the input again: the
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

// The libFuzzer target takes the coverage of the mutator's last run of a
// mutation instead of running the result (fuzz/run_reuse.h): that needs the
// result, as the target decodes it, to take the same steps to the same
// verdict under its own schedule. Checked on every preset, both codec
// versions, and that `replays` is set for a good share of the mutations.
TEST(MutatorTest, ReportedRunsReplayUnderTheResultsOwnSchedule) {
  SplitMix64 gen(23);
  Executor ex, target;
  int replays = 0, mutations = 0;
  // One record for every call, as the custom mutator keeps it: a mutation
  // without a run must not leave the previous one's `replays` standing.
  MutationRun run;
  static int cleared;
  run.before = [] { ++cleared; };
  for (const RulesPreset& preset : AllPresets()) {
    for (uint8_t version : {kCodecVersionSegments, kCodecVersionSteps}) {
      for (int i = 0; i < 40; ++i) {
        std::vector<uint8_t> bytes(16 + gen.Below(120));
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(gen.Next());
        bytes[0] = version;
        TestCase tc = DecodeTestCase(bytes.data(), bytes.size());
        SplitMix64 rng(gen.Next());
        cleared = 0;
        if (!MutateOrGenerate(&tc, version, preset.rules, false, ex, rng, nullptr, &run)) {
          ASSERT_FALSE(run.replays);
          continue;
        }
        ++mutations;
        if (!run.replays) continue;
        ++replays;
        ASSERT_EQ(cleared, 1) << "the hook runs once, before the reported run";
        const std::vector<uint8_t> out = EncodeTestCaseAs(tc, version);
        const TestCase decoded = DecodeTestCase(out.data(), out.size());
        ASSERT_EQ(decoded, tc);
        SegmentScheduler seg;
        ExecOptions opts;
        opts.record_trace = false;
        const Result& r = target.Run(decoded, preset.rules, seg, opts);
        ASSERT_EQ(r.outcome, Outcome::kOk) << preset.name << " input " << i;
        ASSERT_EQ(r.schedule, run.steps) << preset.name << " input " << i;
      }
    }
  }
  // About 27 in 30 structured mutations run the model.
  EXPECT_GT(replays, mutations / 2);
}

// A run that switches threads more than kMaxSegments times does not fit in
// the result's schedule (it is cut), so it must not be reported as one the
// result replays.
TEST(MutatorTest, RunsCutToTheSegmentLimitAreNotReported) {
  TestCase tc;
  tc.config.vcpus = kMaxVcpus;
  tc.config.gfns = 1;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
  for (int i = 0; i < kMaxThreads; ++i) {
    ThreadSpec th;
    th.kind = i < kMaxVcpus ? ThreadKind::kVcpu : ThreadKind::kKernel;
    th.vcpu = i < kMaxVcpus ? static_cast<uint8_t>(i) : 0;
    const OpKind op = i < kMaxVcpus ? OpKind::kFault : OpKind::kZap;
    th.ops.assign(kMaxOpsPerThread, Op{op, 0});
    tc.threads.push_back(th);
  }
  for (int i = 0; i < kMaxSegments; ++i) tc.schedule.push_back({static_cast<uint8_t>(i % kMaxThreads), SegmentKind::kSteps, Label::kH1, 1});
  ASSERT_TRUE(IsEncodableAs(tc, kCodecVersionSteps));
  Executor ex, target;
  const Rules rules = DefaultPreset().rules;
  int cut = 0, replayed = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    TestCase m = tc;
    SplitMix64 rng(seed);
    MutationRun run;
    if (!MutateScheduleByRunning(&m, kCodecVersionSteps, rules, ex, rng, nullptr, &run)) continue;
    SegmentScheduler seg;
    ExecOptions opts;
    opts.record_trace = false;
    const Result& r = target.Run(m, rules, seg, opts);
    if (run.replays) {
      ++replayed;
      ASSERT_EQ(r.schedule, run.steps) << "seed " << seed;
    } else if (m.schedule.size() == static_cast<size_t>(kMaxSegments)) {
      ++cut;
    }
  }
  EXPECT_GT(cut, 0);
  EXPECT_GT(replayed, 0);
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

TEST(MutatorTest, ProducedRunIsTakenOnceAndOnlyForItsInput) {
  ProducedRun produced;
  const std::vector<uint8_t> input = {2, 0, 1, 5}, steps = {1, 0}, other = {2, 0, 1, 6};
  const std::vector<uint8_t> counters = {0, 3, 0, 1};
  const std::vector<uint8_t>* got_steps = nullptr;
  absl::Span<const uint8_t> got_counters;
  EXPECT_FALSE(produced.Take(input.data(), input.size(), &got_steps, &got_counters));
  produced.Offer(input, steps, counters);
  EXPECT_FALSE(produced.Take(other.data(), other.size(), &got_steps, &got_counters));
  ASSERT_TRUE(produced.Take(input.data(), input.size(), &got_steps, &got_counters));
  EXPECT_EQ(*got_steps, steps);
  EXPECT_EQ(std::vector<uint8_t>(got_counters.begin(), got_counters.end()), counters);
  EXPECT_FALSE(produced.Take(input.data(), input.size(), &got_steps, &got_counters)) << "taken once";
  produced.Offer(input, steps, counters);
  produced.Drop();
  EXPECT_FALSE(produced.Take(input.data(), input.size(), &got_steps, &got_counters));
}

}  // namespace
}  // namespace sptefuzz
