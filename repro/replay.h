// repro/replay.h: what `replay`, `convert` and `minimize` share: loading a
// text repro or a raw fuzz input, running it twice with a determinism check,
// comparing the verdict with the expected one, and writing new files.
//
//   absl::StatusOr<LoadedInput> in = LoadInput("crash.repro", InputFormat::kAuto, "");
//   absl::StatusOr<Result> r = RunTwice(in->repro.tc, in->rules, ExecOptions{});
//   if (in->repro.expect && !VerdictMatches(*in->repro.expect, *r)) { ... }
//   absl::Status s = WriteNewFile("out.repro", PrintRepro(in->repro));  // never overwrites
#ifndef SPTEFUZZ_REPRO_REPLAY_H_
#define SPTEFUZZ_REPRO_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/executor.h"
#include "repro/repro_format.h"

namespace sptefuzz {

enum class InputFormat { kAuto, kText, kBytes };
// "auto", "text", "bytes".
absl::StatusOr<InputFormat> ParseInputFormat(absl::string_view s);

// Whether raw fuzz inputs can be read and written (fuzz/codec.h is built in).
bool HaveCodec();

// Raw fuzz input <-> TestCase through fuzz/codec.h. Errors when the codec
// is not built in, or when the test case has no byte encoding.
absl::StatusOr<TestCase> DecodeRawInput(absl::string_view bytes);
absl::StatusOr<std::string> EncodeRawInput(const TestCase& tc);

// A text repro starts with '#' or "sptefuzz-repro"; anything else is taken
// for a raw fuzz input, unless the file is named *.repro (LoadInput).
bool LooksLikeText(absl::string_view data);

struct LoadedInput {
  std::string path;
  bool is_text = true;
  // For raw input: the decoded test case in the text format's normal form,
  // the rules preset named by --rules / SPTEFUZZ_RULES / the default, no expect.
  Repro repro;
  Rules rules;
  std::string bytes;  // the file's contents
};

// The preset for raw inputs: `flag` if not empty, else $SPTEFUZZ_RULES if set
// and not empty, else the default preset. Unknown names are an error.
absl::StatusOr<std::string> RulesForRawInput(const std::string& flag);

// Reads and decodes `path`. Errors name the file (and for text, line:column).
absl::StatusOr<LoadedInput> LoadInput(const std::string& path, InputFormat format, const std::string& raw_rules);

// The test case in the normal form the text format prints and parses: the
// fields a segment kind ignores are at their defaults and ops that take no
// gfn have gfn 0. The executor treats both forms the same.
TestCase NormalizeTestCase(TestCase tc);

// Runs `tc` twice, first in a fresh executor and then again in the same one,
// and returns the first result. If the two traces differ (nondeterminism, a
// bug of sptefuzz) the status is internal and says so.
absl::StatusOr<Result> RunTwice(const TestCase& tc, const Rules& rules, const ExecOptions& opts);

// "ok", "violation lost-page-dirty", "step-limit".
std::string VerdictName(const Result& r);
std::string ExpectName(const Expect& e);
bool VerdictMatches(const Expect& e, const Result& r);

// `path`'s file name, safe to put into a comment line of a repro: control
// characters (a newline would end the comment) become '?'.
std::string FileNameForComment(const std::string& path);

// Writes a file that must not exist yet (O_EXCL): an existing file is never
// overwritten.
absl::Status WriteNewFile(const std::string& path, absl::string_view data);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_REPLAY_H_
