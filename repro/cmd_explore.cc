// `sptefuzz explore`: searches by itself. Draws programs (configuration,
// operations) and schedules from a seed, runs them, and stops at the first
// violation, which it re-runs to check that it replays before reporting it.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/executor.h"
#include "core/program_gen.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/repro_format.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

std::string PresetNames() {
  std::vector<std::string> names;
  for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
  return absl::StrJoin(names, ", ");
}

}  // namespace

int CmdExplore(const std::vector<std::string>& args) {
  CliFlags flags("explore");
  std::string rules_name = DefaultPreset().name;
  std::string strategy = "random";
  std::string out;
  int64_t seed = 1, runs = 0, step_limit = 4000, max_vcpus = 2, max_gfns = 2, max_ops = 3;
  double time_s = 0;
  bool adversarial = false, quiet = false;
  flags.String("rules", &rules_name, "rules preset (see `sptefuzz rules`)");
  flags.String("strategy", &strategy, "search strategy: random");
  flags.Int("seed", &seed, "seed of the programs and schedules", 0, INT64_MAX);
  flags.Int("runs", &runs, "number of executions", 1, INT64_MAX);
  flags.Double("time", &time_s, "seconds to explore", 0.001, 1e9);
  std::string knobs;
  flags.String("knobs", &knobs, "knob overrides on top of the preset: k=v,k=v (see `sptefuzz rules --knobs`)");
  flags.String("out", &out, "write the finding as a text repro to this file (never overwritten)");
  flags.Int("step-limit", &step_limit, "steps per execution before it is cut off (not a finding)", 100, 1000000);
  flags.Int("max-vcpus", &max_vcpus, "most vCPUs in a drawn program", 1, kMaxVcpus);
  flags.Int("max-gfns", &max_gfns, "most gfns in a drawn program", 1, kMaxGfns);
  flags.Int("max-ops", &max_ops, "most operations per thread", 1, kMaxOpsPerThread);
  flags.Bool("adversarial", &adversarial, "also draw the adversarial hardware D-assist mode");
  flags.Bool("quiet", &quiet, "print only the report lines of a finding, not the trace");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(args, &pos); !s.ok()) return UsageError("explore", std::string(s.message()));
  if (!pos.empty()) return UsageError("explore", absl::StrCat("unexpected argument '", pos[0], "'"));
  if (flags.Seen("runs") == flags.Seen("time")) {
    return UsageError("explore", "give exactly one of --runs N or --time S");
  }
  const RulesPreset* preset = FindPreset(rules_name);
  if (preset == nullptr) {
    return UsageError("explore", absl::StrCat("unknown rules preset '", rules_name, "': expected one of ", PresetNames()));
  }
  Rules rules = preset->rules;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (absl::string_view kv : absl::StrSplit(knobs, ',', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) {
      return UsageError("explore", absl::StrCat("--knobs: '", kv, "' is not k=v"));
    }
    overrides.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    if (absl::Status s = SetKnob(rules, overrides.back().first, overrides.back().second); !s.ok()) {
      return UsageError("explore", absl::StrCat("--knobs: ", s.message()));
    }
  }
  if (strategy != "random") {
    return UsageError("explore", absl::StrCat("unknown strategy '", strategy, "': expected random"));
  }
  if (!out.empty() && std::filesystem::exists(out)) {
    return UsageError("explore", absl::StrCat("--out ", out, " already exists; it is never overwritten"));
  }

  GenOptions gen;
  gen.max_vcpus = static_cast<int>(max_vcpus);
  gen.max_gfns = static_cast<int>(max_gfns);
  gen.max_ops = static_cast<int>(max_ops);
  gen.allow_adversarial_dassist = adversarial;
  ExecOptions opts;
  opts.step_limit = static_cast<uint32_t>(step_limit);
  SplitMix64 prog_rng(static_cast<uint64_t>(seed));
  RandomScheduler sched(static_cast<uint64_t>(seed) ^ 0x5eed5c4edull);
  Executor ex;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  uint64_t execs = 0, steps = 0, cut = 0;
  for (;;) {
    if (flags.Seen("runs") && execs >= static_cast<uint64_t>(runs)) break;
    if (flags.Seen("time") && (execs & 255) == 0 && elapsed() >= time_s) break;
    TestCase tc = RandomTestCase(prog_rng, gen);
    const Result& r = ex.Run(tc, rules, sched, opts);
    ++execs;
    steps += r.steps;
    if (r.outcome == Outcome::kStepLimit) ++cut;
    if (r.outcome != Outcome::kViolation) continue;

    // A finding: it must replay the same way before it is reported.
    Result found = r;
    const double t_found = elapsed();
    Executor again;
    ReplayScheduler replay(found.schedule);
    const Result& r2 = again.Run(tc, rules, replay, opts);
    if (r2.TraceHash() != found.TraceHash() || replay.divergences() != 0) {
      std::fprintf(stderr, "FATAL: sptefuzz explore: the finding did not replay identically (nondeterminism)\n");
      return kExitUsage;
    }
    Repro repro;
    repro.comments.push_back(absl::StrCat("found by: sptefuzz explore --rules ", rules_name, " --strategy random --seed ",
                                          seed, ", execution ", execs));
    repro.rules = rules_name;
    repro.knobs = overrides;
    repro.tc = tc;
    repro.tc.schedule = SegmentsFromSteps(found.schedule);
    repro.expect = Expect{true, found.violations[0].invariant};
    // The text form replays through its segments, too.
    SegmentScheduler seg;
    const Result& r3 = again.Run(repro.tc, rules, seg, opts);
    if (r3.TraceHash() != found.TraceHash()) {
      std::fprintf(stderr, "FATAL: sptefuzz explore: the repro's segment schedule does not replay the finding\n");
      return kExitUsage;
    }
    const std::string text = PrintRepro(repro);
    std::string replay_cmd;
    if (!out.empty()) {
      std::ofstream f(out, std::ios::out | std::ios::trunc);
      f << text;
      f.close();
      if (!f) return UsageError("explore", absl::StrCat("cannot write ", out));
      replay_cmd = absl::StrCat("sptefuzz replay ", out);
    }
    PrintFindingReport(stdout, rules_name, found, replay_cmd);
    std::printf("INFO: found after %llu executions, %llu steps, %.3f s\n", static_cast<unsigned long long>(execs),
                static_cast<unsigned long long>(steps), t_found);
    if (!quiet) {
      std::printf("\n--- repro ---\n%s", text.c_str());
      std::printf("\n--- trace ---\n%s", FormatTrace(tc, found).c_str());
      std::printf("%s\n", FormatVerdict(found).c_str());
    }
    return kExitFinding;
  }
  const double secs = elapsed();
  std::printf("INFO: no violation: %llu executions, %llu steps in %.2f s (%.0f exec/s, %.0f steps/s); %llu cut at the step limit\n",
              static_cast<unsigned long long>(execs), static_cast<unsigned long long>(steps), secs,
              secs > 0 ? execs / secs : 0.0, secs > 0 ? steps / secs : 0.0, static_cast<unsigned long long>(cut));
  return kExitOk;
}

}  // namespace sptefuzz
