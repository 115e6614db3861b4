// `sptefuzz rules`: every preset with what it mirrors, its knobs that differ
// from the default preset, its bugs and its expected verdict.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/rules.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"

namespace sptefuzz {

int CmdRules(const std::vector<std::string>& args) {
  CliFlags flags("rules");
  bool knobs = false;
  flags.Bool("knobs", &knobs, "also print every knob value of every preset");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(args, &pos); !s.ok()) return UsageError("rules", std::string(s.message()));
  if (!pos.empty()) return UsageError("rules", absl::StrCat("unexpected argument '", pos[0], "'"));
  const RulesPreset& def = DefaultPreset();
  std::printf("default preset: %s\n\n", def.name);
  for (const RulesPreset& p : AllPresets()) {
    std::vector<std::string> exp;
    for (Invariant i : p.expected) exp.push_back(absl::StrCat(InvariantName(i), " (", InvariantSpecId(i), ")"));
    std::vector<std::string> diff;
    for (const auto& [k, v] : KnobDiff(p.rules, def.rules)) diff.push_back(absl::StrCat(k, "=", v));
    std::printf("%s\n", p.name);
    std::printf("  mirrors:  %s\n", p.mirrors);
    std::printf("  about:    %s\n", p.description);
    std::printf("  knobs:    %s\n", diff.empty() ? "(same as the default)" : absl::StrJoin(diff, " ").c_str());
    std::printf("  bugs:     %s\n", *p.bugs ? p.bugs : "none");
    std::printf("  expected: %s\n", exp.empty() ? "clean" : absl::StrCat("violates ", absl::StrJoin(exp, " or ")).c_str());
    if (knobs) {
      std::vector<std::string> all;
      for (const auto& [k, v] : KnobValues(p.rules)) all.push_back(absl::StrCat(k, "=", v));
      std::printf("  all:      %s\n", absl::StrJoin(all, " ").c_str());
    }
    std::printf("\n");
  }
  return kExitOk;
}

int UsageError(const std::string& cmd, const std::string& msg) {
  std::fprintf(stderr, "ERROR: sptefuzz %s: %s\n", cmd.c_str(), msg.c_str());
  return kExitUsage;
}

}  // namespace sptefuzz
