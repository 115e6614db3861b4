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
#include <vector>

#include "core/executor.h"
#include "core/rules.h"
#include "core/scheduler.h"
#include "core/testcase.h"

namespace sptefuzz {

// The last model run of a run-aware mutation or a generation, for a caller
// that would run the result next (fuzz/run_reuse.h).
struct MutationRun {
  // In: called right before that run (the libFuzzer target clears its
  // coverage counters there). May be null.
  void (*before)() = nullptr;
  // Out: the result's own schedule replays this run step for step (its
  // steps fit in kMaxSegments segments, and the configuration was not
  // changed after it), and the run ended without a violation.
  bool replays = false;
  std::vector<uint8_t> steps;  // out, when `replays`: the thread of every step
};

// Returns false when no mutation applied (tc is then unchanged).
bool MutateTestCase(TestCase* tc, uint8_t version, SplitMix64& rng);

// Run-aware schedule mutation: runs `tc` under its own schedule on `ex`,
// derives a schedule from the steps that run took (DeriveSchedule in
// fuzz/guided.h: the same steps up to a random one, or one thread choice
// changed), runs that with random switches after the derived part, and
// makes the steps of the second run tc's schedule (at most kMaxSegments
// segments). A byte mutation of the schedule only reaches the part the
// input spells out, after which the default policy runs every thread to
// its end; this one varies where the run actually went. Costs two
// executions, or one when `own_steps` gives the steps tc takes under its
// own schedule (fuzz/run_reuse.h; the result is the same). Returns false
// when nothing changed.
bool MutateScheduleByRunning(TestCase* tc, uint8_t version, const Rules& rules, Executor& ex, SplitMix64& rng,
                             const std::vector<uint8_t>* own_steps = nullptr, MutationRun* run = nullptr);

// Generation instead of mutation: a fresh random program (core/program_gen.h,
// the programs of `explore --strategy random`) with the schedule of one
// random run of it (at most kMaxSegments segments). The fuzz engines' way to
// the configurations random search draws often and byte mutations rarely
// reach (B3 needs indirect=on, logging, a harvest and a remap at once).
// Costs one execution. Returns false when the program is not encodable.
// `run` as for MutateOrGenerate.
bool GenerateTestCase(TestCase* tc, uint8_t version, const Rules& rules, Executor& ex, SplitMix64& rng,
                      MutationRun* run = nullptr);

// The engines' structured mutation (custom_mutator.cc, afl_mutator.cc):
// 12 in 30 MutateScheduleByRunning, 15 in 30 GenerateTestCase, the rest
// MutateTestCase; an input with the adversarial D-assist is not run unless
// `adversarial`. The result never asks for the adversarial D-assist then.
// `own_steps` as for MutateScheduleByRunning. With `run`, reports the last
// run of the mutation (MutationRun; `replays` is false for a mutation
// without one). Returns false when nothing changed.
bool MutateOrGenerate(TestCase* tc, uint8_t version, const Rules& rules, bool adversarial, Executor& ex,
                      SplitMix64& rng, const std::vector<uint8_t>* own_steps = nullptr, MutationRun* run = nullptr);

// Takes the configuration and threads of `a` and the schedule of `b` (threads
// of `b`'s schedule beyond `a`'s are wrapped), the crossover that keeps both
// halves meaningful.
TestCase CrossOverTestCases(const TestCase& a, const TestCase& b, uint8_t version);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_MUTATOR_H_
