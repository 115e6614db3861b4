// `sptefuzz explore`: searches by itself and stops at the first violation,
// which it re-runs to check that it replays before reporting it.
//   --strategy random  programs and schedules drawn from a seed;
//   --strategy pct     the same programs under PCT (core/pct_scheduler.h);
//   --strategy dfs     every schedule of one program up to a preemption bound
//                      (core/dfs.h), or of every small program (--programs all);
//   --strategy guided  random runs plus runs derived from a corpus of those
//                      that showed new interleaving features (fuzz/guided.h).
#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/check.h"
#include "core/dfs.h"
#include "core/executor.h"
#include "core/pct_scheduler.h"
#include "core/program_gen.h"
#include "fuzz/guided.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/minimize.h"
#include "repro/replay.h"
#include "repro/repro_format.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

std::string PresetNames() {
  std::vector<std::string> names;
  for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
  return absl::StrJoin(names, ", ");
}

struct FindingContext {
  std::string rules_name;
  std::vector<std::pair<std::string, std::string>> overrides;
  Rules rules;
  ExecOptions opts;
  std::string out;
  bool quiet = false;
  bool minimize = true;
};

// Re-runs a finding (it must replay the same way, step by step and through
// the segments of its text form) and prints it. Returns the exit status.
int ReportFinding(const FindingContext& c, const TestCase& tc, const Result& found, const std::string& found_by,
                  const std::string& info) {
  Executor again;
  ReplayScheduler replay(found.schedule);
  const Result& r2 = again.Run(tc, c.rules, replay, c.opts);
  if (r2.TraceHash() != found.TraceHash() || replay.divergences() != 0) {
    std::fprintf(stderr, "FATAL: sptefuzz explore: the finding did not replay identically (nondeterminism)\n");
    return kExitUsage;
  }
  Repro repro;
  repro.comments.push_back(absl::StrCat("found by: ", found_by));
  repro.rules = c.rules_name;
  repro.knobs = c.overrides;
  repro.tc = tc;
  repro.tc.schedule = SegmentsFromSteps(found.schedule);
  repro.expect = Expect{true, found.violations[0].invariant};
  // The text form replays through its segments, too.
  SegmentScheduler seg;
  const Result& r3 = again.Run(repro.tc, c.rules, seg, c.opts);
  if (r3.TraceHash() != found.TraceHash()) {
    std::fprintf(stderr, "FATAL: sptefuzz explore: the repro's segment schedule does not replay the finding\n");
    return kExitUsage;
  }
  // The finding as the user reads it: minimized (same invariant) unless
  // --minimize off. The raw schedule stays reproducible from found_by.
  Result shown = found;
  TestCase shown_tc = tc;
  if (c.minimize) {
    MinimizeOptions mo;
    mo.exec = c.opts;
    absl::StatusOr<MinimizeResult> m = MinimizeTestCase(repro.tc, c.rules, found.violations[0].invariant, mo);
    if (!m.ok()) {
      std::fprintf(stderr, "FATAL: sptefuzz explore: minimizing the finding failed: %s\n",
                   std::string(m.status().message()).c_str());
      return kExitUsage;
    }
    repro.comments.push_back(absl::StrFormat("minimized by sptefuzz minimize: %u -> %u steps (%llu executions)",
                                             m->steps_before, m->steps_after,
                                             static_cast<unsigned long long>(m->executions)));
    repro.tc = m->tc;
    shown_tc = m->tc;
    SegmentScheduler seg2;
    shown = again.Run(shown_tc, c.rules, seg2, c.opts);
  }
  const std::string text = PrintRepro(repro);
  std::string replay_cmd;
  if (!c.out.empty()) {
    std::ofstream f(c.out, std::ios::out | std::ios::trunc);
    f << text;
    f.close();
    if (!f) return UsageError("explore", absl::StrCat("cannot write ", c.out));
    replay_cmd = absl::StrCat("sptefuzz replay ", c.out);
  }
  PrintFindingReport(stdout, c.rules_name, shown, replay_cmd);
  std::printf("%s", info.c_str());
  if (!c.quiet) {
    std::printf("\n--- repro ---\n%s", text.c_str());
    std::printf("\n--- trace ---\n%s", FormatTrace(shown_tc, shown).c_str());
    std::printf("%s\n", FormatVerdict(shown).c_str());
  }
  return kExitFinding;
}

// --ops: "all" or comma-separated op names, split into the vCPU and the
// kernel thread's alphabets (each non-empty, no repeats), in the order given.
absl::StatusOr<std::pair<std::vector<OpKind>, std::vector<OpKind>>> ParseOpAlphabet(absl::string_view list) {
  std::vector<OpKind> vcpu, kernel;
  std::string names;
  for (int i = 0; i < static_cast<int>(OpKind::kCount); ++i) {
    absl::StrAppend(&names, i == 0 ? "" : ", ", OpKindName(static_cast<OpKind>(i)));
  }
  if (list == "all") {
    for (int i = 0; i < static_cast<int>(OpKind::kCount); ++i) {
      const OpKind k = static_cast<OpKind>(i);
      (IsVcpuOp(k) ? vcpu : kernel).push_back(k);
    }
    return std::make_pair(vcpu, kernel);
  }
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    const std::optional<OpKind> k = ParseOpKind(name);
    if (!k.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown operation '", name, "': expected all or a comma-separated list of ", names));
    }
    std::vector<OpKind>& a = IsVcpuOp(*k) ? vcpu : kernel;
    if (std::find(a.begin(), a.end(), *k) != a.end()) {
      return absl::InvalidArgumentError(absl::StrCat("operation '", name, "' given twice"));
    }
    a.push_back(*k);
  }
  if (vcpu.empty() || kernel.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", list, "' needs at least one vCPU operation and one kernel operation"));
  }
  return std::make_pair(vcpu, kernel);
}

// Explores every program `next` yields (or, with all_programs, every small
// program) exhaustively up to the bound, until a violation or time_s.
// `space` is null unless every small program is explored.
int ExploreDfs(const FindingContext& c, const std::function<bool(TestCase*)>& next, const SmallProgramSpace* space,
               int preemptions, bool por, bool checkpoints, double time_s, const std::string& found_by_base) {
  const bool all_programs = space != nullptr;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Executor ex;
  DfsStats total;
  uint64_t programs = 0;
  bool exhaustive = true;
  int code = kExitOk;
  // A long run (every 3-op program takes minutes) reports its progress on
  // stderr every 30 s.
  const uint64_t space_size = all_programs ? ForEachSmallProgram(*space, [](const TestCase&) { return true; }) : 0;
  double next_progress = 30;
  auto one = [&](const TestCase& tc) -> bool {
    if (time_s > 0 && elapsed() >= time_s) {
      exhaustive = false;
      return false;
    }
    if (all_programs && elapsed() >= next_progress) {
      next_progress += 30;
      std::fprintf(stderr, "INFO: dfs: %llu of %llu programs, %llu interleavings, %.0f s\n",
                   static_cast<unsigned long long>(programs), static_cast<unsigned long long>(space_size),
                   static_cast<unsigned long long>(total.interleavings), elapsed());
    }
    ++programs;
    DfsOptions o;
    o.preemptions = preemptions;
    o.por = por;
    o.checkpoints = checkpoints;
    o.exec = c.opts;
    DfsExplorer dfs(tc, c.rules, o);
    DfsOutcome r = dfs.Run(ex);
    total.interleavings += r.stats.interleavings;
    total.sleep_blocked += r.stats.sleep_blocked;
    total.cut += r.stats.cut;
    total.steps += r.stats.steps;
    total.resumed += r.stats.resumed;
    total.resumed_steps += r.stats.resumed_steps;
    total.chained += r.stats.chained;
    total.bound_cut_steps += r.stats.bound_cut_steps;
    total.fair_cut_steps += r.stats.fair_cut_steps;
    if (!r.stats.exhaustive) exhaustive = false;
    if (r.violation) {
      const std::string info = absl::StrFormat(
          "INFO: dfs: violation at %d preemption(s) after %llu interleavings (%llu sleep-set blocked) of %llu program(s), "
          "%.3f s\n",
          r.violation_preemptions, static_cast<unsigned long long>(total.interleavings),
          static_cast<unsigned long long>(total.sleep_blocked), static_cast<unsigned long long>(programs), elapsed());
      code = ReportFinding(c, tc, *r.violation,
                           absl::StrCat(found_by_base, (all_programs || programs > 1) ? absl::StrCat(", program ", programs) : ""), info);
      return false;
    }
    return true;
  };
  if (all_programs) {
    ForEachSmallProgram(*space, one);
  } else {
    TestCase tc;
    while (next(&tc) && one(tc)) {
    }
    // Programs drawn from the seed never run out: only the time ends them.
    if (time_s > 0 && code == kExitOk) exhaustive = false;
  }
  if (code != kExitOk) return code;
  const double secs = elapsed();
  std::printf("INFO: dfs: %llu program(s), %llu interleavings, %llu sleep-set blocked, %llu cut at the step limit, "
              "%llu steps in %.2f s; preemption bound %d, reduction %s\n",
              static_cast<unsigned long long>(programs), static_cast<unsigned long long>(total.interleavings),
              static_cast<unsigned long long>(total.sleep_blocked), static_cast<unsigned long long>(total.cut),
              static_cast<unsigned long long>(total.steps), secs, preemptions, por ? "sleep sets" : "none");
  std::printf("INFO: dfs: checkpoints %s: %llu executions continued from one, %llu of the steps above not re-executed; "
              "%llu forced steps taken without a node\n",
              checkpoints ? "on" : "off", static_cast<unsigned long long>(total.resumed),
              static_cast<unsigned long long>(total.resumed_steps), static_cast<unsigned long long>(total.chained));
  std::printf("INFO: dfs: the preemption bound ruled threads out at %llu steps, the fairness rule for spin-waits at "
              "%llu%s\n",
              static_cast<unsigned long long>(total.bound_cut_steps), static_cast<unsigned long long>(total.fair_cut_steps),
              exhaustive && total.bound_cut_steps == 0 ? " (the bound cut nothing: every larger bound gives the same search)"
                                                       : "");
  if (exhaustive) {
    std::printf("no violation: %llu interleavings, bound %d, exhaustive\n",
                static_cast<unsigned long long>(total.interleavings), preemptions);
  } else {
    std::printf("no violation: %llu interleavings, bound %d, each program exhaustive, stopped by the time limit\n",
                static_cast<unsigned long long>(total.interleavings), preemptions);
  }
  return kExitOk;
}

}  // namespace

int CmdExplore(const std::vector<std::string>& args) {
  CliFlags flags("explore");
  std::string rules_name = DefaultPreset().name;
  std::string strategy = "random";
  std::string out;
  int64_t seed = 1, runs = 0, step_limit = 4000, max_vcpus = 2, max_gfns = 2, max_ops = 3;
  double time_s = 0;
  bool adversarial = false, quiet = false, pml = false;
  flags.String("rules", &rules_name, "rules preset (see `sptefuzz rules`)");
  flags.String("strategy", &strategy, "search strategy: random, pct, dfs or guided");
  int64_t depth = 3, preemptions = 2;
  std::string program_file, programs, por = "on", checkpoints = "on";
  flags.Int("depth", &depth, "pct: bug depth d (d-1 priority change points)", 1, 17);
  std::string switch_arg = "mixed";
  flags.String("switch", &switch_arg,
               "random and guided: per-mille chance to switch threads at each step, 0..1000 (1000: uniform random "
               "scheduling, every step's thread drawn uniformly from the enabled ones), or 'mixed' (default): one of "
               "20, 50, 100, 200, 350, 500 drawn per execution; for guided, in its fresh runs and the random tails of "
               "its derived runs");
  std::string feedback = "on";
  flags.String("feedback", &feedback,
               "guided: keep runs that show new interleaving features (on, default) or 1 in 64 at random (off)");
  std::string pick = "rarity";
  flags.String("pick", &pick,
               "guided: which kept run a derived run starts from: rarity (default: in proportion to how rare the "
               "run's interleaving features are) or uniform");
  flags.Int("preemptions", &preemptions, "dfs: preemption bound K", 0, 64);
  flags.String("por", &por, "dfs: partial-order reduction (sleep sets): on or off");
  flags.String("checkpoints", &checkpoints,
               "dfs: continue each execution from a checkpoint of the state it backtracked to (on, default) or "
               "re-execute its prefix from the start (off); the same search either way");
  flags.String("program", &program_file,
               "explore only the program of this text repro (its schedule is ignored; its rules unless --rules): "
               "every interleaving with dfs, its schedules with random, pct and guided");
  flags.String("programs", &programs, "dfs: 'all': every 2-vCPU + 1-kernel-thread program over g0 of up to --max-ops ops per thread");
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
  std::string minimize = "on";
  flags.String("minimize", &minimize, "minimize a finding before printing and writing it: on (default) or off");
  flags.Bool("pml", &pml, "dfs --programs all: the space's configuration with PML dirty logging (pml=on)");
  std::string ops_list, thread_layout;
  static_assert(kMaxVcpus == 3 && kMaxThreads == 6, "update the --threads help");
  flags.String("threads", &thread_layout,
               "dfs --programs all: V,K: V vCPU threads (1..3) and K kernel threads, at most 6 in all; default 2,1");
  flags.String("ops", &ops_list,
               "dfs --programs all: the operations, comma-separated (vCPU ops go to the vCPU threads, the others to "
               "the kernel thread), or 'all'; default read,write,fault,zap,wb,age,wp-pt,enable-log,harvest");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(args, &pos); !s.ok()) return UsageError("explore", std::string(s.message()));
  if (!pos.empty()) return UsageError("explore", absl::StrCat("unexpected argument '", pos[0], "'"));
  if (strategy != "dfs" && flags.Seen("runs") == flags.Seen("time")) {
    return UsageError("explore", "give exactly one of --runs N or --time S");
  }
  if (strategy == "dfs" && flags.Seen("runs")) {
    return UsageError("explore", "--strategy dfs runs until exhausted (or --time S); --runs does not apply");
  }
  if (minimize != "on" && minimize != "off") {
    return UsageError("explore", absl::StrCat("--minimize: expected on or off, got '", minimize, "'"));
  }
  if (por != "on" && por != "off") return UsageError("explore", absl::StrCat("--por: expected on or off, got '", por, "'"));
  if (checkpoints != "on" && checkpoints != "off") {
    return UsageError("explore", absl::StrCat("--checkpoints: expected on or off, got '", checkpoints, "'"));
  }
  if (!programs.empty() && programs != "all") {
    return UsageError("explore", absl::StrCat("--programs: expected all, got '", programs, "'"));
  }
  if (strategy != "dfs" && (flags.Seen("programs") || flags.Seen("preemptions") || flags.Seen("por") ||
                            flags.Seen("checkpoints"))) {
    return UsageError("explore", "--programs, --preemptions, --por and --checkpoints need --strategy dfs");
  }
  if (strategy != "pct" && flags.Seen("depth")) return UsageError("explore", "--depth needs --strategy pct");
  if (strategy != "guided" && flags.Seen("feedback")) return UsageError("explore", "--feedback needs --strategy guided");
  if (strategy != "guided" && flags.Seen("pick")) return UsageError("explore", "--pick needs --strategy guided");
  if (pick != "rarity" && pick != "uniform") {
    return UsageError("explore", absl::StrCat("--pick: expected rarity or uniform, got '", pick, "'"));
  }
  if (feedback != "on" && feedback != "off") {
    return UsageError("explore", absl::StrCat("--feedback: expected on or off, got '", feedback, "'"));
  }
  if (!program_file.empty() && !programs.empty()) return UsageError("explore", "give at most one of --program and --programs");
  if (flags.Seen("pml") && programs.empty()) return UsageError("explore", "--pml needs --strategy dfs --programs all");
  if (flags.Seen("ops") && programs.empty()) return UsageError("explore", "--ops needs --strategy dfs --programs all");
  if (flags.Seen("threads") && programs.empty()) {
    return UsageError("explore", "--threads needs --strategy dfs --programs all");
  }
  SmallProgramSpace space;
  space.config = SmallProgramConfig();
  space.config.pml = pml;
  space.max_ops = static_cast<int>(max_ops);
  if (flags.Seen("threads")) {
    const std::vector<std::string> parts = absl::StrSplit(thread_layout, ',');
    int v = 0, k = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &v) || !absl::SimpleAtoi(parts[1], &k) || v < 1 ||
        v > kMaxVcpus || k < 0 || v + k > kMaxThreads) {
      return UsageError("explore", absl::StrCat("--threads '", thread_layout, "': expected V,K with 1 <= V <= ", kMaxVcpus,
                                                " vCPU threads, K >= 0 kernel threads and V + K <= ", kMaxThreads));
    }
    space.vcpus = v;
    space.kernel_threads = k;
  }
  if (flags.Seen("ops")) {
    absl::StatusOr<std::pair<std::vector<OpKind>, std::vector<OpKind>>> a = ParseOpAlphabet(ops_list);
    if (!a.ok()) return UsageError("explore", absl::StrCat("--ops: ", a.status().message()));
    space.vcpu_ops = a->first;
    space.kernel_ops = a->second;
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
  if (strategy != "random" && strategy != "pct" && strategy != "dfs" && strategy != "guided") {
    return UsageError("explore", absl::StrCat("unknown strategy '", strategy, "': expected random, pct, dfs or guided"));
  }
  if (!out.empty() && std::filesystem::exists(out)) {
    return UsageError("explore", absl::StrCat("--out ", out, " already exists; it is never overwritten"));
  }
  int switch_per_mille = -1;
  if (flags.Seen("switch")) {
    if (strategy != "random" && strategy != "guided") {
      return UsageError("explore", "--switch applies to --strategy random and guided only");
    }
    if (switch_arg != "mixed" && (!absl::SimpleAtoi(switch_arg, &switch_per_mille) || switch_per_mille < 0 ||
                                  switch_per_mille > 1000)) {
      return UsageError("explore", absl::StrCat("--switch '", switch_arg, "': expected 0..1000 or mixed"));
    }
  }

  GenOptions gen;
  gen.max_vcpus = static_cast<int>(max_vcpus);
  gen.max_gfns = static_cast<int>(max_gfns);
  gen.max_ops = static_cast<int>(max_ops);
  gen.allow_adversarial_dassist = adversarial;
  ExecOptions opts;
  opts.step_limit = static_cast<uint32_t>(step_limit);
  SplitMix64 prog_rng(static_cast<uint64_t>(seed));
  FindingContext ctx{rules_name, overrides, rules, opts, out, quiet, minimize == "on"};
  std::optional<TestCase> fixed_program;
  bool program_has_rules = false;  // the program's rules apply (no --rules)
  if (flags.Seen("program")) {
    if (program_file.empty()) return UsageError("explore", "--program: expected a text repro file, got ''");
    absl::StatusOr<LoadedInput> in = LoadInput(program_file, InputFormat::kText, "");
    if (!in.ok()) return UsageError("explore", std::string(in.status().message()));
    if (!flags.Seen("rules")) {
      // The program's own rules and knobs, unless --rules overrides them;
      // --knobs go on top of them either way.
      rules = in->rules;
      rules_name = in->repro.rules;
      std::vector<std::pair<std::string, std::string>> all = in->repro.knobs;
      for (const auto& [k, v] : overrides) {
        // Checked above on the preset's rules: a knob's values are the same for any rules.
        SPTEFUZZ_CHECK(SetKnob(rules, k, v).ok());
        all.emplace_back(k, v);
      }
      overrides = std::move(all);
      ctx.rules = rules;
      ctx.rules_name = rules_name;
      ctx.overrides = overrides;
      program_has_rules = true;
    }
    in->repro.tc.schedule.clear();
    fixed_program = in->repro.tc;
  }
  // The flags that change what a run does, for the finding's command.
  // (dfs --programs all names --max-ops itself.)
  std::string run_flags;
  if (!knobs.empty()) absl::StrAppend(&run_flags, " --knobs ", knobs);
  if (flags.Seen("step-limit")) absl::StrAppend(&run_flags, " --step-limit ", step_limit);
  if (flags.Seen("max-vcpus")) absl::StrAppend(&run_flags, " --max-vcpus ", max_vcpus);
  if (flags.Seen("max-gfns")) absl::StrAppend(&run_flags, " --max-gfns ", max_gfns);
  if (flags.Seen("max-ops") && programs.empty()) absl::StrAppend(&run_flags, " --max-ops ", max_ops);
  if (adversarial) absl::StrAppend(&run_flags, " --adversarial");
  // The finding's command starts with the rules, unless the program names them.
  const std::string command =
      absl::StrCat("sptefuzz explore", program_has_rules ? "" : absl::StrCat(" --rules ", rules_name));
  if (strategy == "dfs") {
    std::string found_by = absl::StrCat(command, " --strategy dfs --preemptions ", preemptions, " --por ", por);
    if (fixed_program.has_value()) {
      absl::StrAppend(&found_by, " --program ", program_file);
    } else if (programs.empty()) {
      // One program drawn from --seed; with --time, one after the other.
      absl::StrAppend(&found_by, " --seed ", seed, flags.Seen("time") ? absl::StrCat(" --time ", time_s) : "");
    } else {
      absl::StrAppend(&found_by, " --programs all --max-ops ", max_ops, pml ? " --pml" : "",
                      flags.Seen("ops") ? absl::StrCat(" --ops ", ops_list) : "",
                      flags.Seen("threads") ? absl::StrCat(" --threads ", thread_layout) : "");
    }
    size_t drawn = 0;
    const bool endless = !fixed_program.has_value() && programs.empty() && flags.Seen("time");
    auto next = [&](TestCase* tc) {
      if (fixed_program.has_value()) {
        if (drawn++ > 0) return false;
        *tc = *fixed_program;
        return true;
      }
      if (drawn++ > 0 && !endless) return false;
      *tc = RandomTestCase(prog_rng, gen);
      return true;
    };
    absl::StrAppend(&found_by, run_flags);
    return ExploreDfs(ctx, next, programs.empty() ? nullptr : &space, static_cast<int>(preemptions), por == "on",
                      checkpoints == "on", flags.Seen("time") ? time_s : 0, found_by);
  }
  RandomScheduler random_sched(static_cast<uint64_t>(seed) ^ 0x5eed5c4edull, switch_per_mille);
  PctScheduler pct_sched(static_cast<uint64_t>(seed) ^ 0x5eed5c4edull, static_cast<int>(depth));
  Scheduler& sched = strategy == "pct" ? static_cast<Scheduler&>(pct_sched) : random_sched;
  int max_threads = 0;
  auto pct_info = [&] {
    if (strategy != "pct") return std::string();
    return absl::StrFormat(
        "INFO: pct (Burckhardt et al., ASPLOS 2010): depth d=%d, n=%d threads, k=%u steps (learned max): "
        "each execution finds a given depth-%d bug with probability >= 1/(n*k^(d-1)) = %.3g\n",
        static_cast<int>(depth), max_threads, pct_sched.k(), static_cast<int>(depth),
        PctScheduler::Bound(max_threads, pct_sched.k(), static_cast<int>(depth)));
  };
  GuidedOptions gopts;
  gopts.seed = static_cast<uint64_t>(seed);
  gopts.gen = gen;
  gopts.exec = opts;
  gopts.feedback = feedback == "on";
  gopts.rarity = pick == "rarity";
  gopts.switch_per_mille = switch_per_mille;
  if (fixed_program.has_value()) gopts.program = &*fixed_program;
  std::optional<GuidedSearch> guided;
  if (strategy == "guided") guided.emplace(rules, gopts);
  auto guided_info = [&] {
    if (!guided.has_value()) return std::string();
    const GuidedStats& g = guided->stats();
    return absl::StrFormat("INFO: guided: %llu fresh and %llu derived executions, corpus %llu, %llu interleaving features, "
                           "feedback %s, pick %s\n",
                           static_cast<unsigned long long>(g.fresh), static_cast<unsigned long long>(g.derived),
                           static_cast<unsigned long long>(g.corpus), static_cast<unsigned long long>(g.features),
                           feedback, gopts.rarity && gopts.feedback ? "rarity" : "uniform");
  };
  Executor ex;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  uint64_t execs = 0, steps = 0, cut = 0;
  for (;;) {
    if (flags.Seen("runs") && execs >= static_cast<uint64_t>(runs)) break;
    if (flags.Seen("time") && (execs & 255) == 0 && elapsed() >= time_s) break;
    TestCase drawn;
    const TestCase* tc = &drawn;  // the program this execution ran
    const Result* rp;
    if (guided.has_value()) {
      rp = &guided->Next(ex);
      tc = &guided->current();
    } else {
      if (fixed_program.has_value()) {
        tc = &*fixed_program;  // run as it is: no copy per execution
      } else {
        drawn = RandomTestCase(prog_rng, gen);
      }
      max_threads = std::max(max_threads, static_cast<int>(tc->threads.size()));
      rp = &ex.Run(*tc, rules, sched, opts);
    }
    const Result& r = *rp;
    ++execs;
    steps += r.steps;
    if (r.outcome == Outcome::kStepLimit) ++cut;
    if (r.outcome != Outcome::kViolation) continue;

    // A finding: it must replay the same way before it is reported.
    Result found = r;
    const double t_found = elapsed();
    std::string found_by = absl::StrCat(command, " --strategy ", strategy);
    if (strategy == "pct") absl::StrAppend(&found_by, " --depth ", depth);
    if (strategy == "guided" && feedback == "off") absl::StrAppend(&found_by, " --feedback off");
    if (strategy == "guided" && pick != "rarity") absl::StrAppend(&found_by, " --pick ", pick);
    if (switch_per_mille >= 0) absl::StrAppend(&found_by, " --switch ", switch_per_mille);
    if (fixed_program.has_value()) absl::StrAppend(&found_by, " --program ", program_file);
    absl::StrAppend(&found_by, run_flags, " --seed ", seed, ", execution ", execs);
    const std::string info = absl::StrFormat("INFO: found after %llu executions, %llu steps, %.3f s\n%s%s",
                                             static_cast<unsigned long long>(execs),
                                             static_cast<unsigned long long>(steps), t_found, pct_info(),
                                             guided_info());
    return ReportFinding(ctx, *tc, found, found_by, info);
  }
  const double secs = elapsed();
  std::printf("INFO: no violation: %llu executions, %llu steps in %.2f s (%.0f exec/s, %.0f steps/s); %llu cut at the step limit\n",
              static_cast<unsigned long long>(execs), static_cast<unsigned long long>(steps), secs,
              secs > 0 ? execs / secs : 0.0, secs > 0 ? steps / secs : 0.0, static_cast<unsigned long long>(cut));
  std::printf("%s%s", pct_info().c_str(), guided_info().c_str());
  return kExitOk;
}

}  // namespace sptefuzz
