// fuzz/mutator.h: structure-aware mutation of a TestCase (issue 3, item 4).
//
// One call applies one small change that a byte mutation rarely makes
// without wrecking the rest of the input: insert, delete or replace one
// operation; add, remove or move one preemption point (schedule segment);
// add or remove a thread; change the configuration. The result satisfies
// ValidateTestCase() and IsEncodableAs(version).
//
//   SplitMix64 rng(seed);
//   TestCase tc = DecodeTestCase(data, size);
//   if (MutateTestCase(&tc, kCodecVersion, rng)) bytes = EncodeTestCase(tc);
#ifndef SPTEFUZZ_FUZZ_MUTATOR_H_
#define SPTEFUZZ_FUZZ_MUTATOR_H_

#include <cstdint>

#include "core/scheduler.h"
#include "core/testcase.h"

namespace sptefuzz {

// Returns false when no mutation applied (tc is then unchanged).
bool MutateTestCase(TestCase* tc, uint8_t version, SplitMix64& rng);

// Takes the configuration and threads of `a` and the schedule of `b` (threads
// of `b`'s schedule beyond `a`'s are wrapped), the crossover that keeps both
// halves meaningful.
TestCase CrossOverTestCases(const TestCase& a, const TestCase& b, uint8_t version);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_MUTATOR_H_
