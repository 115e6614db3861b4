// bench/throughput: scheduling points per second of the deterministic
// runtime (release build, invariants on, one core).
//
// Pre-generates a pool of programs (so program generation is not measured)
// and runs them round-robin under the seeded random scheduler, then reports
// steps/s and executions/s. Also reports the end-to-end explore loop
// (program generation included) for comparison.
//
//   build/release/bench/throughput [seconds] [preset]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/executor.h"
#include "core/program_gen.h"
#include "core/scenarios.h"

using namespace sptefuzz;

int main(int argc, char** argv) {
  const double secs = argc > 1 ? std::atof(argv[1]) : 3.0;
  const RulesPreset* preset = argc > 2 ? FindPreset(argv[2]) : &DefaultPreset();
  if (preset == nullptr) {
    std::fprintf(stderr, "ERROR: throughput: unknown preset '%s'\n", argv[2]);
    return 2;
  }
  const Rules& rules = preset->rules;
  SplitMix64 rng(42);
  std::vector<TestCase> pool;
  for (int i = 0; i < 4096; ++i) pool.push_back(RandomTestCase(rng, GenOptions{}));
  Executor ex;
  RandomScheduler sched(7);
  auto now = [] { return std::chrono::steady_clock::now(); };

  // Warm up.
  for (int i = 0; i < 10000; ++i) (void)ex.Run(pool[i % pool.size()], rules, sched);

  uint64_t steps = 0, execs = 0;
  auto t0 = now();
  double el = 0;
  while (el < secs) {
    for (int i = 0; i < 1024; ++i) {
      steps += ex.Run(pool[execs % pool.size()], rules, sched).steps;
      ++execs;
    }
    el = std::chrono::duration<double>(now() - t0).count();
  }
  std::printf("runtime: %.2f M steps/s, %.0f k exec/s, %.1f steps/exec, %.1f ns/step (%llu steps in %.2f s, rules %s)\n",
              steps / el / 1e6, execs / el / 1e3, double(steps) / execs, el * 1e9 / steps,
              static_cast<unsigned long long>(steps), el, preset->name);

  // Explore-style loop: a fresh random program for every execution.
  steps = execs = 0;
  t0 = now();
  el = 0;
  while (el < secs) {
    for (int i = 0; i < 1024; ++i) {
      steps += ex.Run(RandomTestCase(rng, GenOptions{}), rules, sched).steps;
      ++execs;
    }
    el = std::chrono::duration<double>(now() - t0).count();
  }
  std::printf("explore loop (with program generation): %.2f M steps/s, %.0f k exec/s\n", steps / el / 1e6,
              execs / el / 1e3);
  return 0;
}
