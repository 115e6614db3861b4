#include "core/invariants.h"

namespace sptefuzz {
namespace {
struct Info {
  const char* name;
  const char* spec;
};
constexpr Info kInfo[] = {
    {"lost-dirty-log", "I1"},
    {"lost-page-dirty", "I2"},
    {"stale-tlb-after-pt-protect", "I3"},
    {"stale-tlb-after-dirty-log", "I4"},
    {"lost-accessed", "I5"},
    {"illegal-fast-path-write", "I6"},
    {"zap-incomplete", "I7"},
    {"spte-bits", "I8"},
    {"resurrected-bits", "I9"},
    {"flush-placement", "I10"},
    {"lock-discipline", "-"},
    {"deadlock", "-"},
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == kInvariantCount);
}  // namespace

const char* InvariantName(Invariant inv) { return kInfo[static_cast<int>(inv)].name; }
const char* InvariantSpecId(Invariant inv) { return kInfo[static_cast<int>(inv)].spec; }
std::optional<Invariant> ParseInvariant(absl::string_view name) {
  for (int i = 0; i < kInvariantCount; ++i) {
    const bool has_spec_id = kInfo[i].spec[0] == 'I';
    if (name == kInfo[i].name || (has_spec_id && name == kInfo[i].spec)) return static_cast<Invariant>(i);
  }
  return std::nullopt;
}

}  // namespace sptefuzz
