// fuzz/sptefuzz_fuzzer.cc: the fuzz target (LLVMFuzzerTestOneInput) shared
// by libFuzzer, the AFL++ build (afl-clang-fast++ -fsanitize=fuzzer) and the
// plain driver (standalone_main.cc) that ctest runs without an engine.
//
// Each input is decoded (fuzz/codec.h) into a TestCase and run under the
// rules of SPTEFUZZ_RULES with the test case's own schedule. A violation is
// run again and must give the same trace; then the stable report is printed
// and the process aborts so that the engine saves the input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/check.h"
#include "core/executor.h"
#include "core/scheduler.h"
#include "fuzz/codec.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/interleaving_feedback.h"
#include "fuzz/run_reuse.h"
#include "repro/repro_format.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

// Persistent mode: one executor for the life of the process. It resets all
// model state per run, so input X behaves the same after a million others.
struct Target {
  Executor ex;
  SegmentScheduler seg;
};

Target& GetTarget() {
  static Target* t = new Target();
  return *t;
}

uint64_t checked_runs = 0;  // SPTEFUZZ_REUSE=check: shared runs checked so far

#ifdef SPTEFUZZ_REUSE_MUTATOR_RUNS
// SPTEFUZZ_REUSE=check: the input the mutator ran is run the normal way
// too, and this is called where that run ends (every counter the callback
// moved since libFuzzer cleared them): it aborts unless the run took the
// same steps, ended without a violation and left the same counters.
void CheckProducedRun(const std::vector<uint8_t>& steps, absl::Span<const uint8_t> counters, const Result* r) {
  const absl::Span<uint8_t> live = CoverageCounters();
  size_t differ = 0;
  if (counters.size() == live.size()) {
    for (size_t i = 0; i < live.size(); ++i) differ += live[i] != counters[i];
  }
  const bool same_steps = r != nullptr && r->schedule == steps;
  if (!same_steps || r->outcome != Outcome::kOk || counters.size() != live.size() || differ != 0) {
    std::fprintf(stderr,
                 "FATAL: sptefuzz_fuzzer: SPTEFUZZ_REUSE=check: the mutator's run of this input differs from the "
                 "target's (%s, steps %s, outcome %s, %zu of %zu counters differ, %zu kept)\n",
                 r == nullptr ? "the target rejected it unrun" : "both ran", same_steps ? "equal" : "differ",
                 r == nullptr ? "-" : OutcomeName(r->outcome), differ, live.size(), counters.size());
    std::abort();
  }
  ++checked_runs;
  if ((checked_runs & (checked_runs - 1)) == 0) {
    std::fprintf(stderr, "INFO: sptefuzz_fuzzer: SPTEFUZZ_REUSE=check: %llu shared runs checked, all equal\n",
                 static_cast<unsigned long long>(checked_runs));
  }
}
#endif

[[noreturn]] void ReportFinding(const FuzzEnv& env, const TestCase& tc, const Result& found) {
  std::string replay = "sptefuzz replay --rules " + env.rules_name + " CRASH_FILE (the input the engine saved)";
  if (env.forced_version != 0) {
    replay += " -- note: found with SPTEFUZZ_CODEC_VERSION=" + std::to_string(env.forced_version) +
              ", which reads byte 0 of the input as that version";
  }
  PrintFindingReport(stderr, env.rules_name, found, replay);
  Repro repro;
  repro.comments.push_back("found by sptefuzz_fuzzer under SPTEFUZZ_RULES=" + env.rules_name);
  repro.rules = env.rules_name;
  repro.tc = tc;
  repro.expect = Expect{true, found.violations[0].invariant};
  std::fprintf(stderr, "INFO: sptefuzz: the finding as a text repro:\n--- repro ---\n%s--- end repro ---\n",
               PrintRepro(repro).c_str());
  std::fprintf(stderr, "INFO: sptefuzz: trace:\n%s%s\n", FormatTrace(tc, found).c_str(), FormatVerdict(found).c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace
}  // namespace sptefuzz

#ifdef SPTEFUZZ_LIBFUZZER_DEFAULTS
namespace sptefuzz {
namespace {

// libFuzzer flags this target runs with unless the command line gives them
// (libFuzzer reads argv after LLVMFuzzerInitialize, which may change it).
// Both cut libFuzzer's per-input work on the features of each input, and
// neither made a bug slower to find (bench/results/fuzz.md, "libFuzzer
// defaults"):
//   -entropic=0       no entropic power schedule (its per-feature frequency
//                     bookkeeping runs for every feature of every input);
//   -reduce_inputs=0  no replacing of corpus inputs by smaller ones with the
//                     same features (a set of the input's unique features
//                     per input, and a file rewrite per replacement).
struct EngineDefault {
  const char* flag;
  // Command-line flags that count as giving it: its own, and for the power
  // schedule its tuning flags (-entropic_scale_per_exec_time=1 means
  // "entropic on", which -entropic=0 would silently undo).
  const char* given_by[2];
};
constexpr EngineDefault kEngineDefaults[] = {
    {"-entropic=0", {"-entropic=", "-entropic_"}},
    {"-reduce_inputs=0", {"-reduce_inputs=", nullptr}},
};

void AddEngineDefaults(int* argc, char*** argv) {
  // libFuzzer reads flags up to -ignore_remaining_args=1; what follows is
  // the target's. The defaults go right after argv[0], so that any flag of
  // the command line, which libFuzzer reads later, wins over them.
  const std::vector<absl::string_view> given(*argv + 1, *argv + *argc);
  const auto flags_end = std::find(given.begin(), given.end(), "-ignore_remaining_args=1");
  std::vector<const char*> added;
  for (const EngineDefault& d : kEngineDefaults) {
    const bool is_given = std::any_of(given.begin(), flags_end, [&](absl::string_view arg) {
      return std::any_of(std::begin(d.given_by), std::end(d.given_by),
                         [&](const char* prefix) { return prefix != nullptr && absl::StartsWith(arg, prefix); });
    });
    if (!is_given) added.push_back(d.flag);
  }
  if (added.empty()) return;
  std::fprintf(stderr, "INFO: sptefuzz_fuzzer: libFuzzer defaults %s (give a flag to override it)\n",
               absl::StrJoin(added, " ").c_str());
  static std::vector<char*> args;
  args.assign(*argv, *argv + 1);
  for (const char* flag : added) args.push_back(const_cast<char*>(flag));
  args.insert(args.end(), *argv + 1, *argv + *argc);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
}

}  // namespace
}  // namespace sptefuzz
#endif  // SPTEFUZZ_LIBFUZZER_DEFAULTS

extern "C" int LLVMFuzzerInitialize([[maybe_unused]] int* argc, [[maybe_unused]] char*** argv) {
#ifdef SPTEFUZZ_LIBFUZZER_DEFAULTS
  sptefuzz::AddEngineDefaults(argc, argv);
#endif
  // A bad environment is reported before any input runs.
  const sptefuzz::FuzzEnv& env = sptefuzz::GetFuzzEnv();
  sptefuzz::WarmUpExecutor(sptefuzz::GetTarget().ex, env.rules);
  if (env.reuse == sptefuzz::Reuse::kCheck) {
    if (sptefuzz::SharesMutatorRuns(env)) {
      std::atexit([] {
        std::fprintf(stderr, "INFO: sptefuzz_fuzzer: SPTEFUZZ_REUSE=check: %llu shared runs checked in all, all equal\n",
                     static_cast<unsigned long long>(sptefuzz::checked_runs));
      });
    } else {
      std::fprintf(stderr,
                   "INFO: sptefuzz_fuzzer: SPTEFUZZ_REUSE=check has nothing to check: this target does not share "
                   "runs with its mutator (that needs the libfuzzer presets' sptefuzz_fuzzer, "
                   "SPTEFUZZ_COVERAGE_SCOPE=actors, and SPTEFUZZ_FEEDBACK off; fuzz/run_reuse.h)\n");
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sptefuzz;
  const FuzzEnv& env = GetFuzzEnv();
  Target& t = GetTarget();
  CountExecution(env);
#ifdef SPTEFUZZ_REUSE_MUTATOR_RUNS
  // The custom mutator has just run these very bytes (fuzz/run_reuse.h):
  // its run's coverage, not a second run. (Such a run ended without a
  // violation, under a configuration the target accepts.)
  const std::vector<uint8_t>* produced_steps = nullptr;
  absl::Span<const uint8_t> produced_counters;
  const bool produced = GetProducedRun().Take(data, size, &produced_steps, &produced_counters);
  if (produced && env.reuse != Reuse::kCheck) {
    const absl::Span<uint8_t> counters = CoverageCounters();
    std::memcpy(counters.data(), produced_counters.data(), counters.size());
    GetLastRun().Record(data, size, *produced_steps);
    return 0;
  }
  auto check = [&](const Result* r) {
    if (produced) CheckProducedRun(*produced_steps, produced_counters, r);
  };
#else
  auto check = [](const Result*) {};
#endif
  // A fresh TestCase per input: reusing one would make which vector-growth
  // code runs depend on the inputs before (AFL++ stability).
  TestCase tc;
  DecodeTestCaseInto(data, size, &tc, env.forced_version);
  // The adversarial D-assist is a hazard mode, not part of any preset's
  // claim: rejected (not run, not kept) unless asked for. The bytes keep
  // their meaning, so every saved input replays the same everywhere.
  if (!env.adversarial && tc.config.dassist == DAssist::kAdversarial) {
    check(nullptr);
    return -1;
  }
  // The trace is recorded only where something reads it: the interleaving
  // feedback, and a finding, which runs again with it below.
  ExecOptions opts;
  opts.record_trace = InterleavingFeedbackEnabled();
  const Result& r = t.ex.Run(tc, env.rules, t.seg, opts);
  MaybeRecordInterleavingFeedback(tc, r);  // SPTEFUZZ_FEEDBACK=on|off
#ifdef SPTEFUZZ_LIBFUZZER_DEFAULTS
  // For the custom mutator, which most often mutates this very input next
  // (only where it runs in this process: libFuzzer builds of our presets).
  GetLastRun().Record(data, size, r.schedule);
#endif
  check(&r);
  if (r.outcome != Outcome::kViolation) return 0;
  if (env.only.has_value()) {
    bool match = false;
    for (const Violation& v : r.violations) match |= v.invariant == *env.only;
    if (!match) return 0;
  }
  // A finding must replay identically before it is reported (design.md, 8):
  // the same schedule and verdict as the run above, then the same trace
  // twice.
  const std::vector<uint8_t> first_schedule = r.schedule;
  const Invariant first_invariant = r.violations[0].invariant;
  const Result found = t.ex.Run(tc, env.rules, t.seg);
  if (found.outcome != Outcome::kViolation || found.schedule != first_schedule ||
      found.violations[0].invariant != first_invariant) {
    std::fprintf(stderr, "FATAL: sptefuzz_fuzzer: a finding did not replay identically (nondeterminism)\n");
    std::abort();
  }
  const Result& again = t.ex.Run(tc, env.rules, t.seg);
  if (again.outcome != found.outcome || again.TraceHash() != found.TraceHash()) {
    std::fprintf(stderr, "FATAL: sptefuzz_fuzzer: a finding did not replay identically (nondeterminism)\n");
    std::abort();
  }
  ReportFinding(env, tc, found);
}
