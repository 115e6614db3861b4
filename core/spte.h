// core/spte.h: the abstract spte word and the kernel's spte predicates.
//
// An Spte is a 64-bit value holding the abstract fields of spec §1.1 at
// positions of our own choosing (the concrete x86 positions of §1.2 do not
// matter to the protocol). Predicates are named after the kernel helpers in
// arch/x86/kvm/mmu/spte.h (is_shadow_present_pte, is_mmu_writable_spte, ...).
//
//   Spte s = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
//   if (IsMmuWritableSpte(s) && !IsWritablePte(s)) { ... }
//   std::string bits = SpteToString(s);   // "P A HW MW"
#ifndef SPTEFUZZ_CORE_SPTE_H_
#define SPTEFUZZ_CORE_SPTE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sptefuzz {

using Spte = uint64_t;

// Abstract spte fields (spec §1.1).
inline constexpr Spte kSptePresent = 1ull << 0;  // shadow-present (KVM's notion)
inline constexpr Spte kSpteW = 1ull << 1;        // hardware writable
inline constexpr Spte kSpteA = 1ull << 2;        // accessed
inline constexpr Spte kSpteD = 1ull << 3;        // dirty
inline constexpr Spte kSpteR = 1ull << 4;        // readable (EPT R / legacy P)
inline constexpr Spte kSpteX = 1ull << 5;        // executable
inline constexpr Spte kSpteLarge = 1ull << 6;    // PS: leaf above 4K
inline constexpr Spte kSpteHostW = 1ull << 7;    // SPTE_HOST_WRITEABLE
inline constexpr Spte kSpteMmuW = 1ull << 8;     // SPTE_MMU_WRITEABLE
inline constexpr Spte kSpteAccTrk = 1ull << 9;   // access-tracked (R/W/X cleared)
inline constexpr Spte kSpteSavedR = 1ull << 10;  // R saved by mark_spte_for_access_track
inline constexpr Spte kSpteSavedX = 1ull << 11;  // X saved by mark_spte_for_access_track
inline constexpr Spte kSpteFrozen = 1ull << 12;  // FROZEN_SPTE / REMOVED_SPTE
// The target frame lives in bits 16..23 (the model never needs more pages).
inline constexpr int kSptePfnShift = 16;
inline constexpr Spte kSptePfnMask = 0xffull << kSptePfnShift;

inline constexpr Spte kSpteAllFlags = (1ull << 13) - 1;

inline constexpr int SptePfn(Spte s) { return static_cast<int>((s & kSptePfnMask) >> kSptePfnShift); }
inline constexpr Spte SpteWithPfn(Spte s, int pfn) {
  return (s & ~kSptePfnMask) | (static_cast<Spte>(pfn) << kSptePfnShift);
}

// is_shadow_present_pte(): KVM considers the entry present (FROZEN is not).
inline constexpr bool IsShadowPresentPte(Spte s) {
  return (s & kSptePresent) != 0 && (s & kSpteFrozen) == 0;
}
// is_writable_pte()
inline constexpr bool IsWritablePte(Spte s) { return (s & kSpteW) != 0; }
// is_mmu_writable_spte() (V518+: MMU_W alone; the 3.6 gate is
// spte_is_locklessly_modifiable(), see Rules::fast_pf_gate).
inline constexpr bool IsMmuWritableSpte(Spte s) { return (s & kSpteMmuW) != 0; }
inline constexpr bool IsHostWritable(Spte s) { return (s & kSpteHostW) != 0; }
inline constexpr bool IsLargePte(Spte s) { return (s & kSpteLarge) != 0; }
inline constexpr bool IsAccessTrackSpte(Spte s) { return (s & kSpteAccTrk) != 0; }
inline constexpr bool IsFrozenSpte(Spte s) { return (s & kSpteFrozen) != 0; }

// is_accessed_spte() / is_dirty_spte() (spec §1.3): with A/D disabled the
// kernel defines accessed as "not access-tracked" and dirty as W.
inline constexpr bool IsAccessedSpte(Spte s, bool ad_enabled) {
  return ad_enabled ? (s & kSpteA) != 0 : !IsAccessTrackSpte(s);
}
inline constexpr bool IsDirtySpte(Spte s, bool ad_enabled) {
  return ad_enabled ? (s & kSpteD) != 0 : (s & kSpteW) != 0;
}

// What the CPU's page walk sees: present to hardware (not frozen, not
// access-tracked).
inline constexpr bool IsHardwarePresent(Spte s) {
  return IsShadowPresentPte(s) && !IsAccessTrackSpte(s);
}

// "P A HW MW" style rendering; "0" for the all-zero value. Flags are printed
// in a fixed order; the pfn is printed as "pfn=N" only when non-zero.
std::string SpteToString(Spte s);

// Parses the SpteToString format (tokens separated by spaces; "0" or "-" for
// an empty spte).
absl::StatusOr<Spte> ParseSpte(absl::string_view text);

// One-letter-ish names of each flag, in printing order, for the trace grid.
struct SpteFlagName {
  Spte bit;
  const char* name;
};
const SpteFlagName* SpteFlagNames(int* count);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_SPTE_H_
