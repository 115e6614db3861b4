// `sptefuzz replay FILE...`: runs text repros or raw fuzz inputs with their
// own schedule, twice (the traces must be identical), prints the trace step
// by step and the verdict, and compares it with the file's `expect` line.
//
// Exit status (the worst over all files):
//   0  no finding, or the verdict is what the file expects;
//   1  a finding the file does not expect (no `expect` line counts as
//      expecting none), or with --expect any verdict other than the expected;
//   2  bad usage, a file that cannot be read or parsed, nondeterminism.
// Without --expect a verdict that differs from `expect` is a WARNING line and
// the status follows the verdict; with --expect it is an ERROR line and 1, and
// every file must have an `expect` line (raw fuzz inputs have none: exit 2).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/replay.h"
#include "repro/trace_html.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

struct ReplayFlags {
  InputFormat format = InputFormat::kAuto;
  std::string rules;
  std::string html;
  bool expect = false;
  bool quiet = false;
  ExecOptions exec;
};

std::string RulesDisplay(const Repro& r) {
  std::vector<std::string> knobs;
  for (const auto& [k, v] : r.knobs) knobs.push_back(absl::StrCat(k, "=", v));
  return knobs.empty() ? r.rules : absl::StrCat(r.rules, " with ", absl::StrJoin(knobs, " "));
}

int ReplayOne(const std::string& path, const ReplayFlags& f) {
  absl::StatusOr<LoadedInput> in = LoadInput(path, f.format, f.rules);
  if (!in.ok()) return UsageError("replay", std::string(in.status().message()));
  const Repro& repro = in->repro;
  if (f.expect && !repro.expect.has_value()) {
    return UsageError("replay", absl::StrCat(path, ": --expect needs an 'expect ok' or 'expect violation NAME' line",
                                             in->is_text ? "" : " (a raw fuzz input has none; convert it to text first)"));
  }
  absl::StatusOr<Result> run = RunTwice(repro.tc, in->rules, f.exec);
  if (!run.ok()) {
    std::fprintf(stderr, "FATAL: sptefuzz replay: %s: %s\n", path.c_str(), std::string(run.status().message()).c_str());
    return kExitUsage;
  }
  const Result& r = *run;
  const std::string rules = RulesDisplay(repro);
  std::printf("INFO: sptefuzz replay: %s: %s, rules %s, %zu threads\n", path.c_str(),
              in->is_text ? "text repro" : "raw fuzz input", rules.c_str(), repro.tc.threads.size());
  if (!f.quiet) {
    if (!in->is_text) std::printf("--- the input as a text repro ---\n%s", PrintRepro(repro).c_str());
    std::printf("--- trace ---\n%s", FormatTrace(repro.tc, r).c_str());
  }
  std::printf("%s\n", FormatVerdict(r).c_str());
  std::string replay_cmd = absl::StrCat("sptefuzz replay ", path);
  if (!in->is_text) absl::StrAppend(&replay_cmd, " --rules ", repro.rules);
  std::fflush(stdout);
  PrintFindingReport(stdout, rules, r, replay_cmd);
  std::printf("INFO: sptefuzz replay: %s: trace hash %016llx (%u steps), identical in 2 runs\n", path.c_str(),
              static_cast<unsigned long long>(r.TraceHash()), r.steps);
  if (r.outcome == Outcome::kStepLimit) {
    std::printf("WARNING: sptefuzz replay: %s: the run was cut off at the step limit (%u steps); not a finding\n",
                path.c_str(), f.exec.step_limit);
  }
  if (!f.html.empty()) {
    if (absl::Status s = WriteNewFile(f.html, FormatTraceHtml(repro, r, path)); !s.ok()) {
      return UsageError("replay", absl::StrCat("--html: ", s.message()));
    }
    std::printf("INFO: sptefuzz replay: wrote %s\n", f.html.c_str());
  }
  const bool finding = r.outcome == Outcome::kViolation;
  if (!repro.expect.has_value()) return finding ? kExitFinding : kExitOk;
  if (VerdictMatches(*repro.expect, r)) {
    std::printf("INFO: sptefuzz replay: %s: the verdict is the expected '%s'\n", path.c_str(),
                ExpectName(*repro.expect).c_str());
    return kExitOk;
  }
  const std::string msg = absl::StrCat(path, ": expected '", ExpectName(*repro.expect), "' but the verdict is '",
                                       VerdictName(r), "'");
  std::fflush(stdout);
  if (f.expect) {
    std::fprintf(stderr, "ERROR: sptefuzz replay: verdict mismatch: %s\n", msg.c_str());
    return kExitFinding;
  }
  std::printf("WARNING: sptefuzz replay: verdict mismatch: %s\n", msg.c_str());
  return finding ? kExitFinding : kExitOk;
}

}  // namespace

int CmdReplay(const std::vector<std::string>& args) {
  CliFlags flags("replay");
  ReplayFlags f;
  std::string format = "auto";
  int64_t step_limit = f.exec.step_limit;
  flags.String("format", &format, "input format: auto (text if it starts with '#' or 'sptefuzz-repro' or is named *.repro), text, bytes");
  flags.String("rules", &f.rules, "rules preset for raw fuzz inputs (default: $SPTEFUZZ_RULES, else the default preset)");
  flags.String("html", &f.html, "also write the trace as a self-contained HTML page to this file (one FILE only; never overwritten)");
  flags.Bool("expect", &f.expect, "a verdict other than the file's 'expect' line is an error (exit 1)");
  flags.Bool("quiet", &f.quiet, "print the verdict and report lines, not the trace");
  flags.Int("step-limit", &step_limit, "steps per execution before it is cut off (not a finding)", 100, 1000000);
  std::vector<std::string> files;
  if (absl::Status s = flags.Parse(args, &files); !s.ok()) return UsageError("replay", std::string(s.message()));
  absl::StatusOr<InputFormat> fmt = ParseInputFormat(format);
  if (!fmt.ok()) return UsageError("replay", std::string(fmt.status().message()));
  f.format = *fmt;
  f.exec.step_limit = static_cast<uint32_t>(step_limit);
  if (files.empty()) return UsageError("replay", "expected at least one FILE (a text repro or a raw fuzz input)\n" + flags.Help());
  if (!f.html.empty() && files.size() != 1) return UsageError("replay", "--html takes exactly one FILE");
  if (!f.html.empty() && std::filesystem::exists(f.html)) {
    return UsageError("replay", absl::StrCat("--html ", f.html, " already exists; it is never overwritten"));
  }
  int status = kExitOk;
  for (const std::string& file : files) status = std::max(status, ReplayOne(file, f));
  if (files.size() > 1) {
    std::printf("INFO: sptefuzz replay: %zu files, exit status %d\n", files.size(), status);
  }
  return status;
}

}  // namespace sptefuzz
