// core/invariants.h: the oracles of spec §4 and their report names.
//
//   Invariant inv = Invariant::kLostPageDirty;
//   InvariantName(inv);   // "lost-page-dirty"
//   InvariantSpecId(inv); // "I2"
#ifndef SPTEFUZZ_CORE_INVARIANTS_H_
#define SPTEFUZZ_CORE_INVARIANTS_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace sptefuzz {

enum class Invariant : uint8_t {
  kLostDirtyLog,            // I1
  kLostPageDirty,           // I2
  kStaleTlbAfterPtProtect,  // I3
  kStaleTlbAfterDirtyLog,   // I4
  kLostAccessed,            // I5 (opt-in)
  kIllegalFastPathWrite,    // I6
  kZapIncomplete,           // I7
  kSpteBits,                // I8
  kResurrectedBits,         // I9
  kFlushPlacement,          // I10
  kLockDiscipline,          // state the kernel guards with mmu_lock touched without it
  kDeadlock,                // every thread blocked: a bug of the modeled rules or of the model
  kCount
};
inline constexpr int kInvariantCount = static_cast<int>(Invariant::kCount);

const char* InvariantName(Invariant inv);
const char* InvariantSpecId(Invariant inv);
std::optional<Invariant> ParseInvariant(absl::string_view name);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_INVARIANTS_H_
