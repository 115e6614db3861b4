// repro/repro_format.h: the text repro format (design.md, "The text repro
// format"): what a developer reads, edits and writes by hand.
//
//   # S1: lost D bit, spec §7
//   sptefuzz-repro 1
//   rules v5-patch
//   config vcpus=1 gfns=1 ad=on logging=on
//   spte g0 = P A HW MW
//   thread 0 kvm: wb g0
//   thread 1 vcpu0: write g0
//   schedule: 0 through Z1; 1 to end; 0 to end
//   expect violation lost-page-dirty
//
//   absl::StatusOr<Repro> r = ParseRepro(text);   // errors carry line:column
//   std::string canonical = PrintRepro(*r);       // Parse(Print(x)) == x
#ifndef SPTEFUZZ_REPRO_REPRO_FORMAT_H_
#define SPTEFUZZ_REPRO_REPRO_FORMAT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/invariants.h"
#include "core/rules.h"
#include "core/testcase.h"

namespace sptefuzz {

inline constexpr int kReproVersion = 1;

struct Expect {
  bool violation = false;      // false: "expect ok"
  Invariant invariant = Invariant::kCount;
  bool operator==(const Expect&) const = default;
};

struct Repro {
  std::vector<std::string> comments;  // leading "# ..." lines, without "# "
  std::string rules = "linux-3.6";    // preset name
  std::vector<std::pair<std::string, std::string>> knobs;  // overrides, in order
  TestCase tc;
  std::optional<Expect> expect;
  bool operator==(const Repro&) const = default;
};

// The rules the repro names: its preset with the knob overrides applied.
absl::StatusOr<Rules> ResolveRules(const Repro& r);

// Canonical text of a repro.
std::string PrintRepro(const Repro& r);
// The schedule line's segments: "0 through Z1; 1 to end".
std::string PrintSchedule(const std::vector<Segment>& s);

// Parses the text format. Errors name the line and column, what was found
// and what was expected.
absl::StatusOr<Repro> ParseRepro(absl::string_view text);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_REPRO_REPRO_FORMAT_H_
