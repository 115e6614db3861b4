// repro/trace_html.h: a trace as one self-contained HTML page (no scripts,
// no network): one column per thread, the steps in order, each spte shown
// as a small colored grid of its bits, the violation and its causes
// highlighted and linked.
//
//   const Result& r = executor.Run(repro.tc, rules, scheduler);
//   std::string page = FormatTraceHtml(repro, r, "crash.repro");
//   WriteNewFile("crash.html", page);
#ifndef SPTEFUZZ_REPRO_TRACE_HTML_H_
#define SPTEFUZZ_REPRO_TRACE_HTML_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/trace.h"
#include "repro/repro_format.h"

namespace sptefuzz {

// `source` names where the repro came from (a file name) in the title.
std::string FormatTraceHtml(const Repro& repro, const Result& r, absl::string_view source);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(absl::string_view s);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_TRACE_HTML_H_
