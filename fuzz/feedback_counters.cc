// fuzz/feedback_counters.cc: the interleaving-feedback counters where
// libFuzzer reads them. Linked only into sptefuzz_fuzzer_fb; its strong
// definitions replace the weak ones of fuzz/interleaving_feedback.cc.
#include <cstdint>

#include "fuzz/interleaving_feedback.h"

namespace sptefuzz {
namespace {

// libFuzzer finds this section by its __start_/__stop_ symbols and uses
// every byte as a counter (compiler-rt FuzzerExtraCounters.cpp).
__attribute__((section("__libfuzzer_extra_counters"), used)) uint8_t g_counters[kFeedbackCounters];

}  // namespace

uint8_t* FeedbackCounters() { return g_counters; }
bool FeedbackCountersSeenByEngine() { return true; }

}  // namespace sptefuzz
