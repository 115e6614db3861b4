// `sptefuzz convert IN -o OUT`: a raw fuzz input to a text repro, or a text
// repro to a raw fuzz input. The conversion is checked before OUT is
// written: the converted test case must give the same trace (hence the same
// verdict) as the input.
//
// A raw fuzz input carries no rules: text -> bytes needs a repro without
// knob overrides, and the bytes replay with `--rules PRESET` (or
// SPTEFUZZ_RULES). bytes -> text writes the rules used (--rules, else
// SPTEFUZZ_RULES, else the default preset) and the verdict as `expect`.
//
// Exit status: 0 converted; 2 bad usage, bad input, OUT exists, or the test
// case has no byte encoding.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "repro/cli_flags.h"
#include "repro/commands.h"
#include "repro/replay.h"

namespace sptefuzz {

int CmdConvert(const std::vector<std::string>& args) {
  CliFlags flags("convert");
  std::string out, format = "auto", raw_rules;
  flags.String("out", &out, "the converted file (-o OUT; never overwritten)");
  flags.String("format", &format, "format of IN: auto (text if it starts with '#' or 'sptefuzz-repro'), text, bytes");
  flags.String("rules", &raw_rules, "rules preset of a raw IN (default: $SPTEFUZZ_RULES, else the default preset)");
  std::vector<std::string> pos;
  if (absl::Status s = flags.Parse(ExpandShortFlag(args, "-o", "--out"), &pos); !s.ok()) return UsageError("convert", std::string(s.message()));
  if (pos.size() != 1) return UsageError("convert", "expected exactly one IN file (and -o OUT)\n" + flags.Help());
  if (out.empty()) return UsageError("convert", "expected -o OUT: where to write the converted file");
  if (std::filesystem::exists(out)) return UsageError("convert", absl::StrCat("-o ", out, " already exists; it is never overwritten"));
  absl::StatusOr<InputFormat> fmt = ParseInputFormat(format);
  if (!fmt.ok()) return UsageError("convert", std::string(fmt.status().message()));
  if (!HaveCodec()) {
    return UsageError("convert", "raw fuzz inputs are not supported: this sptefuzz was built without fuzz/codec.cc");
  }
  const std::string& path = pos[0];
  absl::StatusOr<LoadedInput> in = LoadInput(path, *fmt, raw_rules);
  if (!in.ok()) return UsageError("convert", std::string(in.status().message()));
  const ExecOptions exec;
  absl::StatusOr<Result> orig = RunTwice(in->repro.tc, in->rules, exec);
  if (!orig.ok()) {
    std::fprintf(stderr, "FATAL: sptefuzz convert: %s: %s\n", path.c_str(), std::string(orig.status().message()).c_str());
    return kExitUsage;
  }

  std::string data;
  absl::StatusOr<Result> conv;
  if (in->is_text) {
    if (!in->repro.knobs.empty()) {
      return UsageError("convert", absl::StrCat(path, ": has 'knob' overrides, which a raw fuzz input cannot carry "
                                                      "(it replays under a preset only)"));
    }
    absl::StatusOr<std::string> bytes = EncodeRawInput(in->repro.tc);
    if (!bytes.ok()) return UsageError("convert", absl::StrCat(path, ": ", bytes.status().message()));
    data = *bytes;
    absl::StatusOr<TestCase> back = DecodeRawInput(data);
    if (!back.ok()) return UsageError("convert", std::string(back.status().message()));
    conv = RunTwice(*back, in->rules, exec);
  } else {
    Repro r = in->repro;
    r.comments.push_back(absl::StrCat("converted by `sptefuzz convert` from raw fuzz input ",
                                      FileNameForComment(path), " under rules ", r.rules));
    if (orig->outcome == Outcome::kOk) r.expect = Expect{false, Invariant::kCount};
    if (orig->outcome == Outcome::kViolation) r.expect = Expect{true, orig->violations[0].invariant};
    data = PrintRepro(r);
    absl::StatusOr<Repro> back = ParseRepro(data);
    if (!back.ok()) {
      std::fprintf(stderr, "FATAL: sptefuzz convert: the printed repro does not parse: %s\n",
                   std::string(back.status().message()).c_str());
      return kExitUsage;
    }
    conv = RunTwice(back->tc, in->rules, exec);
  }
  if (!conv.ok() || conv->TraceHash() != orig->TraceHash()) {
    std::fprintf(stderr, "FATAL: sptefuzz convert: %s: the converted test case does not replay the same trace%s\n",
                 path.c_str(), conv.ok() ? "" : absl::StrCat(": ", conv.status().message()).c_str());
    return kExitUsage;
  }
  if (absl::Status s = WriteNewFile(out, data); !s.ok()) return UsageError("convert", std::string(s.message()));
  std::printf("INFO: sptefuzz convert: %s (%s) -> %s (%s): same trace, hash %016llx, %u steps, verdict %s\n",
              path.c_str(), in->is_text ? "text repro" : "raw fuzz input", out.c_str(),
              in->is_text ? "raw fuzz input" : "text repro", static_cast<unsigned long long>(orig->TraceHash()),
              orig->steps, VerdictName(*orig).c_str());
  if (in->is_text) {
    std::printf("INFO: sptefuzz convert: raw inputs carry no rules: replay with `sptefuzz replay %s --rules %s` "
                "or SPTEFUZZ_RULES=%s\n",
                out.c_str(), in->repro.rules.c_str(), in->repro.rules.c_str());
  }
  return kExitOk;
}

}  // namespace sptefuzz
