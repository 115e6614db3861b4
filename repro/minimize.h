// repro/minimize.h: the semantic minimizer. It shrinks a TestCase itself
// (not its bytes) while the primary violation stays the same invariant:
// threads, ops, schedule segments and preemptions, vCPUs and gfns, initial
// spte/TLB/bitmap state. Every accepted step makes the test case strictly
// smaller, and it runs to a fixpoint, so the result is 1-minimal with
// respect to these reductions: undoing any single one loses the violation.
//
//   absl::StatusOr<MinimizeResult> m = MinimizeTestCase(tc, rules, Invariant::kLostPageDirty, {});
//   if (m.ok()) repro.tc = m->tc;   // m->steps_before, m->steps_after, m->executions
#ifndef SPTEFUZZ_REPRO_MINIMIZE_H_
#define SPTEFUZZ_REPRO_MINIMIZE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/executor.h"
#include "core/testcase.h"

namespace sptefuzz {

struct MinimizeOptions {
  ExecOptions exec;
  // Upper bound on executions (a safety net; real inputs need far fewer).
  uint64_t max_executions = 2000000;
};

struct MinimizeResult {
  TestCase tc;
  uint32_t steps_before = 0;
  uint32_t steps_after = 0;
  uint64_t executions = 0;
  int rounds = 0;
};

// `tc` must be valid and its primary violation under `rules` must be
// `target`; otherwise the status says what it does instead. The result is in
// the text format's normal form; "t for N" segments are turned into
// "t through LABEL #k" where that gives the same interleaving.
absl::StatusOr<MinimizeResult> MinimizeTestCase(const TestCase& tc, const Rules& rules, Invariant target,
                                                const MinimizeOptions& opts);

// The minimizer's progress measure, a strict order: fewer threads, then ops,
// schedule segments, shorter segments, vCPUs, gfns, initial state.
bool SmallerTestCase(const TestCase& a, const TestCase& b);

// Every single reduction the minimizer tries on `tc` (some may be invalid
// test cases). The result of MinimizeTestCase is 1-minimal: no candidate of
// it that is valid and SmallerTestCase() still has the violation.
std::vector<TestCase> MinimizeCandidates(const TestCase& tc);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_MINIMIZE_H_
