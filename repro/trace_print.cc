#include "repro/trace_print.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/labels.h"

namespace sptefuzz {

std::string ThreadLabel(const TestCase& tc, int thread) {
  if (thread < 0 || thread >= static_cast<int>(tc.threads.size())) return absl::StrCat("thread ", thread);
  const ThreadSpec& t = tc.threads[thread];
  if (t.kind == ThreadKind::kVcpu) return absl::StrCat("thread ", thread, " (vcpu", int{t.vcpu}, ")");
  return absl::StrCat("thread ", thread, " (kvm)");
}

std::string FormatStep(const TestCase& tc, const TraceStep& s) {
  std::string what = EventName(s.event);
  if (s.gfn != 0xff && s.event != Event::kBmXchg) absl::StrAppend(&what, " g", int{s.gfn});
  if (s.event == Event::kFlushVcpu) absl::StrAppend(&what, " vcpu", int{s.vcpu});
  if (s.event == Event::kBmXchg) {
    std::vector<std::string> gs;
    for (int g = 0; g < 8; ++g) {
      if ((s.aux >> g) & 1) gs.push_back(absl::StrCat("g", g));
    }
    absl::StrAppend(&what, " -> {", absl::StrJoin(gs, " "), "}");
  }
  if (s.event == Event::kPageDirty) absl::StrAppend(&what, s.aux ? " -> dirty" : " -> clean");
  if (s.event == Event::kNotifier) absl::StrAppend(&what, " seq=", s.aux);
  std::string spte;
  const bool touches_spte = s.event == Event::kLoad || s.event == Event::kStore || s.event == Event::kXchg ||
                            s.event == Event::kCasOk || s.event == Event::kCasFail || s.event == Event::kAnd ||
                            s.event == Event::kOr || s.event == Event::kTlbHit || s.event == Event::kTlbMissLoad ||
                            s.event == Event::kBitSet;
  if (touches_spte) {
    spte = s.before == s.after ? absl::StrCat("[", SpteToString(s.before), "]")
                               : absl::StrCat("[", SpteToString(s.before), "] -> [", SpteToString(s.after), "]");
  }
  std::vector<std::string> notes;
  if (s.flags & kTraceWrite) notes.push_back("guest write");
  if (s.flags & kTraceRead) notes.push_back("guest read");
  if (s.flags & kTraceEmulated) notes.push_back("write emulated");
  if (s.flags & kTraceTlbFill) {
    notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " filled {", (s.aux & 1) ? "w" : "r",
                                 (s.aux & 2) ? " d" : "", "}"));
  }
  if (s.flags & kTraceTlbDirty) notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " d=1"));
  if (s.flags & kTraceTlbDrop) notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " dropped"));
  if (s.flags & kTraceFault) notes.push_back("fault");
  if (s.flags & kTraceBitmap) notes.push_back(absl::StrCat("bitmap g", int{s.gfn}, "=1"));
  if (s.flags & kTracePageDirty) notes.push_back(absl::StrCat("page g", int{s.gfn}, " dirty"));
  if (s.flags & kTracePageAccessed) notes.push_back(absl::StrCat("page g", int{s.gfn}, " accessed"));
  return absl::StrFormat("%5d  %-17s %-7s %-14s %s%s%s  (%s)", s.step, ThreadLabel(tc, s.thread), LabelName(s.label),
                         what, spte, notes.empty() ? "" : "  ", absl::StrJoin(notes, ", "), LabelFunction(s.label));
}

std::string FormatVerdict(const Result& r) {
  switch (r.outcome) {
    case Outcome::kOk:
      return absl::StrCat("verdict: ok (", r.steps, " steps)");
    case Outcome::kStepLimit:
      return absl::StrCat("verdict: step-limit reached after ", r.steps, " steps (not a finding)");
    case Outcome::kViolation: {
      const Violation& v = r.violations[0];
      return absl::StrCat("verdict: violation ", InvariantName(v.invariant), " (", InvariantSpecId(v.invariant), ") ",
                          v.step == 0 ? std::string("at the end of the run") : absl::StrCat("at step ", v.step));
    }
  }
  return "verdict: ?";
}

std::string FormatTrace(const TestCase& tc, const Result& r) {
  std::set<uint32_t> causes;
  uint32_t at = 0;
  if (r.outcome == Outcome::kViolation) {
    at = r.violations[0].step;
    for (const Violation& v : r.violations) causes.insert(v.cause_steps.begin(), v.cause_steps.end());
  }
  std::string out;
  for (const TraceStep& s : r.trace) {
    const char* mark = s.step == at ? ">>" : causes.count(s.step) ? " *" : "  ";
    absl::StrAppend(&out, mark, FormatStep(tc, s), "\n");
    if (s.step == at) {
      for (const Violation& v : r.violations) {
        absl::StrAppend(&out, "       ^^^ ", InvariantName(v.invariant), ": ", v.explanation, "\n");
      }
    }
  }
  if (r.outcome == Outcome::kViolation && at == 0) {
    for (const Violation& v : r.violations) {
      absl::StrAppend(&out, "  end  ^^^ ", InvariantName(v.invariant), ": ", v.explanation, "\n");
    }
  }
  return out;
}

void PrintFindingReport(std::FILE* out, const std::string& rules_name, const Result& r, const std::string& replay_cmd) {
  if (r.outcome != Outcome::kViolation) return;
  const Violation& v = r.violations[0];
  absl::FPrintF(out, "ERROR: sptefuzz: invariant violated: %s\n", InvariantName(v.invariant));
  absl::FPrintF(out, "ERROR: sptefuzz: %s\n", v.explanation);
  for (size_t i = 1; i < r.violations.size(); ++i) {
    absl::FPrintF(out, "INFO: also violated at the same step: %s: %s\n", InvariantName(r.violations[i].invariant),
                  r.violations[i].explanation);
  }
  absl::FPrintF(out, "SUMMARY: sptefuzz: %s (%s) %s under rules %s\n", InvariantName(v.invariant),
                InvariantSpecId(v.invariant),
                v.step == 0 ? std::string("at the end of the run") : absl::StrCat("at step ", v.step), rules_name);
  if (!replay_cmd.empty()) absl::FPrintF(out, "INFO: replay with: %s\n", replay_cmd);
}

}  // namespace sptefuzz
