// core/test_util.h: helpers shared by the core tests.
#ifndef SPTEFUZZ_CORE_TEST_UTIL_H_
#define SPTEFUZZ_CORE_TEST_UTIL_H_

#include <string>

#include "absl/strings/str_join.h"
#include "core/executor.h"
#include "core/rules.h"

namespace sptefuzz {

inline const Rules& PresetRules(const char* name) {
  const RulesPreset* p = FindPreset(name);
  if (p == nullptr) std::abort();
  return p->rules;
}

// "0:H4 0:F2 ..." — thread and label of every step.
inline std::string StepList(const Result& r) {
  std::vector<std::string> parts;
  for (const TraceStep& s : r.trace) parts.push_back(std::to_string(s.thread) + ":" + LabelName(s.label));
  return absl::StrJoin(parts, " ");
}

// Labels of one thread's steps: "H4 F2 F3 F4 H4 H4.cas".
inline std::string LabelsOf(const Result& r, int thread) {
  std::vector<std::string> parts;
  for (const TraceStep& s : r.trace) {
    if (s.thread == thread) parts.push_back(LabelName(s.label));
  }
  return absl::StrJoin(parts, " ");
}

inline Result RunSegments(const TestCase& tc, const Rules& rules) {
  Executor ex;
  SegmentScheduler seg;
  return ex.Run(tc, rules, seg);
}

inline ThreadSpec KvmThread(std::vector<Op> ops) { return ThreadSpec{ThreadKind::kKernel, 0, std::move(ops)}; }
inline ThreadSpec VcpuThread(int v, std::vector<Op> ops) {
  return ThreadSpec{ThreadKind::kVcpu, static_cast<uint8_t>(v), std::move(ops)};
}

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_TEST_UTIL_H_
