// fuzz/sptefuzz_fuzzer.cc: the fuzz target (LLVMFuzzerTestOneInput) shared
// by libFuzzer, the AFL++ build (afl-clang-fast++ -fsanitize=fuzzer) and the
// plain driver (standalone_main.cc) that ctest runs without an engine.
//
// Each input is decoded (fuzz/codec.h) into a TestCase and run under the
// rules of SPTEFUZZ_RULES with the test case's own schedule. A violation is
// run again and must give the same trace; then the stable report is printed
// and the process aborts so that the engine saves the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/executor.h"
#include "core/scheduler.h"
#include "fuzz/codec.h"
#include "fuzz/fuzz_env.h"
#include "repro/repro_format.h"
#include "repro/trace_print.h"

namespace sptefuzz {
namespace {

// Persistent mode: one executor for the life of the process. It resets all
// model state per run, so input X behaves the same after a million others.
struct Target {
  Executor ex;
  SegmentScheduler seg;
  TestCase tc;
};

Target& GetTarget() {
  static Target* t = new Target();
  return *t;
}

[[noreturn]] void ReportFinding(const FuzzEnv& env, const TestCase& tc, const Result& found) {
  std::string replay = "sptefuzz replay --rules " + env.rules_name + " CRASH_FILE (the input the engine saved)";
  if (env.forced_version != 0) {
    replay += " -- note: found with SPTEFUZZ_CODEC_VERSION=" + std::to_string(env.forced_version) +
              ", which reads byte 0 of the input as that version";
  }
  PrintFindingReport(stderr, env.rules_name, found, replay);
  Repro repro;
  repro.comments.push_back("found by sptefuzz_fuzzer under SPTEFUZZ_RULES=" + env.rules_name);
  repro.rules = env.rules_name;
  repro.tc = tc;
  repro.expect = Expect{true, found.violations[0].invariant};
  std::fprintf(stderr, "INFO: sptefuzz: the finding as a text repro:\n--- repro ---\n%s--- end repro ---\n",
               PrintRepro(repro).c_str());
  std::fprintf(stderr, "INFO: sptefuzz: trace:\n%s%s\n", FormatTrace(tc, found).c_str(), FormatVerdict(found).c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace
}  // namespace sptefuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)sptefuzz::GetFuzzEnv();  // a bad environment is reported before any input runs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sptefuzz;
  const FuzzEnv& env = GetFuzzEnv();
  Target& t = GetTarget();
  DecodeTestCaseInto(data, size, &t.tc, env.forced_version);
  const Result& r = t.ex.Run(t.tc, env.rules, t.seg);
  if (r.outcome != Outcome::kViolation) return 0;
  if (env.only.has_value()) {
    bool match = false;
    for (const Violation& v : r.violations) match |= v.invariant == *env.only;
    if (!match) return 0;
  }
  // A finding must replay identically before it is reported (design.md, 8).
  const Result found = r;
  const Result& again = t.ex.Run(t.tc, env.rules, t.seg);
  if (again.outcome != found.outcome || again.TraceHash() != found.TraceHash()) {
    std::fprintf(stderr, "FATAL: sptefuzz_fuzzer: a finding did not replay identically (nondeterminism)\n");
    std::abort();
  }
  ReportFinding(env, t.tc, found);
}
