// Tests of PCT, the step footprints and the bounded DFS (core/pct_scheduler.h,
// core/dfs_footprint.h, core/dfs.h).
#include "core/dfs.h"

#include <algorithm>
#include <set>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/executor.h"
#include "core/pct_scheduler.h"
#include "core/program_gen.h"
#include "core/rules.h"
#include "core/scenarios.h"
#include "gtest/gtest.h"

namespace sptefuzz {
namespace {

const Rules& PresetRules(const char* name) {
  const RulesPreset* p = FindPreset(name);
  EXPECT_NE(p, nullptr) << name;
  return p->rules;
}

TestCase S1Program() {
  TestCase tc = ScenarioS1();
  tc.schedule.clear();
  return tc;
}

// ---- footprints ----

TEST(FootprintTest, IndependenceRule) {
  const Footprint read_a{FpSpte(0), 0}, read_b{FpSpte(0), 0};
  const Footprint write_a{0, FpSpte(0)}, write_other{0, FpSpte(1)};
  EXPECT_TRUE(Independent(read_a, read_b));          // both only read
  EXPECT_FALSE(Independent(read_a, write_a));        // read/write of the same spte
  EXPECT_FALSE(Independent(write_a, write_a));
  EXPECT_TRUE(Independent(write_a, write_other));    // different sptes
  EXPECT_FALSE(Independent(Footprint{kFpAll, kFpAll}, read_a));
  const Footprint add_a{0, 0, kFpBitmap}, add_b{0, 0, kFpBitmap}, read_bm{kFpBitmap, 0, 0};
  EXPECT_TRUE(Independent(add_a, add_b));            // commutative updates
  EXPECT_FALSE(Independent(add_a, read_bm));
}

TEST(FootprintTest, StepsOfTheModel) {
  TestCase tc = S1Program();  // thread 0: wb g0, thread 1: vcpu0 write g0
  const Footprint z1 = StepFootprint(tc, 0, Label::kZ1, 0);
  const Footprint z2 = StepFootprint(tc, 0, Label::kZ2, 0);
  const Footprint n1 = StepFootprint(tc, 0, Label::kN1, 0);
  const Footprint h1 = StepFootprint(tc, 1, Label::kH1, 0);
  const Footprint f2 = StepFootprint(tc, 1, Label::kF2, 0);
  const Footprint f3 = StepFootprint(tc, 1, Label::kF3, 0);
  const Footprint s3 = StepFootprint(tc, 1, Label::kS3, 0);
  EXPECT_TRUE(Independent(z1, f2));    // two loads of the spte
  EXPECT_FALSE(Independent(z1, f3));   // load vs cmpxchg: the S1 race
  EXPECT_FALSE(Independent(z2, f2));
  EXPECT_FALSE(Independent(n1, s3));   // both take mmu_lock
  EXPECT_TRUE(Independent(n1, f2));    // the lock vs a lockless load
  EXPECT_TRUE(Independent(z1, h1));    // the TLB lookup of a read-only hit path only loads the spte
  EXPECT_FALSE(Independent(z2, h1));
  // Two vCPUs' guest accesses of the same gfn only read the spte and record
  // history: independent; a writeback reads that history: dependent.
  TestCase two = tc;
  two.config.vcpus = 2;
  two.threads.push_back(ThreadSpec{ThreadKind::kVcpu, 1, {{OpKind::kWrite, 0}}});
  const Footprint h1_other = StepFootprint(two, 2, Label::kH1, 0);
  EXPECT_TRUE(Independent(h1, h1_other));
  EXPECT_FALSE(Independent(StepFootprint(tc, 0, Label::kWB, 0), h1));
  // Setting bits in the dirty bitmap commutes.
  EXPECT_TRUE(Independent(StepFootprint(tc, 1, Label::kF4, 0), StepFootprint(two, 2, Label::kS7, 0)));
  // The harvest's bitmap xchg conflicts with a fast path marking the gfn
  // dirty, not with its walk (which reads only the logging flag).
  TestCase h = tc;
  h.threads[0].ops = {{OpKind::kHarvest, 0}};
  EXPECT_FALSE(Independent(StepFootprint(h, 0, Label::kG2, 0), StepFootprint(tc, 1, Label::kF4, 0)));
  EXPECT_TRUE(Independent(StepFootprint(h, 0, Label::kG2, 0), f2));
  // Enabling dirty logging conflicts with everything after its first step.
  TestCase e = tc;
  e.threads[0].ops = {{OpKind::kEnableLog, 0}};
  EXPECT_FALSE(Independent(StepFootprint(e, 0, Label::kL2, 0), h1));
  EXPECT_FALSE(Independent(StepFootprint(e, 0, Label::kL1, 0), f2));  // the logging flag
}

// The TDP MMU's steps (linux-5.10 and later) have footprints of their own.
TEST(FootprintTest, TdpSteps) {
  TestCase tc = S1Program();  // thread 0: wb g0, thread 1: vcpu0 write g0
  tc.config.vcpus = 2;
  tc.threads.push_back(ThreadSpec{ThreadKind::kVcpu, 1, {{OpKind::kWrite, 0}}});
  const Footprint t0_vcpu = StepFootprint(tc, 1, Label::kT0, 0);
  const Footprint t1_vcpu = StepFootprint(tc, 1, Label::kT1, 0);
  const Footprint r3_vcpu0 = StepFootprint(tc, 1, Label::kR3, 0);
  const Footprint r3_vcpu1 = StepFootprint(tc, 2, Label::kR3, 0);
  const Footprint tw_kvm = StepFootprint(tc, 0, Label::kTW, 0);
  const Footprint n1_kvm = StepFootprint(tc, 0, Label::kN1, 0);
  EXPECT_TRUE(Independent(r3_vcpu0, r3_vcpu1));   // two read_locks commute
  EXPECT_FALSE(Independent(r3_vcpu0, n1_kvm));    // a read_lock and a write_lock do not
  EXPECT_FALSE(Independent(t1_vcpu, tw_kvm));     // cmpxchg vs the write-lock setter
  EXPECT_TRUE(Independent(t0_vcpu, StepFootprint(tc, 0, Label::kT0, 0)));  // two loads
  // A flush step knows its vCPU: flushing vcpu1 leaves vcpu0's TLB alone.
  const Footprint h1_vcpu0 = StepFootprint(tc, 1, Label::kH1, 0);
  EXPECT_TRUE(Independent(StepFootprint(tc, 0, Label::kFL, 0, /*arg=*/1), h1_vcpu0));
  EXPECT_FALSE(Independent(StepFootprint(tc, 0, Label::kFL, 0, /*arg=*/0), h1_vcpu0));
  EXPECT_FALSE(Independent(StepFootprint(tc, 0, Label::kFL, 0), h1_vcpu0));  // vCPU unknown
  // Without change-pte no host pte turns read-only, so faults break no COW
  // and read no tlbs_dirty; kvm->tlbs_dirty only moves with sync-drop.
  EXPECT_TRUE(Independent(t0_vcpu, StepFootprint(tc, 0, Label::kFL, 0, 1)));
  TestCase ksm = tc;
  ksm.threads[0].ops = {{OpKind::kChangePte, 0}};
  ksm.threads[1].ops = {{OpKind::kWrite, 0}};
  EXPECT_FALSE(Independent(StepFootprint(ksm, 1, Label::kS1, 0), StepFootprint(ksm, 0, Label::kN2, 0)));
}

// ---- PCT ----

TEST(PctTest, BoundFormula) {
  EXPECT_DOUBLE_EQ(PctScheduler::Bound(2, 10, 1), 0.5);
  EXPECT_DOUBLE_EQ(PctScheduler::Bound(2, 10, 3), 1.0 / 200);
}

TEST(PctTest, LearnsKAsTheLongestRun) {
  Executor ex;
  PctScheduler pct(7, 2, /*initial_k=*/1);
  const TestCase tc = S1Program();
  uint32_t longest = 0;
  for (int i = 0; i < 20; ++i) longest = std::max(longest, ex.Run(tc, PresetRules("linux-3.6"), pct).steps);
  ex.Run(tc, PresetRules("linux-3.6"), pct);  // Begin() folds in the previous run
  EXPECT_EQ(pct.k(), longest);
}

// S1 under v5-patch is a depth-2 bug (one ordering constraint beyond the
// first: the fast path's F3 between Z1 and Z2). With k about 20 steps and 2
// threads PCT's bound is 1/40 per run; a fixed seed finds it well within 400.
TEST(PctTest, FindsS1WithinBoundedRuns) {
  Executor ex;
  PctScheduler pct(1, 2);
  const TestCase tc = S1Program();
  int found_at = -1;
  for (int i = 1; i <= 400 && found_at < 0; ++i) {
    if (ex.Run(tc, PresetRules("v5-patch"), pct).outcome == Outcome::kViolation) found_at = i;
  }
  EXPECT_GT(found_at, 0);
  // Depth 1 (no change point) runs the threads in priority order only: never the bug.
  PctScheduler serial(1, 1);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ex.Run(tc, PresetRules("v5-patch"), serial).outcome, Outcome::kOk);
}

// ---- DFS ----

DfsOutcome RunDfs(const TestCase& tc, const char* rules, int k, bool por) {
  Executor ex;
  DfsOptions o;
  o.preemptions = k;
  o.por = por;
  DfsExplorer dfs(tc, PresetRules(rules), o);
  return dfs.Run(ex);
}

TEST(DfsTest, FindsS1UnderV5AtOnePreemption) {
  for (bool por : {false, true}) {
    const DfsOutcome zero = RunDfs(S1Program(), "v5-patch", 0, por);
    EXPECT_FALSE(zero.violation.has_value());
    EXPECT_TRUE(zero.stats.exhaustive);
    const DfsOutcome one = RunDfs(S1Program(), "v5-patch", 1, por);
    ASSERT_TRUE(one.violation.has_value());
    EXPECT_EQ(one.violation_preemptions, 1);
    EXPECT_EQ(one.violation->violations[0].invariant, Invariant::kLostPageDirty);
    // The finding replays step by step.
    Executor ex;
    ReplayScheduler replay(one.violation->schedule);
    EXPECT_EQ(ex.Run(S1Program(), PresetRules("v5-patch"), replay).TraceHash(), one.violation->TraceHash());
  }
}

TEST(DfsTest, ProvesS1CleanUnderLinux36) {
  const DfsOutcome full = RunDfs(S1Program(), "linux-3.6", 3, /*por=*/false);
  const DfsOutcome por = RunDfs(S1Program(), "linux-3.6", 3, /*por=*/true);
  EXPECT_FALSE(full.violation.has_value());
  EXPECT_FALSE(por.violation.has_value());
  EXPECT_TRUE(full.stats.exhaustive);
  EXPECT_TRUE(por.stats.exhaustive);
  // The reduction skips reorderings of independent steps.
  EXPECT_LT(por.stats.interleavings, full.stats.interleavings);
  EXPECT_GT(por.stats.interleavings, 1u);
}

// Config large=on: every step may touch slot 0 and every gfn's oracle
// state, so nothing is independent; DFS finds B4 (S4) and proves the same
// program clean under 3.15 at a small bound.
TEST(DfsTest, LargeLeafStepsAreNeverIndependentAndS4IsFound) {
  TestCase tc = ScenarioS4();
  const Footprint all{kFpAll, kFpAll, kFpAll};
  EXPECT_EQ(StepFootprint(tc, 1, Label::kH1, 0), all);
  EXPECT_EQ(StepFootprint(tc, 1, Label::kF2, 0), all);
  tc.schedule.clear();
  const DfsOutcome bad = RunDfs(tc, "b4-fast-pf-large-spte-logs-base-gfn", 0, /*por=*/true);
  ASSERT_TRUE(bad.violation.has_value());
  EXPECT_EQ(bad.violation->violations[0].invariant, Invariant::kLostDirtyLog);
  const DfsOutcome ok = RunDfs(tc, "linux-3.15", 2, /*por=*/true);
  EXPECT_FALSE(ok.violation.has_value());
  EXPECT_TRUE(ok.stats.exhaustive);
}

// Without preemptions a 2-thread program has exactly two schedules (which
// thread runs first); a larger bound only adds schedules.
TEST(DfsTest, CountsGrowWithTheBound) {
  EXPECT_EQ(RunDfs(S1Program(), "linux-3.6", 0, false).stats.interleavings, 2u);
  uint64_t prev = 0;
  for (int k = 0; k <= 3; ++k) {
    const DfsOutcome o = RunDfs(S1Program(), "linux-3.6", k, false);
    EXPECT_TRUE(o.stats.exhaustive);
    EXPECT_EQ(o.stats.sleep_blocked, 0u);
    EXPECT_GT(o.stats.interleavings, prev);
    prev = o.stats.interleavings;
  }
}

// bound_cut_steps == 0 says the bound changed nothing: the search at the
// next bound is the same search (same counts), and cuts nothing either. Over
// every program of the default 1-op space, with and without the reduction;
// both kinds of outcome occur there (S1 at bound 0 is cut, and so are
// most programs, while some finish before the bound can matter).
TEST(DfsTest, ABoundThatCutNothingHoldsForEveryBound) {
  SmallProgramSpace space;
  space.config = SmallProgramConfig();
  space.max_ops = 1;
  int uncut = 0, cut = 0;
  for (bool por : {true, false}) {
    ForEachSmallProgram(space, [&](const TestCase& tc) {
      for (int k = 0; k <= 2; ++k) {
        const DfsOutcome a = RunDfs(tc, "linux-6.15", k, por);
        EXPECT_TRUE(a.stats.exhaustive);
        if (a.stats.bound_cut_steps != 0) {
          ++cut;
          continue;
        }
        ++uncut;
        const DfsOutcome b = RunDfs(tc, "linux-6.15", k + 1, por);
        EXPECT_EQ(b.stats.bound_cut_steps, 0u) << "bound " << k;
        EXPECT_EQ(a.stats.interleavings, b.stats.interleavings) << "bound " << k;
        EXPECT_EQ(a.stats.sleep_blocked, b.stats.sleep_blocked) << "bound " << k;
        EXPECT_EQ(a.stats.steps, b.stats.steps) << "bound " << k;
      }
      return !HasFailure();
    });
  }
  EXPECT_GT(uncut, 0);
  EXPECT_GT(cut, 0);
  EXPECT_GT(RunDfs(S1Program(), "linux-3.6", 0, true).stats.bound_cut_steps, 0u);
}

TEST(DfsTest, SmallProgramEnumeration) {
  SmallProgramSpace space;
  space.config = SmallProgramConfig();
  space.max_ops = 1;
  uint64_t n = ForEachSmallProgram(space, [](const TestCase& tc) {
    EXPECT_TRUE(ValidateTestCase(tc).ok());
    EXPECT_LE(tc.threads[0].ops[0].kind, tc.threads[1].ops[0].kind);  // vCPU symmetry
    return true;
  });
  EXPECT_EQ(n, 6u * 6u);  // {r,w,f} unordered pairs with repetition x 6 kernel ops
  space.max_ops = 2;
  EXPECT_EQ(ForEachSmallProgram(space, [](const TestCase&) { return true; }), (12u * 13u / 2u) * 42u);
  // Two kernel threads are interchangeable too: unordered pairs of their sequences.
  space.max_ops = 1;
  space.kernel_threads = 2;
  uint64_t listed = ForEachSmallProgram(space, [](const TestCase& tc) {
    EXPECT_EQ(tc.threads.size(), 4u);
    EXPECT_LE(tc.threads[2].ops[0].kind, tc.threads[3].ops[0].kind);
    return true;
  });
  EXPECT_EQ(listed, 6u * (6u * 7u / 2u));
  // No kernel thread: only the vCPUs' programs.
  space.kernel_threads = 0;
  space.vcpus = 3;
  EXPECT_EQ(ForEachSmallProgram(space, [](const TestCase&) { return true; }), 10u);  // multisets of 3 from {r,w,f}
}

// ---- checkpoints ----

// Everything a search did, in order: the outcome, final state and schedule
// of every interleaving, the counts, and the violation it stopped at.
struct SearchLog {
  uint64_t hash = 0xcbf29ce484222325ull;
  DfsStats stats;
  bool violation = false;
  std::vector<uint8_t> violation_schedule;
  uint64_t violation_trace = 0;
  int violation_preemptions = 0;
  void Mix(uint64_t v) {
    hash ^= v;
    hash *= 0x100000001b3ull;
  }
};

SearchLog Search(Executor& ex, const TestCase& tc, const Rules& rules, int k, bool por, bool checkpoints,
                 bool chain = true) {
  SearchLog log;
  DfsOptions o;
  o.preemptions = k;
  o.por = por;
  o.checkpoints = checkpoints;
  o.chain = chain;
  o.max_executions = 20000;
  o.exec.digest_final_state = true;
  o.on_interleaving = [&](const Result& r) {
    log.Mix(static_cast<uint64_t>(r.outcome));
    log.Mix(r.final_state);
    log.Mix(r.steps);
    for (uint8_t t : r.schedule) log.Mix(t);
    for (const Violation& v : r.violations) log.Mix(static_cast<uint64_t>(v.invariant));
  };
  DfsExplorer dfs(tc, rules, o);
  const DfsOutcome out = dfs.Run(ex);
  log.stats = out.stats;
  if (out.violation) {
    log.violation = true;
    log.violation_schedule = out.violation->schedule;
    log.violation_trace = out.violation->TraceHash();
    log.violation_preemptions = out.violation_preemptions;
  }
  return log;
}

// Two searches did the same: the same interleavings in the same order
// (outcomes, final states, steps, schedules), the same counts and the same
// violation.
void ExpectSameSearch(const SearchLog& a, const SearchLog& b, const std::string& what) {
  EXPECT_EQ(a.hash, b.hash) << what;
  EXPECT_EQ(a.stats.interleavings, b.stats.interleavings) << what;
  EXPECT_EQ(a.stats.sleep_blocked, b.stats.sleep_blocked) << what;
  EXPECT_EQ(a.stats.cut, b.stats.cut) << what;
  // Where the bound and the fairness rule ruled threads out: a node or a
  // chained step must do that bookkeeping alike.
  EXPECT_EQ(a.stats.bound_cut_steps, b.stats.bound_cut_steps) << what;
  EXPECT_EQ(a.stats.fair_cut_steps, b.stats.fair_cut_steps) << what;
  EXPECT_EQ(a.stats.steps, b.stats.steps) << what;
  EXPECT_EQ(a.stats.exhaustive, b.stats.exhaustive) << what;
  EXPECT_EQ(a.violation, b.violation) << what;
  EXPECT_EQ(a.violation_schedule, b.violation_schedule) << what;
  EXPECT_EQ(a.violation_trace, b.violation_trace) << what;
  EXPECT_EQ(a.violation_preemptions, b.violation_preemptions) << what;
}

// Calls f(tc, preset, bound, por) on random programs of every preset
// (large leaves, indirect sps, PML and every op among them) and on every
// `stride`th program of the default small-program space under linux-6.15
// and linux-3.6; stops at the first failure.
void ForComparedPrograms(uint64_t stride, const std::function<bool(const TestCase&, const RulesPreset&, int, bool)>& f) {
  SplitMix64 rng(7);
  GenOptions gen;
  gen.max_vcpus = 3;
  gen.max_gfns = 3;
  gen.max_ops = 3;
  for (const RulesPreset& p : AllPresets()) {
    for (int i = 0; i < 6; ++i) {
      TestCase tc = RandomTestCase(rng, gen);
      if (!f(tc, p, 1 + i % 2, i % 3 != 2)) return;
    }
  }
  SmallProgramSpace space;
  space.config = SmallProgramConfig();
  space.max_ops = 2;
  uint64_t n = 0;
  ForEachSmallProgram(space, [&](const TestCase& tc) {
    if (n++ % stride != 0) return true;
    return f(tc, *FindPreset("linux-6.15"), 2, true) && f(tc, *FindPreset("linux-3.6"), 2, true);
  });
}

// Continuing from a checkpoint is an optimization only: the same search as
// re-executing every prefix. One executor per mode for all programs, so
// checkpoint buffers are reused across programs of different sizes.
TEST(DfsTest, CheckpointsChangeNothingButTheWork) {
  Executor with, without;
  uint64_t programs = 0, resumed = 0, resumed_steps = 0, steps = 0, violations = 0;
  ForComparedPrograms(16, [&](const TestCase& tc, const RulesPreset& p, int k, bool por) {
    const SearchLog a = Search(with, tc, p.rules, k, por, true);
    const SearchLog b = Search(without, tc, p.rules, k, por, false);
    ++programs;
    ExpectSameSearch(a, b, absl::StrCat(p.name, " bound ", k));
    EXPECT_EQ(b.stats.resumed, 0u);
    EXPECT_LE(a.stats.resumed, a.stats.interleavings + a.stats.sleep_blocked);
    resumed += a.stats.resumed;
    resumed_steps += a.stats.resumed_steps;
    steps += a.stats.steps;
    violations += a.violation;
    return !HasFailure();
  });
  EXPECT_GT(programs, 200u);
  EXPECT_GT(violations, 5u);  // the buggy presets' findings were compared too
  if (!kTsanBuild) {
    // And the checkpoints were used: most of the prefix steps were not re-executed.
    EXPECT_GT(resumed, programs * 10);
    EXPECT_GT(resumed_steps * 4, steps);
  }
}

// Taking forced steps without a node is an optimization only: the same
// search as giving every step a node, whether the executions continue from
// checkpoints or re-execute their prefixes (which replays the chained steps
// between the nodes).
TEST(DfsTest, ChainedForcedStepsChangeNothingButTheWork) {
  Executor ex;
  uint64_t programs = 0, chained = 0, steps = 0, violations = 0;
  ForComparedPrograms(40, [&](const TestCase& tc, const RulesPreset& p, int k, bool por) {
    const SearchLog nodes = Search(ex, tc, p.rules, k, por, /*checkpoints=*/false, /*chain=*/false);
    const SearchLog replayed = Search(ex, tc, p.rules, k, por, /*checkpoints=*/false, /*chain=*/true);
    const SearchLog resumed = Search(ex, tc, p.rules, k, por, /*checkpoints=*/true, /*chain=*/true);
    ++programs;
    ExpectSameSearch(replayed, nodes, absl::StrCat(p.name, " bound ", k, ", re-executed"));
    ExpectSameSearch(resumed, nodes, absl::StrCat(p.name, " bound ", k, ", from checkpoints"));
    EXPECT_EQ(nodes.stats.chained, 0u);
    EXPECT_EQ(replayed.stats.chained, resumed.stats.chained);
    chained += resumed.stats.chained;
    steps += resumed.stats.steps - resumed.stats.resumed_steps;
    violations += resumed.violation;
    return !HasFailure();
  });
  EXPECT_GT(programs, 200u);
  EXPECT_GT(violations, 5u);
  // Most new steps are forced (on the 2-op space of linux-6.15, 69% are).
  EXPECT_GT(chained * 3, steps);
}

TEST(ModelTest, NoCheckpointOfARunThatRecordsItsTrace) {
  // A scheduler that tries to checkpoint at every Pick.
  struct Saver : Scheduler {
    Executor* ex;
    int saved = 0, tried = 0;
    int Pick(const SchedView& v) override {
      ++tried;
      saved += ex->SaveCheckpoint(0, v);
      return DefaultPick(v);
    }
  };
  Executor ex;
  Saver s;
  s.ex = &ex;
  const TestCase tc = S1Program();
  ExecOptions traced;
  (void)ex.Run(tc, PresetRules("linux-3.6"), s, traced);
  EXPECT_GT(s.tried, 5);
  EXPECT_EQ(s.saved, 0);
  ExecOptions plain;
  plain.record_trace = false;
  s.tried = s.saved = 0;
  (void)ex.Run(tc, PresetRules("linux-3.6"), s, plain);
  EXPECT_EQ(s.saved, kTsanBuild ? 0 : s.tried);
  // The frames of these runs fit in one arena chunk, the first run's too
  // (a first run once took a chunk per frame, and could not be checkpointed).
  EXPECT_EQ(ex.arena_chunks(), 1u);
}

// A checkpoint resumes the run it was taken of, to the same end; after a
// run under other rules it is refused (an internal check, not a wrong answer).
TEST(ModelDeathTest, ResumeContinuesItsRunAndRefusesAnother) {
  if (kTsanBuild) GTEST_SKIP() << "no checkpoints under TSan";
  struct SaveAtThree : Scheduler {
    Executor* ex;
    int Pick(const SchedView& v) override {
      if (v.step == 3) EXPECT_TRUE(ex->SaveCheckpoint(0, v));
      return DefaultPick(v);
    }
  };
  const TestCase tc = S1Program();
  ExecOptions plain;
  plain.record_trace = false;
  plain.digest_final_state = true;
  Executor ex;
  SaveAtThree s;
  s.ex = &ex;
  for (const char* rules : {"linux-3.6", "linux-6.15"}) {
    const Result whole = ex.Run(tc, PresetRules(rules), s, plain);
    ASSERT_GT(whole.schedule.size(), 3u);
    const Result resumed = ex.Resume(0, s);
    EXPECT_EQ(resumed.schedule, whole.schedule) << rules;
    EXPECT_EQ(resumed.steps, whole.steps) << rules;
    EXPECT_EQ(resumed.outcome, whole.outcome) << rules;
    EXPECT_EQ(resumed.final_state, whole.final_state) << rules;
  }
  ReplayScheduler other({});
  (void)ex.Run(tc, PresetRules("linux-3.6"), other, plain);  // saves nothing: slot 0 is the linux-6.15 run's
  EXPECT_DEATH((void)ex.Resume(0, s), "internal check failed");
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// The reduction must not lose a violation: over every small program, DFS
// with sleep sets finds one exactly when the plain bounded DFS does (also
// with PML, whose steps append to and drain the per-vCPU buffers).
TEST(DfsTest, ReductionKeepsEveryVerdict) {
  for (bool pml : {false, true}) {
    SmallProgramSpace space;
    space.config = SmallProgramConfig();
    space.config.pml = pml;
    space.max_ops = 1;
    for (const char* rules : {"v5-patch", "avi-proposal", "linux-4.12", "linux-5.10", "b5-harvest-flush-after-unlock",
                              "linux-6.15", "b11-make-spte-skips-d-conditional-harvest-flush"}) {
      for (int k = 0; k <= 1; ++k) {
        ForEachSmallProgram(space, [&](const TestCase& tc) {
          const bool full = RunDfs(tc, rules, k, false).violation.has_value();
          const bool por = RunDfs(tc, rules, k, true).violation.has_value();
          EXPECT_EQ(full, por) << rules << " bound " << k << " pml " << pml << " program "
                               << tc.threads[0].ops.size();
          return true;
        });
      }
    }
  }
}

TestCase S11Program() {
  TestCase tc = ScenarioS11();
  tc.schedule.clear();
  return tc;
}

// S11 needs two preemptions (vCPU1's fault after vCPU0's install, the
// harvest before vCPU0's second write); the fixed kernel passes the same
// bound exhaustively.
TEST(DfsTest, FindsS11UnderB11AndProvesLinux615Clean) {
  const char* b11 = "b11-make-spte-skips-d-conditional-harvest-flush";
  const DfsOutcome found = RunDfs(S11Program(), b11, 2, /*por=*/true);
  ASSERT_TRUE(found.violation.has_value());
  EXPECT_LE(found.violation_preemptions, 2);
  EXPECT_EQ(found.violation->violations[0].invariant, Invariant::kStaleTlbAfterDirtyLog);
  const DfsOutcome clean = RunDfs(S11Program(), "linux-6.15", 2, /*por=*/true);
  EXPECT_FALSE(clean.violation.has_value());
  EXPECT_TRUE(clean.stats.exhaustive);
}

TEST(FootprintTest, PmlSteps) {
  const TestCase tc = S11Program();  // thread 0: vcpu0, thread 1: vcpu1, thread 2: harvest
  const Footprint px0 = StepFootprint(tc, 0, Label::kPX, 0);
  const Footprint cas1 = StepFootprint(tc, 1, Label::kH4Cas, 0);
  const Footprint cas0 = StepFootprint(tc, 0, Label::kH4Cas, 1);
  EXPECT_TRUE(Independent(px0, cas1));    // different vCPUs' buffers; bitmap bits commute
  EXPECT_FALSE(Independent(px0, StepFootprint(tc, 2, Label::kPK, 0)));  // the harvest conflicts with all
  EXPECT_NE(cas0.write & FpPml(0), 0u);
  EXPECT_EQ(px0.add, kFpBitmap);
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// Records, for every step of a run, which thread took it and the label and
// operation of its pending step (what StepFootprint() is asked about).
class RecordingScheduler : public Scheduler {
 public:
  explicit RecordingScheduler(Scheduler* inner) : inner_(inner) {}
  struct Pick {
    int thread;
    Label label;
    int op;
    int arg;
  };
  void Begin(const TestCase& tc) override {
    picks_.clear();
    inner_->Begin(tc);
  }
  int Pick(const SchedView& v) override {
    const int t = inner_->Pick(v);
    picks_.push_back({t, v.pending[t], v.pending_op[t], v.pending_arg[t]});
    return t;
  }
  void Observe(int thread, Label label) override { inner_->Observe(thread, label); }
  const std::vector<struct Pick>& picks() const { return picks_; }

 private:
  Scheduler* inner_;
  std::vector<struct Pick> picks_;
};

// Each thread's own steps, in order: their labels and events.
std::vector<std::vector<std::pair<Label, Event>>> StepsPerThread(const Result& r) {
  std::vector<std::vector<std::pair<Label, Event>>> out(kMaxThreads);
  for (const TraceStep& s : r.trace) out[s.thread].emplace_back(s.label, s.event);
  return out;
}

std::vector<Invariant> Invariants(const Result& r) {
  std::vector<Invariant> out;
  for (const Violation& v : r.violations) out.push_back(v.invariant);
  std::sort(out.begin(), out.end());
  return out;
}

// The footprints' promise, checked on random runs of every preset: when two
// adjacent steps of different threads are independent, running them in the
// other order replays without divergence (neither enabled the other) and
// ends in the same verdict and, without a violation, the same final state.
#ifndef SWAP_PROGRAMS
#define SWAP_PROGRAMS 150
#endif
constexpr int kSwapPrograms = SWAP_PROGRAMS;
TEST(FootprintTest, SwappingIndependentNeighboursKeepsTheOutcome) {
  ExecOptions opts;
  opts.digest_final_state = true;
  uint64_t swaps = 0;
  for (const RulesPreset& preset : AllPresets()) {
    SplitMix64 prog_rng(0x5a5a ^ std::hash<std::string>{}(preset.name));
    RandomScheduler random(17);
    RecordingScheduler rec(&random);
    Executor ex, again;
    GenOptions gen;
    for (int i = 0; i < kSwapPrograms; ++i) {
      const TestCase tc = RandomTestCase(prog_rng, gen);
      const Result& r = ex.Run(tc, preset.rules, rec, opts);
      if (r.outcome == Outcome::kStepLimit) continue;
      const std::vector<Invariant> verdict = Invariants(r);
      const uint64_t state = r.final_state;
      const auto per_thread = StepsPerThread(r);
      const std::vector<uint8_t> schedule = r.schedule;
      const auto picks = rec.picks();
      for (size_t s = 0; s + 1 < picks.size(); ++s) {
        const auto& a = picks[s];
        const auto& b = picks[s + 1];
        if (a.thread == b.thread) continue;
        if (!Independent(StepFootprint(tc, a.thread, a.label, a.op, a.arg),
                         StepFootprint(tc, b.thread, b.label, b.op, b.arg))) {
          continue;
        }
        std::vector<uint8_t> swapped = schedule;
        std::swap(swapped[s], swapped[s + 1]);
        ReplayScheduler replay(swapped);
        const Result& r2 = again.Run(tc, preset.rules, replay, opts);
        ++swaps;
        ASSERT_EQ(replay.divergences(), 0)
            << preset.name << " program " << i << ": " << LabelName(a.label) << " (thread " << a.thread << ") and "
            << LabelName(b.label) << " (thread " << b.thread << ") at step " << s + 1
            << " called independent, but swapping them changes which threads can run";
        ASSERT_EQ(Invariants(r2), verdict) << preset.name << " program " << i << ": swapping " << LabelName(a.label)
                                           << " and " << LabelName(b.label) << " at step " << s + 1;
        if (!verdict.empty()) continue;  // the run stops at the violation: the rest never happens
        ASSERT_TRUE(StepsPerThread(r2) == per_thread)
            << preset.name << " program " << i << ": swapping " << LabelName(a.label) << " and " << LabelName(b.label)
            << " at step " << s + 1 << " changes what a thread does";
        ASSERT_EQ(r2.final_state, state) << preset.name << " program " << i << ": swapping " << LabelName(a.label)
                                         << " (thread " << a.thread << ") and " << LabelName(b.label) << " (thread "
                                         << b.thread << ") at step " << s + 1 << " changes the final state";
      }
    }
  }
  // The check is not vacuous: many neighbours are independent.
  EXPECT_GT(swaps, 1000u);
}

}  // namespace
}  // namespace sptefuzz

namespace sptefuzz {
namespace {

// What a search reaches: the final state of every interleaving that ended
// without a violation, and every violated invariant.
struct Reached {
  std::set<uint64_t> states;
  std::set<Invariant> violations;
  uint64_t interleavings = 0;
};

Reached ExploreAll(const TestCase& tc, const Rules& rules, int k, bool por) {
  Reached out;
  Executor ex;
  DfsOptions o;
  o.preemptions = k;
  o.por = por;
  o.exec.digest_final_state = true;
  o.on_interleaving = [&](const Result& r) {
    if (r.outcome == Outcome::kOk) out.states.insert(r.final_state);
    for (const Violation& v : r.violations) out.violations.insert(v.invariant);
  };
  // Without stopping at the first violation: explore each program with the
  // violations' programs too (Run stops at one, so restart past it is not
  // possible; the verdict comparison covers those).
  DfsExplorer dfs(tc, rules, o);
  const DfsOutcome r = dfs.Run(ex);
  out.interleavings = r.stats.interleavings;
  EXPECT_TRUE(r.stats.exhaustive || r.violation.has_value());
  return out;
}

// The reduction explores a subset of the bounded schedules, but up to
// reordering of independent steps it must miss none: every final state the
// plain bounded search reaches (and every violation it finds first) is
// reached with sleep sets too, at every bound, over every small program
// of the default space and of every op, for clean and buggy presets.
TEST(DfsTest, ReductionReachesEveryFinalState) {
  struct Space {
    std::vector<OpKind> vcpu, kernel;
    int max_ops;
    bool pml;
    std::vector<const char*> presets;
    std::vector<int> bounds;
  };
  const std::vector<const char*> many = {"linux-6.15", "linux-5.10", "linux-3.6", "linux-4.12",
                                         "b5-harvest-flush-after-unlock", "b13-lockless-aging-v6.13-predicate",
                                         "b11-make-spte-skips-d-conditional-harvest-flush"};
  const std::vector<Space> spaces = {
      // The default space of `explore --programs all`, one op per thread.
      {{OpKind::kRead, OpKind::kWrite, OpKind::kFault},
       {OpKind::kZap, OpKind::kWriteback, OpKind::kAge, OpKind::kWpPt, OpKind::kEnableLog, OpKind::kHarvest},
       1,
       false,
       many,
       {1, 2}},
      // Two ops per thread (the B9 deviation's sync ops and change-pte's KSM page included).
      {{OpKind::kWrite, OpKind::kFault},
       {OpKind::kWriteback, OpKind::kWpPt, OpKind::kHarvest},
       2,
       false,
       {"linux-6.15"},
       {2}},
      {{OpKind::kWrite, OpKind::kSyncDrop},
       {OpKind::kWpPt, OpKind::kChangePte, OpKind::kZap},
       2,
       false,
       {"linux-3.6", "b9-sync-page-tlbs-dirty"},
       {1}},
      // Every op, with PML.
      {{OpKind::kRead, OpKind::kWrite, OpKind::kFault, OpKind::kSyncDrop, OpKind::kSyncRo, OpKind::kRemap},
       {OpKind::kZap, OpKind::kWriteback, OpKind::kAge, OpKind::kWpPt, OpKind::kEnableLog, OpKind::kHarvest,
        OpKind::kClearYoung, OpKind::kChangePte, OpKind::kZapRange, OpKind::kZapAtomic},
       1,
       true,
       {"linux-6.15", "linux-4.12", "b11-make-spte-skips-d-conditional-harvest-flush"},
       {1}},
  };
  uint64_t programs = 0, reduced = 0, plain = 0;
  for (const Space& sp : spaces) {
    SmallProgramSpace space;
    space.config = SmallProgramConfig();
    space.config.pml = sp.pml;
    space.max_ops = sp.max_ops;
    space.vcpu_ops = sp.vcpu;
    space.kernel_ops = sp.kernel;
    for (const char* rules : sp.presets) {
      for (int k : sp.bounds) {
        ForEachSmallProgram(space, [&](const TestCase& tc) {
          const Reached full = ExploreAll(tc, PresetRules(rules), k, false);
          const Reached por = ExploreAll(tc, PresetRules(rules), k, true);
          ++programs;
          plain += full.interleavings;
          reduced += por.interleavings;
          EXPECT_EQ(full.violations.empty(), por.violations.empty()) << rules << " bound " << k;
          if (!full.violations.empty()) return !HasFailure();  // both stopped at their first violation
          for (uint64_t s : full.states) {
            EXPECT_TRUE(por.states.count(s)) << rules << " bound " << k << ": a final state of the plain search is "
                                             << "missing with sleep sets (program of " << tc.threads[0].ops.size()
                                             << "," << tc.threads[1].ops.size() << "," << tc.threads[2].ops.size()
                                             << " ops)";
          }
          return !HasFailure();
        });
      }
    }
  }
  EXPECT_GT(programs, 1000u);
  // The reduction does reduce: by a fifth at least.
  EXPECT_LT(reduced * 5, plain * 4);
}

}  // namespace
}  // namespace sptefuzz
