// core/program_gen.h: random programs for `sptefuzz explore`.
//
// Draws a configuration (vCPUs, gfns, A/D, logging, initial sptes and TLB
// entries consistent with them), and each thread's operations, from a seed.
// The mix covers the configurations of spec §7's 3.6-era scenarios: a zap or
// writeback racing a write fault (S1), page-table write protection racing a
// fault (S2), harvests and aging racing guest writes.
//
//   SplitMix64 rng(seed);
//   TestCase tc = RandomTestCase(rng, GenOptions{});
#ifndef SPTEFUZZ_CORE_PROGRAM_GEN_H_
#define SPTEFUZZ_CORE_PROGRAM_GEN_H_

#include "core/scheduler.h"
#include "core/testcase.h"

namespace sptefuzz {

struct GenOptions {
  int max_vcpus = 2;
  int max_gfns = 2;
  int max_kernel_threads = 2;
  int max_ops = 3;
  bool allow_adversarial_dassist = false;
};

// The result always satisfies ValidateTestCase(); its schedule is empty.
TestCase RandomTestCase(SplitMix64& rng, const GenOptions& opts);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_PROGRAM_GEN_H_
