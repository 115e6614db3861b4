// repro_parser_fuzzer: libFuzzer target for the text repro parser. Any text
// either fails to parse with a located error ("LINE:COL: ...") or parses
// into a valid repro whose canonical print parses back to the same value
// and prints the same text; and every repro that parses runs (what
// `sptefuzz replay` does with it), deterministically, without a crash.
//
//   build/h4-fuzz/repro/repro_parser_fuzzer -dict=repro/repro_parser.dict corpus-dir corpus/regressions
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "core/check.h"
#include "core/executor.h"
#include "repro/repro_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sptefuzz;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Repro> r = ParseRepro(text);
  if (!r.ok()) {
    // Errors are statuses with a position, never crashes.
    const absl::string_view m = r.status().message();
    SPTEFUZZ_CHECK(!m.empty() && absl::ascii_isdigit(static_cast<unsigned char>(m[0])));
    SPTEFUZZ_CHECK(m.find(':') != absl::string_view::npos);
    return 0;
  }
  SPTEFUZZ_CHECK(ValidateTestCase(r->tc).ok());
  SPTEFUZZ_CHECK(ResolveRules(*r).ok());
  const std::string printed = PrintRepro(*r);
  absl::StatusOr<Repro> again = ParseRepro(printed);
  SPTEFUZZ_CHECK(again.ok());
  SPTEFUZZ_CHECK(*again == *r);
  SPTEFUZZ_CHECK(PrintRepro(*again) == printed);
  absl::StatusOr<Rules> rules = ResolveRules(*r);
  static Executor* ex = new Executor();
  SegmentScheduler seg;
  const uint64_t h = ex->Run(r->tc, *rules, seg).TraceHash();
  SPTEFUZZ_CHECK(ex->Run(r->tc, *rules, seg).TraceHash() == h);
  return 0;
}
