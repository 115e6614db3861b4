#include "repro/trace_html.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/labels.h"
#include "repro/replay.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

constexpr const char* kStyle = R"css(
body { font-family: sans-serif; font-size: 13px; margin: 1.5em; color: #222; }
h1 { font-size: 18px; margin: 0 0 .4em 0; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6em; font-size: 12px; overflow-x: auto; }
.verdict { padding: .6em .8em; border-radius: 4px; margin: .6em 0 1em 0; }
.verdict.bad { background: #fde2e1; border: 1px solid #d33; }
.verdict.good { background: #e3f6e3; border: 1px solid #3a3; }
.verdict.other { background: #fff4d6; border: 1px solid #c90; }
table.trace { border-collapse: collapse; }
table.trace th, table.trace td { border: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
table.trace th { background: #eee; position: sticky; top: 0; }
td.n { text-align: right; color: #666; font-family: monospace; }
tr.viol td { background: #fde2e1; }
tr.viol td.act { border: 2px solid #d33; }
tr.cause td { background: #fff4d6; }
td.act .lbl { font-weight: bold; font-family: monospace; }
td.act .fn { color: #666; font-size: 11px; }
td.act .ev { font-family: monospace; }
td.state { font-family: monospace; font-size: 11px; color: #444; white-space: nowrap; }
.note { font-size: 11px; color: #035; }
.expl { color: #b00; font-weight: bold; margin-top: 3px; }
table.bits { border-collapse: collapse; display: inline-table; margin: 2px 0; }
table.bits td { border: 1px solid #bbb; padding: 0 2px; font-size: 10px; font-family: monospace; min-width: 14px;
                text-align: center; }
table.bits td.on { background: #6c6; color: #000; }
table.bits td.off { background: #fafafa; color: #bbb; }
table.bits td.set { background: #39f; color: #fff; font-weight: bold; }
table.bits td.clr { background: #f99; color: #600; text-decoration: line-through; }
.arrow { color: #888; padding: 0 3px; }
.legend td { padding: 2px 6px; }
a { color: #06c; }
)css";

// The flags shown in the grids: the usual ones, plus any other that is set
// somewhere in this run.
std::vector<SpteFlagName> GridFlags(const Repro& repro, const Result& r) {
  Spte used = kSptePresent | kSpteW | kSpteA | kSpteD | kSpteHostW | kSpteMmuW;
  for (Spte s : repro.tc.config.init_spte) used |= s;
  for (const TraceStep& s : r.trace) used |= s.before | s.after;
  int n = 0;
  const SpteFlagName* all = SpteFlagNames(&n);
  std::vector<SpteFlagName> out;
  for (int i = 0; i < n; ++i) {
    if (used & all[i].bit) out.push_back(all[i]);
  }
  return out;
}

// One row of cells, one per flag: on/off in `s`; with `prev`, bits that
// changed are colored as set or cleared.
std::string BitGrid(const std::vector<SpteFlagName>& flags, Spte s, const Spte* prev) {
  std::string out = absl::StrCat("<table class=\"bits\" title=\"", HtmlEscape(SpteToString(s)), "\"><tr>");
  for (const SpteFlagName& f : flags) {
    const bool on = (s & f.bit) != 0;
    const char* cls = on ? "on" : "off";
    if (prev != nullptr && ((*prev & f.bit) != 0) != on) cls = on ? "set" : "clr";
    absl::StrAppend(&out, "<td class=\"", cls, "\">", f.name, "</td>");
  }
  absl::StrAppend(&out, "</tr></table>");
  return out;
}

std::string StepLink(uint32_t step) { return absl::StrCat("<a href=\"#step-", step, "\">step ", step, "</a>"); }

}  // namespace

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatTraceHtml(const Repro& repro, const Result& r, absl::string_view source) {
  const TestCase& tc = repro.tc;
  const std::vector<SpteFlagName> flags = GridFlags(repro, r);
  std::set<uint32_t> causes;
  uint32_t at = 0;
  if (r.outcome == Outcome::kViolation) {
    at = r.violations[0].step;
    for (const Violation& v : r.violations) causes.insert(v.cause_steps.begin(), v.cause_steps.end());
  }

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  absl::StrAppend(&out, "<title>sptefuzz replay: ", HtmlEscape(source), "</title>\n<style>", kStyle,
                  "</style>\n</head>\n<body>\n");
  absl::StrAppend(&out, "<h1>sptefuzz replay: ", HtmlEscape(source), "</h1>\n");
  absl::StrAppend(&out, "<div>rules <b>", HtmlEscape(repro.rules), "</b>");
  for (const auto& [k, v] : repro.knobs) absl::StrAppend(&out, ", knob ", HtmlEscape(k), "=", HtmlEscape(v));
  absl::StrAppend(&out, "; ", r.steps, " steps; trace hash ", absl::Hex(r.TraceHash(), absl::kZeroPad16), "</div>\n");

  // The verdict, with the explanation and links to the steps involved.
  const char* vclass = r.outcome == Outcome::kViolation ? "bad" : r.outcome == Outcome::kOk ? "good" : "other";
  absl::StrAppend(&out, "<div class=\"verdict ", vclass, "\"><b>", HtmlEscape(FormatVerdict(r)), "</b>");
  if (repro.expect.has_value()) {
    absl::StrAppend(&out, " &mdash; expected: ", HtmlEscape(ExpectName(*repro.expect)));
  }
  for (const Violation& v : r.violations) {
    absl::StrAppend(&out, "<div class=\"expl\">", HtmlEscape(InvariantName(v.invariant)), " (",
                    InvariantSpecId(v.invariant), ")", v.step ? absl::StrCat(" at ", StepLink(v.step)) : " at the end",
                    ": ", HtmlEscape(v.explanation), "</div>");
    std::vector<std::string> links;
    for (uint32_t c : v.cause_steps) {
      if (c != 0) links.push_back(absl::StrCat(StepLink(c), " ", HtmlEscape(StepRefText(tc, r, c).substr(
                                                                      absl::StrCat("step ", c, " ").size()))));
    }
    if (!links.empty()) absl::StrAppend(&out, "<div>caused by ", absl::StrJoin(links, "; "), "</div>");
  }
  absl::StrAppend(&out, "</div>\n");

  absl::StrAppend(&out, "<details><summary>repro</summary><pre>", HtmlEscape(PrintRepro(repro)), "</pre></details>\n");
  const Spte zero = 0, p = kSptePresent;
  absl::StrAppend(&out, "<table class=\"legend\"><tr><td>spte bits:</td><td>", BitGrid(flags, p, &p),
                  "</td><td>set</td><td>", BitGrid(flags, zero, &zero), "</td><td>clear</td><td>",
                  BitGrid(flags, p, &zero), "</td><td>set by this step</td><td>", BitGrid(flags, zero, &p),
                  "</td><td>cleared by this step</td></tr></table>\n");

  // The steps: one column per thread, plus the TLBs and the bitmap after each step.
  absl::StrAppend(&out, "<table class=\"trace\">\n<thead><tr><th>step</th>");
  for (size_t t = 0; t < tc.threads.size(); ++t) {
    std::vector<std::string> ops;
    for (const Op& op : tc.threads[t].ops) {
      ops.push_back(OpUsesGfn(op.kind) ? absl::StrCat(OpKindName(op.kind), " g", int{op.gfn}) : OpKindName(op.kind));
    }
    absl::StrAppend(&out, "<th>", HtmlEscape(ThreadLabel(tc, static_cast<int>(t))), "<br><span class=\"fn\">",
                    HtmlEscape(absl::StrJoin(ops, "; ")), "</span></th>");
  }
  absl::StrAppend(&out, "<th>TLBs and dirty bitmap after the step</th></tr></thead>\n<tbody>\n");
  TraceStateTracker state(tc.config);
  for (const TraceStep& s : r.trace) {
    const std::vector<std::string> notes = state.Apply(s);
    const char* rclass = s.step == at ? " class=\"viol\"" : causes.count(s.step) ? " class=\"cause\"" : "";
    absl::StrAppend(&out, "<tr id=\"step-", s.step, "\"", rclass, "><td class=\"n\">", s.step, "</td>");
    for (size_t t = 0; t < tc.threads.size(); ++t) {
      if (t != s.thread) {
        absl::StrAppend(&out, "<td></td>");
        continue;
      }
      absl::StrAppend(&out, "<td class=\"act\"><span class=\"lbl\">", HtmlEscape(LabelName(s.label)),
                      "</span> <span class=\"fn\">", HtmlEscape(LabelFunction(s.label)),
                      "</span><br><span class=\"ev\">", HtmlEscape(FormatEvent(s)), "</span>");
      if (StepTouchesSpte(s)) {
        absl::StrAppend(&out, "<br>", BitGrid(flags, s.before, &s.before));
        if (s.after != s.before) absl::StrAppend(&out, "<span class=\"arrow\">&rarr;</span>", BitGrid(flags, s.after, &s.before));
      }
      std::vector<std::string> all;
      if (s.flags & kTraceWrite) all.push_back("guest write");
      if (s.flags & kTraceRead) all.push_back("guest read");
      if (s.flags & kTraceEmulated) all.push_back("write emulated");
      if (s.flags & kTraceFault) all.push_back("fault");
      all.insert(all.end(), notes.begin(), notes.end());
      if (s.flags & kTracePageDirty) all.push_back(absl::StrCat("page g", int{s.gfn}, " dirty"));
      if (s.flags & kTracePageAccessed) all.push_back(absl::StrCat("page g", int{s.gfn}, " accessed"));
      for (const std::string& n : all) absl::StrAppend(&out, "<div class=\"note\">", HtmlEscape(n), "</div>");
      if (s.step == at) {
        for (const Violation& v : r.violations) {
          absl::StrAppend(&out, "<div class=\"expl\">&#9888; ", HtmlEscape(InvariantName(v.invariant)), ": ",
                          HtmlEscape(v.explanation), "</div>");
        }
      }
      absl::StrAppend(&out, "</td>");
    }
    std::vector<std::string> tlbs;
    for (int v = 0; v < tc.config.vcpus; ++v) tlbs.push_back(absl::StrCat("vcpu", v, " ", state.TlbString(v)));
    std::vector<std::string> bm;
    for (int g = 0; g < tc.config.gfns; ++g) {
      if ((state.bitmap() >> g) & 1) bm.push_back(absl::StrCat("g", g));
    }
    absl::StrAppend(&out, "<td class=\"state\">", HtmlEscape(absl::StrJoin(tlbs, " ")), "<br>bitmap {",
                    absl::StrJoin(bm, " "), "}</td></tr>\n");
  }
  if (r.outcome == Outcome::kViolation && at == 0) {
    absl::StrAppend(&out, "<tr class=\"viol\"><td class=\"n\">end</td><td colspan=\"", tc.threads.size() + 1, "\">");
    for (const Violation& v : r.violations) {
      absl::StrAppend(&out, "<div class=\"expl\">&#9888; ", HtmlEscape(InvariantName(v.invariant)), ": ",
                      HtmlEscape(v.explanation), "</div>");
    }
    absl::StrAppend(&out, "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table>\n</body>\n</html>\n");
  return out;
}

}  // namespace sptefuzz
