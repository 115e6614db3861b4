// Native mode: the actors on real OS threads.
#include "core/native.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/program_gen.h"
#include "core/scenarios.h"
#include "core/test_util.h"

namespace sptefuzz {
namespace {

TEST(NativeTest, OneThreadRoundsCompleteAndAreClean) {
  NativeRunner runner;
  TestCase tc = ScenarioS1();
  tc.schedule.clear();
  for (int i = 0; i < 200; ++i) {
    const Result& r = runner.Run(tc, PresetRules("linux-3.6"));
    ASSERT_EQ(r.outcome, Outcome::kOk) << r.violations[0].explanation;
    EXPECT_TRUE(r.trace.empty());  // native mode records no trace
  }
}

// The end-of-round oracles work natively: a planted unlogged fast-path write
// is a lost dirty log whatever the timing (one thread, no race needed).
TEST(NativeTest, EndOfRoundOracleCatchesPlantedBug) {
  TestCase tc;
  tc.config.logging = true;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 0}})};
  Rules r = PresetRules("linux-3.6");
  r.plant = Plant::kFastPfNoMarkDirty;
  NativeRunner runner;
  const Result& res = runner.Run(tc, r);
  ASSERT_EQ(res.outcome, Outcome::kViolation);
  EXPECT_EQ(res.violations[0].invariant, Invariant::kLostDirtyLog) << res.violations[0].explanation;
}

// A correct preset stays clean under real concurrency (and under TSan in the
// tsan preset: the model's shared state is atomics or lock-protected).
TEST(NativeTest, CorrectPresetIsCleanOnRandomPrograms) {
  NativeRunner runner;
  SplitMix64 rng(99);
  for (int i = 0; i < 2000; ++i) {
    TestCase tc = RandomTestCase(rng, GenOptions{});
    const Result& r = runner.Run(tc, PresetRules("linux-3.6"));
    ASSERT_EQ(r.outcome, Outcome::kOk) << "round " << i << ": " << r.violations[0].explanation;
  }
}

// The end-of-round I2 check follows FinalChecks: the TDP MMU has no rmap,
// so a dirty spte the TDP fault installed in an empty slot holds the dirty
// state (it was reported as lost-page-dirty before, on every TDP preset).
TEST(NativeTest, TdpSpteInstalledInAnEmptySlotHoldsTheDirtyState) {
  TestCase tc;
  tc.config.gfns = 2;
  tc.config.logging = false;
  tc.config.init_spte[1] = 0;
  tc.threads = {VcpuThread(0, {{OpKind::kWrite, 1}})};
  NativeRunner runner;
  for (const char* preset : {"linux-5.18", "linux-6.15"}) {
    const Result& r = runner.Run(tc, PresetRules(preset));
    ASSERT_EQ(r.outcome, Outcome::kOk) << preset << ": " << r.violations[0].explanation;
  }
}

// Random programs (large=on, indirect=on, every op) on the newest presets.
TEST(NativeTest, TdpPresetsAreCleanOnRandomPrograms) {
  NativeRunner runner;
  SplitMix64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    TestCase tc = RandomTestCase(rng, GenOptions{});
    for (const char* preset : {"linux-5.18", "linux-6.15"}) {
      const Result& r = runner.Run(tc, PresetRules(preset));
      ASSERT_EQ(r.outcome, Outcome::kOk) << preset << " round " << i << ": " << r.violations[0].explanation;
    }
  }
}

// Two writebacks of one page race with a writer. The one that takes the
// dirty bit is held up between its test-and-clear and its log stamp, so the
// other clears after it and finds the page clean. The end-of-round I2 check
// must see the clears in the order they happened: the page lock orders them
// (a stamp taken outside it made this a false lost-page-dirty, seen once
// under ASan in TdpPresetsAreCleanOnRandomPrograms).
TEST(NativeTest, ConcurrentWritebacksOfOnePageAreNotALostDirtyBit) {
  TestCase tc;
  tc.config.gfns = 1;
  tc.config.logging = false;
  const Op w{OpKind::kWrite, 0}, wb{OpKind::kWriteback, 0};
  tc.threads = {VcpuThread(0, {w, w, w, w, w, w, w, w}), KvmThread({wb, wb, wb, wb, wb, wb, wb, wb}),
                KvmThread({wb, wb, wb, wb, wb, wb, wb, wb})};
  Model::native_wb_pause_for_test = [](int thread) {
    if (thread == 1) std::this_thread::sleep_for(std::chrono::microseconds(200));
  };
  // Uninstalled however the test ends (an ASSERT returns early).
  struct Uninstall {
    ~Uninstall() { Model::native_wb_pause_for_test = nullptr; }
  } uninstall;
  NativeRunner runner;
  for (int i = 0; i < 50; ++i) {
    for (const char* preset : {"linux-3.6", "linux-6.15"}) {
      const Result& r = runner.Run(tc, PresetRules(preset));
      ASSERT_EQ(r.outcome, Outcome::kOk) << preset << " round " << i << ": " << r.violations[0].explanation;
    }
  }
}

}  // namespace
}  // namespace sptefuzz
