// repro/repro_test_util.h: random repros and helpers shared by the repro tests.
//
//   SplitMix64 rng(1);
//   Repro r = RandomRepro(rng, GenOptions{});   // valid, printable, normalized
//   std::vector<Segment> s = RandomSchedule(rng, r.tc.threads.size());
#ifndef SPTEFUZZ_REPRO_REPRO_TEST_UTIL_H_
#define SPTEFUZZ_REPRO_REPRO_TEST_UTIL_H_

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/program_gen.h"
#include "repro/repro_format.h"

namespace sptefuzz {

// Every knob with its accepted values, read from KnobHelp()
// ("knobs are volatile=pre-3.6|avi|... flush=...").
inline std::vector<std::pair<std::string, std::vector<std::string>>> AllKnobs() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  std::vector<std::string> words = absl::StrSplit(KnobHelp(), ' ', absl::SkipEmpty());
  for (const std::string& w : words) {
    const size_t eq = w.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(w.substr(0, eq), absl::StrSplit(w.substr(eq + 1), '|'));
  }
  return out;
}

// A schedule in normal form (the fields a segment kind ignores are at their
// defaults), as the parser produces it.
inline std::vector<Segment> RandomSchedule(SplitMix64& rng, size_t threads) {
  std::vector<Segment> s;
  const uint32_t n = rng.Below(8);
  for (uint32_t i = 0; i < n; ++i) {
    Segment seg;
    seg.thread = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(threads)));
    switch (rng.Below(3)) {
      case 0:
        seg.kind = SegmentKind::kSteps;
        seg.count = static_cast<uint16_t>(rng.Below(10) == 0 ? 1 + rng.Below(65535) : 1 + rng.Below(20));
        break;
      case 1:
        seg.kind = SegmentKind::kThrough;
        seg.label = static_cast<Label>(rng.Below(kLabelCount));
        seg.count = static_cast<uint16_t>(1 + rng.Below(3));
        break;
      default:
        seg.kind = SegmentKind::kToEnd;
        break;
    }
    s.push_back(seg);
  }
  return s;
}

inline Repro RandomRepro(SplitMix64& rng, const GenOptions& gen) {
  Repro r;
  const uint32_t nc = rng.Below(3);
  for (uint32_t i = 0; i < nc; ++i) r.comments.push_back(i == 1 ? "" : absl::StrCat("comment #", rng.Below(100), " ;:="));
  r.rules = AllPresets()[rng.Below(static_cast<uint32_t>(AllPresets().size()))].name;
  for (const auto& [knob, values] : AllKnobs()) {
    if (rng.Below(6) == 0) r.knobs.emplace_back(knob, values[rng.Below(static_cast<uint32_t>(values.size()))]);
  }
  r.tc = RandomTestCase(rng, gen);
  r.tc.schedule = RandomSchedule(rng, r.tc.threads.size());
  switch (rng.Below(3)) {
    case 0:
      break;
    case 1:
      r.expect = Expect{false, Invariant::kCount};
      break;
    default:
      r.expect = Expect{true, static_cast<Invariant>(rng.Below(kInvariantCount))};
      break;
  }
  return r;
}

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_REPRO_TEST_UTIL_H_
