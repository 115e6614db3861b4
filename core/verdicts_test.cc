// The verdict table of `sptefuzz rules` as a test: random exploration (the
// programs and schedules `sptefuzz explore` draws) under every preset must
// find a violation of one of the preset's expected invariants within a small
// budget when the preset is buggy, and nothing in a bounded run when it is
// clean. bench/verdicts.sh runs the same check for longer with the release
// binary and writes bench/results/verdicts.md.
#include <chrono>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/executor.h"
#include "core/program_gen.h"
#include "core/rules.h"

namespace sptefuzz {
namespace {

struct Search {
  bool found = false;
  Invariant invariant = Invariant::kCount;
  uint64_t execs = 0;
  std::string why;
};

// explore's loop (repro/cmd_explore.cc): one program rng, one scheduler rng.
// Stops after max_execs executions, or after max_seconds once at least
// min_execs ran (so that a slow sanitizer build searches as far as a
// release build does within the time).
Search Explore(const Rules& rules, uint64_t seed, uint64_t max_execs, double max_seconds, uint64_t min_execs = 0) {
  SplitMix64 prog(seed);
  RandomScheduler sched(seed ^ 0x5eed5c4edull);
  Executor ex;
  Search out;
  const auto start = std::chrono::steady_clock::now();
  for (; out.execs < max_execs; ++out.execs) {
    if ((out.execs & 255) == 0 && out.execs >= min_execs &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > max_seconds) {
      break;
    }
    const TestCase tc = RandomTestCase(prog, GenOptions{});
    const Result& r = ex.Run(tc, rules, sched);
    if (r.outcome == Outcome::kViolation) {
      out.found = true;
      out.invariant = r.violations[0].invariant;
      out.why = r.violations[0].explanation;
      ++out.execs;
      return out;
    }
  }
  return out;
}

class PresetVerdict : public ::testing::TestWithParam<const RulesPreset*> {};

TEST_P(PresetVerdict, MatchesTheExpectedVerdict) {
  const RulesPreset& p = *GetParam();
  if (p.expected.empty()) {
    // Clean: a bounded run (the Debug build explores ~10k executions/s).
    const Search s = Explore(p.rules, 1, 20000, 3.0);
    EXPECT_FALSE(s.found) << p.name << " is expected clean but execution " << s.execs << " violated "
                          << InvariantName(s.invariant) << ": " << s.why;
    return;
  }
  // Buggy: found within a few seconds (and at least 500k executions: B3
  // needs about 200k with seed 1, seconds in a sanitizer build), and the
  // finding is one of the expected invariants. Two seeds, so that one lucky
  // seed is not the test.
  for (uint64_t seed : {1, 2}) {
    const Search s = Explore(p.rules, seed, 1u << 30, 4.0, 500000);
    ASSERT_TRUE(s.found) << p.name << " (seed " << seed << "): no violation in " << s.execs << " executions";
    bool expected = false;
    for (Invariant i : p.expected) expected |= i == s.invariant;
    EXPECT_TRUE(expected) << p.name << " (seed " << seed << ") violated " << InvariantName(s.invariant)
                          << ", which is not among its expected invariants: " << s.why;
  }
}

std::vector<const RulesPreset*> Presets() {
  std::vector<const RulesPreset*> out;
  for (const RulesPreset& p : AllPresets()) out.push_back(&p);
  return out;
}

std::string PresetName(const ::testing::TestParamInfo<const RulesPreset*>& info) {
  std::string n = info.param->name;
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllPresets, PresetVerdict, ::testing::ValuesIn(Presets()), PresetName);

// Every buggy preset names the preset with the fix, and the scenario test
// runs the ground truth under both (scenarios_test.cc).
TEST(PresetTable, BuggyPresetsNameTheirFix) {
  for (const RulesPreset& p : AllPresets()) {
    if (p.expected.empty()) continue;
    ASSERT_NE(FindPreset(p.fixed_by), nullptr) << p.name << " names fix '" << p.fixed_by << "'";
    EXPECT_TRUE(FindPreset(p.fixed_by)->expected.empty()) << p.name << ": its fix " << p.fixed_by << " is not clean";
  }
}

}  // namespace
}  // namespace sptefuzz
