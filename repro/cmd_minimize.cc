// `sptefuzz minimize FILE -o OUT`: shrinks a finding (a text repro or a raw
// fuzz input) with the semantic minimizer (repro/minimize.h) and writes a
// canonical text repro that violates the same invariant, with an `expect`
// line and a comment saying what it was minimized from.
//
// Exit status: 1 a finding was minimized and written; 0 the input has no
// finding (nothing is written); 2 bad usage or bad input, OUT exists.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/check.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/minimize.h"
#include "repro/replay.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

size_t OpCount(const TestCase& tc) {
  size_t n = 0;
  for (const ThreadSpec& t : tc.threads) n += t.ops.size();
  return n;
}

std::string Shape(const TestCase& tc, uint32_t steps) {
  return absl::StrCat(steps, " steps, ", tc.threads.size(), " threads, ", OpCount(tc), " ops, ", tc.schedule.size(),
                      " schedule segments, vcpus=", tc.config.vcpus, " gfns=", tc.config.gfns);
}

}  // namespace

int CmdMinimize(const std::vector<std::string>& args) {
  CliFlags flags("minimize");
  std::string out, format = "auto", raw_rules;
  int64_t step_limit = ExecOptions{}.step_limit;
  bool quiet = false;
  flags.String("out", &out, "write the minimized text repro here (-o OUT; never overwritten)");
  flags.String("format", &format, "input format: auto, text, bytes");
  flags.String("rules", &raw_rules, "rules preset for a raw fuzz input (default: $SPTEFUZZ_RULES, else the default)");
  flags.Int("step-limit", &step_limit, "steps per execution before it is cut off (not a finding)", 100, 1000000);
  flags.Bool("quiet", &quiet, "do not print the minimized repro and its trace");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(ExpandShortFlag(args, "-o", "--out"), &pos); !s.ok()) return UsageError("minimize", std::string(s.message()));
  if (pos.size() != 1) return UsageError("minimize", "expected exactly one FILE (and -o OUT)\n" + flags.Help());
  if (out.empty()) return UsageError("minimize", "expected -o OUT: where to write the minimized repro");
  if (std::filesystem::exists(out)) return UsageError("minimize", absl::StrCat("-o ", out, " already exists; it is never overwritten"));
  absl::StatusOr<InputFormat> fmt = ParseInputFormat(format);
  if (!fmt.ok()) return UsageError("minimize", std::string(fmt.status().message()));
  const std::string& path = pos[0];
  absl::StatusOr<LoadedInput> in = LoadInput(path, *fmt, raw_rules);
  if (!in.ok()) return UsageError("minimize", std::string(in.status().message()));
  ExecOptions exec;
  exec.step_limit = static_cast<uint32_t>(step_limit);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Result> before = RunTwice(in->repro.tc, in->rules, exec);
  if (!before.ok()) {
    std::fprintf(stderr, "FATAL: sptefuzz minimize: %s: %s\n", path.c_str(), std::string(before.status().message()).c_str());
    return kExitUsage;
  }
  if (before->outcome != Outcome::kViolation) {
    std::printf("INFO: sptefuzz minimize: %s: no finding under rules %s (verdict %s); nothing to minimize, nothing written\n",
                path.c_str(), in->repro.rules.c_str(), VerdictName(*before).c_str());
    return kExitOk;
  }
  const Invariant target = before->violations[0].invariant;
  if (in->repro.expect.has_value() && !VerdictMatches(*in->repro.expect, *before)) {
    std::printf("WARNING: sptefuzz minimize: %s expects '%s' but the verdict is '%s'; keeping %s\n", path.c_str(),
                ExpectName(*in->repro.expect).c_str(), VerdictName(*before).c_str(), InvariantName(target));
  }
  MinimizeOptions mopts;
  mopts.exec = exec;
  absl::StatusOr<MinimizeResult> m = MinimizeTestCase(in->repro.tc, in->rules, target, mopts);
  if (!m.ok()) return UsageError("minimize", absl::StrCat(path, ": ", m.status().message()));

  Repro repro;
  repro.comments = in->repro.comments;
  repro.comments.push_back(absl::StrCat("minimized by `sptefuzz minimize` from ", in->is_text ? "" : "raw fuzz input ",
                                        FileNameForComment(path), " (",
                                        Shape(in->repro.tc, before->steps), ")"));
  repro.rules = in->repro.rules;
  repro.knobs = in->repro.knobs;
  repro.tc = m->tc;
  repro.expect = Expect{true, target};
  const std::string text = PrintRepro(repro);
  // What is written must replay as minimized.
  absl::StatusOr<Repro> back = ParseRepro(text);
  SPTEFUZZ_CHECK(back.ok() && *back == repro);
  absl::StatusOr<Result> after = RunTwice(repro.tc, in->rules, exec);
  if (!after.ok()) {
    std::fprintf(stderr, "FATAL: sptefuzz minimize: %s\n", std::string(after.status().message()).c_str());
    return kExitUsage;
  }
  SPTEFUZZ_CHECK(VerdictMatches(*repro.expect, *after));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (absl::Status s = WriteNewFile(out, text); !s.ok()) return UsageError("minimize", std::string(s.message()));

  std::vector<std::string> knobs;
  for (const auto& [k, v] : repro.knobs) knobs.push_back(absl::StrCat(k, "=", v));
  const std::string rules = knobs.empty() ? repro.rules : absl::StrCat(repro.rules, " with ", absl::StrJoin(knobs, " "));
  PrintFindingReport(stdout, rules, *after, absl::StrCat("sptefuzz replay ", out));
  std::printf("INFO: sptefuzz minimize: %s: %s -> %s\n", path.c_str(), Shape(in->repro.tc, before->steps).c_str(),
              Shape(repro.tc, after->steps).c_str());
  std::printf("INFO: sptefuzz minimize: %llu executions in %.3f s; wrote %s\n",
              static_cast<unsigned long long>(m->executions), secs, out.c_str());
  if (!quiet) {
    std::printf("\n--- repro ---\n%s", text.c_str());
    std::printf("\n--- trace ---\n%s%s\n", FormatTrace(repro.tc, *after).c_str(), FormatVerdict(*after).c_str());
  }
  return kExitFinding;
}

}  // namespace sptefuzz
