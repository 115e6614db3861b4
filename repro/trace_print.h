// repro/trace_print.h: the readable text trace and the stable report lines.
//
//   std::string t = FormatTrace(tc, result);     // one line per step
//   std::string v = FormatVerdict(result);       // "verdict: violation lost-page-dirty (I2) at step 14"
//   PrintFindingReport(stdout, rules_name, tc, result, replay_cmd);  // ERROR:/SUMMARY: lines
#ifndef SPTEFUZZ_REPRO_TRACE_PRINT_H_
#define SPTEFUZZ_REPRO_TRACE_PRINT_H_

#include <cstdio>
#include <string>

#include "core/testcase.h"
#include "core/trace.h"

namespace sptefuzz {

std::string ThreadLabel(const TestCase& tc, int thread);  // "thread 1 (vcpu0)"
std::string FormatStep(const TestCase& tc, const TraceStep& s);
std::string FormatTrace(const TestCase& tc, const Result& r);
std::string FormatVerdict(const Result& r);
// The stable, greppable report of a finding (design.md, "Names that users see").
void PrintFindingReport(std::FILE* out, const std::string& rules_name, const Result& r, const std::string& replay_cmd);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_TRACE_PRINT_H_
