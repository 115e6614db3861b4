#include "repro/trace_print.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/labels.h"

namespace sptefuzz {
namespace {

std::string GfnSet(uint32_t bits) {
  std::vector<std::string> gs;
  for (int g = 0; g < 8; ++g) {
    if ((bits >> g) & 1) gs.push_back(absl::StrCat("g", g));
  }
  return absl::StrCat("{", absl::StrJoin(gs, " "), "}");
}

std::string EntryBits(const TlbEntry& e) {
  if (!e.w && !e.d) return "r";
  return absl::StrCat(e.w ? "w" : "", e.w && e.d ? " " : "", e.d ? "d" : "");
}

}  // namespace

TraceStateTracker::TraceStateTracker(const Config& c) : vcpus_(c.vcpus), gfns_(c.gfns), tlb_(c.init_tlb),
                                                        bitmap_(c.init_bitmap) {}

std::string TraceStateTracker::TlbString(int vcpu) const {
  std::vector<std::string> parts;
  for (int g = 0; g < gfns_; ++g) {
    if (tlb_[vcpu][g].valid) parts.push_back(absl::StrCat("g", g, " ", EntryBits(tlb_[vcpu][g])));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

std::vector<std::string> TraceStateTracker::Apply(const TraceStep& s) {
  std::vector<std::string> notes;
  const bool has_vcpu = s.vcpu < vcpus_;
  const bool has_gfn = s.gfn < gfns_;
  if ((s.flags & kTraceTlbDrop) && has_vcpu && has_gfn) {
    tlb_[s.vcpu][s.gfn] = TlbEntry{};
    notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " dropped"));
  }
  if ((s.flags & kTraceTlbFill) && has_vcpu && has_gfn) {
    tlb_[s.vcpu][s.gfn] = TlbEntry{true, (s.aux & 1) != 0, (s.aux & 2) != 0};
    notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " filled {",
                                 EntryBits(tlb_[s.vcpu][s.gfn]), "}"));
  }
  if ((s.flags & kTraceTlbDirty) && has_vcpu && has_gfn) {
    tlb_[s.vcpu][s.gfn].d = true;
    notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " d=1"));
  }
  if (s.event == Event::kFlushVcpu && has_vcpu) {
    notes.push_back(absl::StrCat("flush drops vcpu", int{s.vcpu}, " ", TlbString(s.vcpu)));
    for (TlbEntry& e : tlb_[s.vcpu]) e = TlbEntry{};
  }
  if ((s.flags & kTraceBitmap) && has_gfn) {
    notes.push_back(absl::StrCat("bitmap g", int{s.gfn}, "=1", (bitmap_ >> s.gfn) & 1 ? " (already set)" : ""));
    bitmap_ |= static_cast<uint8_t>(1u << s.gfn);
  }
  if (s.event == Event::kBmXchg) {
    notes.push_back(absl::StrCat("harvest takes ", GfnSet(s.aux), ", bitmap -> {}"));
    bitmap_ = 0;
  }
  if ((s.flags & kTracePml) && has_vcpu && has_gfn) {
    notes.push_back(absl::StrCat("pml vcpu", int{s.vcpu}, " += g", int{s.gfn}));
  }
  if (s.event == Event::kPmlFlush) {
    notes.push_back(absl::StrCat("PML drained: bitmap |= ", GfnSet(s.aux)));
    bitmap_ |= static_cast<uint8_t>(s.aux);
  }
  return notes;
}

std::string ThreadLabel(const TestCase& tc, int thread) {
  if (thread < 0 || thread >= static_cast<int>(tc.threads.size())) return absl::StrCat("thread ", thread);
  const ThreadSpec& t = tc.threads[thread];
  if (t.kind == ThreadKind::kVcpu) return absl::StrCat("thread ", thread, " (vcpu", int{t.vcpu}, ")");
  return absl::StrCat("thread ", thread, " (kvm)");
}

bool StepTouchesSpte(const TraceStep& s) {
  switch (s.event) {
    case Event::kLoad:
    case Event::kStore:
    case Event::kXchg:
    case Event::kCasOk:
    case Event::kCasFail:
    case Event::kAnd:
    case Event::kOr:
    case Event::kTlbHit:
    case Event::kTlbMissLoad:
    case Event::kBitSet:
      return s.gfn != 0xff;
    default:
      return false;
  }
}

std::string FormatEvent(const TraceStep& s) {
  std::string what = EventName(s.event);
  if (s.gfn != 0xff && s.event != Event::kBmXchg) absl::StrAppend(&what, " g", int{s.gfn});
  if (s.event == Event::kFlushVcpu || (s.event == Event::kPmlFlush && s.vcpu != 0xff)) {
    absl::StrAppend(&what, " vcpu", int{s.vcpu});
  }
  if (s.event == Event::kBmXchg) absl::StrAppend(&what, " -> ", GfnSet(s.aux));
  if (s.event == Event::kBitSet && s.aux != 0) absl::StrAppend(&what, " (gfn g", s.aux - 1, ")");
  if (s.event == Event::kPageDirty) absl::StrAppend(&what, s.aux ? " -> dirty" : " -> clean");
  if (s.event == Event::kNotifier) absl::StrAppend(&what, " seq=", s.aux);
  if (s.event == Event::kTlbsDirty) absl::StrAppend(&what, " -> ", s.aux);
  return what;
}

std::string FormatStep(const TestCase& tc, const TraceStep& s, const std::vector<std::string>& state_notes) {
  std::string spte;
  if (StepTouchesSpte(s)) {
    spte = s.before == s.after ? absl::StrCat("[", SpteToString(s.before), "]")
                               : absl::StrCat("[", SpteToString(s.before), "] -> [", SpteToString(s.after), "]");
  }
  std::vector<std::string> notes;
  if (s.flags & kTraceWrite) notes.push_back("guest write");
  if (s.flags & kTraceRead) notes.push_back("guest read");
  if (s.flags & kTraceEmulated) notes.push_back("write emulated");
  if (s.flags & kTraceFault) notes.push_back("fault");
  notes.insert(notes.end(), state_notes.begin(), state_notes.end());
  if (s.flags & kTracePageDirty) notes.push_back(absl::StrCat("page g", int{s.gfn}, " dirty"));
  if (s.flags & kTracePageAccessed) notes.push_back(absl::StrCat("page g", int{s.gfn}, " accessed"));
  return absl::StrFormat("%5d  %-17s %-7s %-14s %s%s%s  (%s)", s.step, ThreadLabel(tc, s.thread), LabelName(s.label),
                         FormatEvent(s), spte, notes.empty() ? "" : "  ", absl::StrJoin(notes, ", "),
                         LabelFunction(s.label));
}

std::string FormatStep(const TestCase& tc, const TraceStep& s) {
  // Without the state before it, a step can still say what it filled.
  std::vector<std::string> notes;
  if (s.flags & kTraceTlbFill) {
    notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " filled {",
                                 EntryBits(TlbEntry{true, (s.aux & 1) != 0, (s.aux & 2) != 0}), "}"));
  }
  if (s.flags & kTraceTlbDrop) notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " dropped"));
  if (s.flags & kTraceTlbDirty) notes.push_back(absl::StrCat("tlb vcpu", int{s.vcpu}, " g", int{s.gfn}, " d=1"));
  if (s.flags & kTraceBitmap) notes.push_back(absl::StrCat("bitmap g", int{s.gfn}, "=1"));
  if (s.flags & kTracePml) notes.push_back(absl::StrCat("pml vcpu", int{s.vcpu}, " += g", int{s.gfn}));
  if (s.event == Event::kPmlFlush) notes.push_back(absl::StrCat("PML drained: bitmap |= ", GfnSet(s.aux)));
  return FormatStep(tc, s, notes);
}

std::string FormatVerdict(const Result& r) {
  switch (r.outcome) {
    case Outcome::kOk:
      return absl::StrCat("verdict: ok (", r.steps, " steps)");
    case Outcome::kStepLimit:
      return absl::StrCat("verdict: step-limit reached after ", r.steps, " steps (not a finding)");
    case Outcome::kAborted:
      return absl::StrCat("verdict: abandoned by the scheduler after ", r.steps, " steps (not a finding)");
    case Outcome::kViolation: {
      const Violation& v = r.violations[0];
      return absl::StrCat("verdict: violation ", InvariantName(v.invariant), " (", InvariantSpecId(v.invariant), ") ",
                          v.step == 0 ? std::string("at the end of the run") : absl::StrCat("at step ", v.step));
    }
  }
  return "verdict: ?";
}

std::string StepRefText(const TestCase& tc, const Result& r, uint32_t step) {
  if (step == 0 || step > r.trace.size()) return absl::StrCat("step ", step);
  const TraceStep& s = r.trace[step - 1];
  return absl::StrCat("step ", step, " (", ThreadLabel(tc, s.thread), " ", LabelName(s.label), " ", FormatEvent(s), ")");
}

std::string FormatTrace(const TestCase& tc, const Result& r) {
  std::set<uint32_t> causes;
  uint32_t at = 0;
  if (r.outcome == Outcome::kViolation) {
    at = r.violations[0].step;
    for (const Violation& v : r.violations) causes.insert(v.cause_steps.begin(), v.cause_steps.end());
  }
  auto explain = [&](std::string* out, const char* indent) {
    for (const Violation& v : r.violations) {
      absl::StrAppend(out, indent, "^^^ ", InvariantName(v.invariant), " (", InvariantSpecId(v.invariant), "): ",
                      v.explanation, "\n");
      std::vector<std::string> refs;
      for (uint32_t c : v.cause_steps) {
        if (c != 0) refs.push_back(StepRefText(tc, r, c));
      }
      if (!refs.empty()) absl::StrAppend(out, indent, "    caused by ", absl::StrJoin(refs, "; "), "\n");
    }
  };
  std::string out = absl::StrFormat("  %5s  %-17s %-7s %-14s %s  (%s)\n", "step", "thread", "label", "event",
                                    "[spte before] -> [after], TLB and dirty-log changes", "kernel function");
  TraceStateTracker state(tc.config);
  for (const TraceStep& s : r.trace) {
    const char* mark = s.step == at ? ">>" : causes.count(s.step) ? " *" : "  ";
    absl::StrAppend(&out, mark, FormatStep(tc, s, state.Apply(s)), "\n");
    if (s.step == at) explain(&out, "       ");
  }
  if (r.outcome == Outcome::kViolation && at == 0) {
    absl::StrAppend(&out, ">>  end  (after the last step, when every thread has finished)\n");
    explain(&out, "       ");
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
