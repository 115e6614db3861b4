// fuzz/interleaving_feedback.h: coverage of interleavings, not only of code,
// for libFuzzer (issue 8).
//
// After each execution the fuzz target hands the Result to
// RecordInterleavingFeedback(), which bumps libFuzzer's extra counters (a
// byte array in the __libfuzzer_extra_counters section, which libFuzzer
// treats like its own edge counters) for three kinds of features:
//   * ordered pairs of conflicting events on the same spte from different
//     threads (previous label, this label, which of them wrote);
//   * spte bit transitions per step label (label, bits before, bits after);
//   * the lock and TLB state at each event (label, who holds mmu_lock, the
//     stepping vCPU's and the other vCPUs' TLB entry for the gfn).
// An input that makes a new race order or a new state combination happen is
// kept in the corpus even when it covers no new line of the model.
//
//   const Result& r = executor.Run(tc, rules, sched);
//   MaybeRecordInterleavingFeedback(tc, r);   // no-op unless SPTEFUZZ_FEEDBACK=on
#ifndef SPTEFUZZ_FUZZ_INTERLEAVING_FEEDBACK_H_
#define SPTEFUZZ_FUZZ_INTERLEAVING_FEEDBACK_H_

#include <cstddef>
#include <cstdint>

#include "core/testcase.h"
#include "core/trace.h"

namespace sptefuzz {

inline constexpr size_t kFeedbackCounters = 3 * 4096;

// Bumps the counters for `r` (the counters themselves are global: libFuzzer
// reads and clears them around each input).
void RecordInterleavingFeedback(const TestCase& tc, const Result& r);
// The same into a caller's array of kFeedbackCounters bytes (the guided
// search of `sptefuzz explore --strategy guided`, fuzz/guided.h).
void RecordInterleavingFeedbackInto(uint8_t* counters, const TestCase& tc, const Result& r);

// SPTEFUZZ_FEEDBACK=on|off (default off: see bench/results/time-to-bug.md).
// Anything else, and "on" in a binary without engine-visible counters, is a
// fatal configuration error reported once (exit status 2).
bool InterleavingFeedbackEnabled();

inline void MaybeRecordInterleavingFeedback(const TestCase& tc, const Result& r) {
  if (InterleavingFeedbackEnabled()) RecordInterleavingFeedback(tc, r);
}

// The counter array. In sptefuzz_fuzzer_fb (fuzz/feedback_counters.cc) it
// lies in the __libfuzzer_extra_counters section and libFuzzer reads it;
// everywhere else it is an ordinary array: libFuzzer scans and clears every
// extra counter after every input, and 12 KiB of unused counters cost the
// default target about a sixth of its executions (bench/results/fuzz.md).
uint8_t* FeedbackCounters();
// True in sptefuzz_fuzzer_fb: SPTEFUZZ_FEEDBACK=on is refused elsewhere.
bool FeedbackCountersSeenByEngine();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_INTERLEAVING_FEEDBACK_H_
