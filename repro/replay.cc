#include "repro/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#if SPTEFUZZ_HAVE_CODEC
#include "fuzz/codec.h"
#endif

namespace sptefuzz {
namespace {

constexpr size_t kMaxInputBytes = 16 << 20;

std::string PresetList() {
  std::vector<std::string> names;
  for (const RulesPreset& p : AllPresets()) names.push_back(p.name);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  if (!std::filesystem::is_regular_file(st)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", ec.message()));
  if (size > kMaxInputBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes: expected at most ", kMaxInputBytes, " (a repro or a fuzz input)"));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": read error"));
  return ss.str();
}

}  // namespace

absl::StatusOr<InputFormat> ParseInputFormat(absl::string_view s) {
  if (s == "auto") return InputFormat::kAuto;
  if (s == "text") return InputFormat::kText;
  if (s == "bytes") return InputFormat::kBytes;
  return absl::InvalidArgumentError(absl::StrCat("--format ", s, ": expected auto, text or bytes"));
}

bool HaveCodec() { return SPTEFUZZ_HAVE_CODEC != 0; }

absl::StatusOr<TestCase> DecodeRawInput(absl::string_view bytes) {
#if SPTEFUZZ_HAVE_CODEC
  return NormalizeTestCase(DecodeTestCase(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
#else
  return absl::UnimplementedError("raw fuzz inputs are not supported: this sptefuzz was built without fuzz/codec.cc");
#endif
}

absl::StatusOr<std::string> EncodeRawInput(const TestCase& tc) {
#if SPTEFUZZ_HAVE_CODEC
  if (!IsEncodable(tc)) {
    return absl::InvalidArgumentError("this test case has no fuzz-byte encoding (fuzz/codec.h IsEncodable)");
  }
  const std::vector<uint8_t> b = EncodeTestCase(tc);
  return std::string(b.begin(), b.end());
#else
  return absl::UnimplementedError("raw fuzz inputs are not supported: this sptefuzz was built without fuzz/codec.cc");
#endif
}

bool LooksLikeText(absl::string_view data) {
  return absl::StartsWith(data, "#") || absl::StartsWith(data, "sptefuzz-repro");
}

absl::StatusOr<std::string> RulesForRawInput(const std::string& flag) {
  std::string name = flag;
  if (name.empty()) {
    const char* env = std::getenv("SPTEFUZZ_RULES");
    if (env != nullptr && *env != '\0') {
      name = env;
      if (FindPreset(name) == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("SPTEFUZZ_RULES=", name, ": unknown rules preset: expected one of ", PresetList()));
      }
    }
  }
  if (name.empty()) name = DefaultPreset().name;
  if (FindPreset(name) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--rules ", name, ": unknown rules preset: expected one of ", PresetList()));
  }
  return name;
}

absl::StatusOr<LoadedInput> LoadInput(const std::string& path, InputFormat format, const std::string& raw_rules) {
  LoadedInput in;
  in.path = path;
  absl::StatusOr<std::string> data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  in.bytes = *std::move(data);
  // A file named *.repro is meant as text: an empty or mangled one gets a
  // parse error, not a run as the (always valid) raw input it would decode to.
  in.is_text = format == InputFormat::kText ||
               (format == InputFormat::kAuto && (LooksLikeText(in.bytes) || absl::EndsWith(path, ".repro")));
  if (in.is_text) {
    if (!raw_rules.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": --rules applies to raw fuzz inputs only; a text repro names its rules (edit its 'rules' line)"));
    }
    absl::StatusOr<Repro> r = ParseRepro(in.bytes);
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ":", r.status().message()));
    in.repro = *std::move(r);
    absl::StatusOr<Rules> rules = ResolveRules(in.repro);
    if (!rules.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", rules.status().message()));
    in.rules = *rules;
    return in;
  }
  absl::StatusOr<std::string> rules_name = RulesForRawInput(raw_rules);
  if (!rules_name.ok()) return rules_name.status();
  absl::StatusOr<TestCase> tc = DecodeRawInput(in.bytes);
  if (!tc.ok()) {
    return absl::Status(tc.status().code(),
                        absl::StrCat(path, ": does not start with '#' or 'sptefuzz-repro', so it is read as a raw fuzz "
                                           "input, but ", tc.status().message()));
  }
  in.repro.rules = *rules_name;
  in.repro.tc = *std::move(tc);
  in.rules = FindPreset(*rules_name)->rules;
  return in;
}

TestCase NormalizeTestCase(TestCase tc) {
  for (Segment& s : tc.schedule) {
    if (s.kind != SegmentKind::kThrough) s.label = Label::kH1;
    if (s.kind == SegmentKind::kToEnd) s.count = 1;
  }
  for (ThreadSpec& t : tc.threads) {
    if (t.kind == ThreadKind::kKernel) t.vcpu = 0;
    for (Op& op : t.ops) {
      if (!OpUsesGfn(op.kind)) op.gfn = 0;
    }
  }
  return tc;
}

absl::StatusOr<Result> RunTwice(const TestCase& tc, const Rules& rules, const ExecOptions& opts) {
  Executor ex;
  SegmentScheduler seg;
  Result first = ex.Run(tc, rules, seg, opts);
  const Result& second = ex.Run(tc, rules, seg, opts);
  if (first.TraceHash() != second.TraceHash()) {
    return absl::InternalError(absl::StrFormat(
        "nondeterminism: two runs of the same test case gave different traces (hash %016x, %d steps vs %016x, %d "
        "steps); this is a bug in sptefuzz",
        first.TraceHash(), first.steps, second.TraceHash(), second.steps));
  }
  return first;
}

std::string VerdictName(const Result& r) {
  switch (r.outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kStepLimit:
      return "step-limit";
    case Outcome::kAborted:
      return "aborted";
    case Outcome::kViolation:
      return absl::StrCat("violation ", InvariantName(r.violations[0].invariant));
  }
  return "?";
}

std::string ExpectName(const Expect& e) {
  return e.violation ? absl::StrCat("violation ", InvariantName(e.invariant)) : "ok";
}

bool VerdictMatches(const Expect& e, const Result& r) {
  if (!e.violation) return r.outcome == Outcome::kOk;
  return r.outcome == Outcome::kViolation && r.violations[0].invariant == e.invariant;
}

std::string FileNameForComment(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return name;
}

absl::Status WriteNewFile(const std::string& path, absl::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " already exists; it is never overwritten"));
    return absl::InvalidArgumentError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace sptefuzz
