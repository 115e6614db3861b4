// `sptefuzz blame FILE [--against PRESET]`: which rule is wrong. Replays a
// finding (a text repro or a raw fuzz input) once per knob in which its
// rules differ from the preset that fixed them (the buggy preset's
// `fixed_by`, else the default preset), each time with only that knob set
// to the fixed value. A knob whose fix alone makes the finding's invariant
// go away is blamed (oracle switches such as strict-a are not rules and are
// never blamed). The segments of the schedule adapt to the changed
// rules (a "through LABEL" segment still preempts at that label), so the
// same race is replayed, not the same step numbers.
//
// Output (stable, greppable):
//   INFO: blame: FILE: lost-page-dirty (I2) under rules linux-5.10, against linux-5.18: 6 knobs differ
//   BLAME: tdp-setter plain -> xchg-if-volatile
// and "INFO: blame: no single knob ..." when no knob alone fixes it.
//
// Exit status: 1 the input has a finding (whether or not a knob is blamed);
// 0 no finding; 2 bad usage or bad input.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/rules.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/replay.h"

namespace sptefuzz {
namespace {

bool HasInvariant(const Result& r, Invariant inv) {
  if (r.outcome != Outcome::kViolation) return false;
  for (const Violation& v : r.violations) {
    if (v.invariant == inv) return true;
  }
  return false;
}

}  // namespace

int CmdBlame(const std::vector<std::string>& args) {
  CliFlags flags("blame");
  std::string format = "auto", raw_rules, against;
  int64_t step_limit = ExecOptions{}.step_limit;
  flags.String("format", &format, "input format: auto, text, bytes");
  flags.String("rules", &raw_rules, "rules preset for a raw fuzz input (default: $SPTEFUZZ_RULES, else the default)");
  flags.String("against", &against, "the preset with the fix (default: the finding's preset's fixed_by, else the default preset)");
  flags.Int("step-limit", &step_limit, "steps per execution before it is cut off (not a finding)", 100, 1000000);
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(args, &pos); !s.ok()) return UsageError("blame", std::string(s.message()));
  if (pos.size() != 1) return UsageError("blame", "expected exactly one FILE\n" + flags.Help());
  absl::StatusOr<InputFormat> fmt = ParseInputFormat(format);
  if (!fmt.ok()) return UsageError("blame", std::string(fmt.status().message()));
  const std::string& path = pos[0];
  absl::StatusOr<LoadedInput> in = LoadInput(path, *fmt, raw_rules);
  if (!in.ok()) return UsageError("blame", std::string(in.status().message()));
  const RulesPreset* own = FindPreset(in->repro.rules);
  const RulesPreset* fixed = nullptr;
  if (!against.empty()) {
    fixed = FindPreset(against);
    if (fixed == nullptr) return UsageError("blame", absl::StrCat("--against: unknown rules preset '", against, "'"));
  } else if (own != nullptr && own->fixed_by[0] != '\0') {
    fixed = FindPreset(own->fixed_by);
  }
  if (fixed == nullptr) fixed = &DefaultPreset();
  ExecOptions exec;
  exec.step_limit = static_cast<uint32_t>(step_limit);

  absl::StatusOr<Result> before = RunTwice(in->repro.tc, in->rules, exec);
  if (!before.ok()) {
    std::fprintf(stderr, "FATAL: sptefuzz blame: %s: %s\n", path.c_str(), std::string(before.status().message()).c_str());
    return kExitUsage;
  }
  if (before->outcome != Outcome::kViolation) {
    std::printf("INFO: blame: %s: no finding under rules %s (verdict %s); nothing to blame\n", path.c_str(),
                in->repro.rules.c_str(), VerdictName(*before).c_str());
    return kExitOk;
  }
  const Invariant target = before->violations[0].invariant;
  const std::vector<std::pair<std::string, std::string>> diff = KnobDiff(fixed->rules, in->rules);
  std::printf("INFO: blame: %s: %s (%s) under rules %s, against %s: %zu knob%s differ%s\n", path.c_str(),
              InvariantName(target), InvariantSpecId(target), in->repro.rules.c_str(), fixed->name, diff.size(),
              diff.size() == 1 ? "" : "s", diff.size() == 1 ? "s" : "");
  // The same knobs, in the same (table) order, with the finding's values.
  const std::vector<std::pair<std::string, std::string>> mine = KnobDiff(in->rules, fixed->rules);
  int blamed = 0;
  for (size_t i = 0; i < diff.size(); ++i) {
    const auto& [knob, value] = diff[i];
    // Oracle switches are not rules: turning a check on can replace the
    // finding's invariant by another one without fixing anything.
    if (IsCheckKnob(knob)) continue;
    Rules r = in->rules;
    if (absl::Status s = SetKnob(r, knob, value); !s.ok()) {
      std::fprintf(stderr, "FATAL: sptefuzz blame: knob %s=%s: %s\n", knob.c_str(), value.c_str(),
                   std::string(s.message()).c_str());
      return kExitUsage;
    }
    absl::StatusOr<Result> after = RunTwice(in->repro.tc, r, exec);
    if (!after.ok()) {
      std::fprintf(stderr, "FATAL: sptefuzz blame: %s with %s=%s: %s\n", path.c_str(), knob.c_str(), value.c_str(),
                   std::string(after.status().message()).c_str());
      return kExitUsage;
    }
    if (!HasInvariant(*after, target)) {
      std::printf("BLAME: %s %s -> %s\n", knob.c_str(), mine[i].second.c_str(), value.c_str());
      ++blamed;
    }
  }
  if (blamed == 0) {
    std::printf("INFO: blame: no single knob of %s removes %s from this finding\n", fixed->name, InvariantName(target));
  }
  return kExitFinding;
}

}  // namespace sptefuzz
