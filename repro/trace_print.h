// repro/trace_print.h: the readable text trace and the stable report lines.
//
//   std::string t = FormatTrace(tc, result);     // one line per step, causes marked
//   std::string v = FormatVerdict(result);       // "verdict: violation lost-page-dirty (I2) at step 14"
//   PrintFindingReport(stdout, rules_name, result, replay_cmd);  // ERROR:/SUMMARY: lines
//   TraceStateTracker st(tc.config);             // TLB and dirty-log changes, step by step
//   for (const TraceStep& s : result.trace) notes = st.Apply(s);
#ifndef SPTEFUZZ_REPRO_TRACE_PRINT_H_
#define SPTEFUZZ_REPRO_TRACE_PRINT_H_

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/testcase.h"
#include "core/trace.h"

namespace sptefuzz {

// Follows the per-vCPU TLBs and the dirty bitmap through a trace, from the
// test case's initial state, so that each step can say what it changed
// (a flush names the entries it dropped; a harvest the gfns it took).
class TraceStateTracker {
 public:
  explicit TraceStateTracker(const Config& c);
  // Applies `s` and returns the TLB and dirty-log changes it made, as short
  // notes ("tlb vcpu0 g0 filled {w d}", "flush drops vcpu0 {g0 w d}",
  // "bitmap g0=1", "harvest takes {g0}").
  std::vector<std::string> Apply(const TraceStep& s);
  const TlbEntry& tlb(int vcpu, int gfn) const { return tlb_[vcpu][gfn]; }
  uint8_t bitmap() const { return bitmap_; }
  // "{g0 w d, g1 r}" for one vCPU, "{}" when empty.
  std::string TlbString(int vcpu) const;

 private:
  int vcpus_, gfns_;
  std::array<std::array<TlbEntry, kMaxGfns>, kMaxVcpus> tlb_{};
  uint8_t bitmap_ = 0;
};

std::string ThreadLabel(const TestCase& tc, int thread);  // "thread 1 (vcpu0)"
// The event of a step with its operands: "CAS ok g0", "FLUSH vcpu1", "BMXCHG -> {g0}".
std::string FormatEvent(const TraceStep& s);
// Whether the step reads or writes the spte of s.gfn (so before/after mean something).
bool StepTouchesSpte(const TraceStep& s);
// One step, with `notes` (TraceStateTracker::Apply) after the spte bits.
std::string FormatStep(const TestCase& tc, const TraceStep& s, const std::vector<std::string>& notes);
std::string FormatStep(const TestCase& tc, const TraceStep& s);
// The whole trace: a header, one line per step; the violation marked ">>" at
// its step with the explanation, the earlier steps that caused it marked "*"
// and listed under it.
std::string FormatTrace(const TestCase& tc, const Result& r);
std::string FormatVerdict(const Result& r);
// "step 9 (thread 0 (kvm) P4 UNLOCK)".
std::string StepRefText(const TestCase& tc, const Result& r, uint32_t step);
// The stable, greppable report of a finding (design.md, "Names that users see").
void PrintFindingReport(std::FILE* out, const std::string& rules_name, const Result& r, const std::string& replay_cmd);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_TRACE_PRINT_H_
