// core/labels.h: the step labels of spec §3, one per scheduling point.
//
// Every shared-memory event the model performs carries one Label. Traces
// print it, hand-written schedules name it ("0 through Z1"), and the label
// table says which kernel function the step belongs to.
//
//   Label l = Label::kZ1;
//   LabelName(l);      // "Z1"
//   LabelFunction(l);  // "mmu_spte_clear_track_bits"
//   ParseLabel("F3");  // Label::kF3
#ifndef SPTEFUZZ_CORE_LABELS_H_
#define SPTEFUZZ_CORE_LABELS_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace sptefuzz {

// X(enumerator, name, kernel function)
#define SPTEFUZZ_LABELS(X)                                                          \
  X(kH1, "H1", "guest access: TLB lookup (pending, before the outcome is known)") \
  X(kH2, "H2", "guest access: TLB hit")                                          \
  X(kH2Cas, "H2.cas", "guest access: D-assist cmpxchg")                           \
  X(kH4, "H4", "guest access: page walk load")                                   \
  X(kH4Cas, "H4.cas", "guest access: page walk A/D cmpxchg + TLB fill")           \
  X(kF2, "F2", "fast_page_fault")                                                \
  X(kF3, "F3", "fast_pf_fix_direct_spte")                                        \
  X(kF4, "F4", "mark_page_dirty (fast_pf_fix_direct_spte)")                      \
  X(kS1, "S1", "tdp_page_fault: mmu_notifier_seq snapshot")                      \
  X(kS3, "S3", "tdp_page_fault: spin_lock(mmu_lock)")                            \
  X(kS4, "S4", "tdp_page_fault: mmu_notifier_retry -> spin_unlock")              \
  X(kS6, "S6", "mmu_set_spte: read *sptep")                                      \
  X(kS7, "S7", "set_spte: mark_page_dirty")                                      \
  X(kS8, "S8", "set_spte: install non-present spte (mmu_spte_set)")              \
  X(kS9, "S9", "mmu_set_spte: re-read *sptep for the flush check (pre-3.6)")     \
  X(kS11, "S11", "tdp_page_fault: spin_unlock(mmu_lock)")                        \
  X(kE1, "E1", "emulated write: kvm_write_guest -> mark_page_dirty")            \
  X(kU1, "U1", "mmu_spte_update: read old spte")                                 \
  X(kU2, "U2", "mmu_spte_update: store or xchg new spte")                        \
  X(kZ1, "Z1", "mmu_spte_clear_track_bits: read old spte")                       \
  X(kZ2, "Z2", "mmu_spte_clear_track_bits: store or xchg 0")                     \
  X(kW1, "W1", "spte_write_protect: read spte")                                  \
  X(kFL, "FL", "kvm_flush_remote_tlbs: flush one vCPU (IPI + wait)")             \
  X(kN1, "N1", "kvm_mmu_notifier_invalidate_range_start: lock, count++")         \
  X(kN2, "N2", "kvm_mmu_notifier_invalidate_range_start: unlock, return")        \
  X(kN3, "N3", "kvm_mmu_notifier_invalidate_range_end: lock, seq++, count--")    \
  X(kN4, "N4", "kvm_mmu_notifier_invalidate_range_end: unlock")                  \
  X(kWB, "WB", "host writeback: test-and-clear page dirty")                      \
  X(kA1, "A1", "kvm_mmu_notifier_clear_flush_young: spin_lock(mmu_lock)")       \
  X(kA2, "A2", "kvm_age_rmapp: read spte")                                       \
  X(kA3, "A3", "kvm_age_rmapp: clear_bit(accessed)")                             \
  X(kA4, "A4", "kvm_mmu_notifier_clear_flush_young: spin_unlock")                \
  X(kP1, "P1", "account_shadowed + rmap_write_protect: spin_lock, shadowed=1")   \
  X(kP4, "P4", "rmap_write_protect caller: spin_unlock")                         \
  X(kL1, "L1", "__kvm_set_memory_region: install slot with dirty bitmap")        \
  X(kL2, "L2", "kvm_mmu_slot_remove_write_access: spin_lock")                    \
  X(kL3, "L3", "kvm_mmu_slot_remove_write_access: spin_unlock, ioctl returns")   \
  X(kG1, "G1", "kvm_vm_ioctl_get_dirty_log: spin_lock(mmu_lock)")                \
  X(kG2, "G2", "kvm_vm_ioctl_get_dirty_log: xchg bitmap word")                   \
  X(kG4, "G4", "kvm_vm_ioctl_get_dirty_log: spin_unlock, ioctl returns")             \
  X(kR3, "R3", "kvm_tdp_mmu_page_fault: read_lock(mmu_lock)")                          \
  X(kR4, "R4", "kvm_tdp_mmu_page_fault: is_page_fault_stale -> read_unlock, retry")    \
  X(kT0, "T0", "tdp_iter: READ_ONCE of the leaf spte (the iterator snapshot)")         \
  X(kT1, "T1", "tdp_mmu_set_spte_atomic: cmpxchg64")                                   \
  X(kT2, "T2", "handle_changed_spte_dirty_log: mark_page_dirty_in_slot")               \
  X(kTW, "TW", "__tdp_mmu_set_spte: write-lock store, xchg or atomic AND")            \
  X(kR11, "R11", "kvm_tdp_mmu_page_fault: read_unlock(mmu_lock)")                      \
  X(kA5, "A5", "mmu_spte_age / age_gfn_range: kvm_set_pfn_dirty before access tracking") \
  X(kL5, "L5", "kvm_mmu_slot_remove_write_access: unlock (the flush follows)")        \
  X(kL6, "L6", "kvm_vm_ioctl_set_memory_region: ioctl returns")                      \
  X(kF6, "F6", "fast_page_fault: retry, re-walk (READ_ONCE of the leaf)")          \
  X(kC0, "C0", "kvm_mmu_notifier_change_pte: lock, mmu_notifier_seq++")              \
  X(kC1, "C1", "kvm_set_pte_rmapp / set_spte_gfn: install the read-only spte of the new page") \
  X(kC2, "C2", "kvm_mmu_notifier_change_pte: unlock")                                \
  X(kY1, "Y1", "mmu_sync_roots -> kvm_sync_page: spin_lock(mmu_lock)")                 \
  X(kY2, "Y2", "FNAME(sync_page): kvm->tlbs_dirty++ instead of a remote flush (a4ee1ca4a36e)") \
  X(kY3, "Y3", "FNAME(sync_page): read sp->spt[i] (present? host-writable?) for set_spte") \
  X(kY4, "Y4", "kvm_sync_page: kvm_mmu_flush_tlb(vcpu) (local), spin_unlock(mmu_lock)") \
  X(kPX, "PX", "vmx_handle_exit -> vmx_flush_pml_buffer: drain this vCPU's PML buffer into the bitmap") \
  X(kPK, "PK", "kvm_arch_sync_dirty_log: kick every vCPU; each exit drains its PML buffer (vmx_flush_pml_buffer)") \
  X(kD1, "D1", "spte_clear_dirty (__rmap_clear_dirty): read spte")                   \
  X(kZR1, "ZR1", "kvm_zap_gfn_range: write_lock(mmu_lock)")                              \
  X(kZR2, "ZR2", "kvm_zap_gfn_range: write_unlock(mmu_lock)")                            \
  X(kZY1, "ZY1", "tdp_mmu_iter_cond_resched / slot_handle_level_range: yield, mmu_lock dropped") \
  X(kZY2, "ZY2", "tdp_mmu_iter_cond_resched / slot_handle_level_range: yield, mmu_lock taken again") \
  X(kZA0, "ZA0", "kvm_mmu_slot_apply_flags: slots_lock held; logging off -> kvm_mmu_zap_collapsible_sptes") \
  X(kZAR, "ZAR", "kvm_mmu_zap_collapsible_sptes: read_lock(mmu_lock) (TDP MMU) or write_lock (rmap)") \
  X(kZA1, "ZA1", "tdp_mmu_zap_spte_atomic: cmpxchg64(snapshot -> FROZEN_SPTE; 6.13+: -> non-present) + handle_changed_spte (Z1, Z2)") \
  X(kZA4, "ZA4", "tdp_mmu_zap_spte_atomic: store the non-present value over FROZEN_SPTE (Z4)") \
  X(kZAU, "ZAU", "kvm_mmu_zap_collapsible_sptes: unlock mmu_lock; kvm_set_memory_region drops slots_lock") \
  X(kR0, "R0", "guest PTE store in a guest page table that KVM does not shadow (direct map): no exit") \
  X(kR1, "R1", "kvm_mmu_pte_write: spin_lock(mmu_lock) (emulated store to a shadowed guest page table)") \
  X(kR2, "R2", "kvm_mmu_pte_write: local TLB flush (kvm_mmu_flush_tlb), spin_unlock(mmu_lock)")

enum class Label : uint8_t {
#define SPTEFUZZ_LABEL_ENUM(e, n, f) e,
  SPTEFUZZ_LABELS(SPTEFUZZ_LABEL_ENUM)
#undef SPTEFUZZ_LABEL_ENUM
      kCount
};

inline constexpr int kLabelCount = static_cast<int>(Label::kCount);

const char* LabelName(Label l);
const char* LabelFunction(Label l);
std::optional<Label> ParseLabel(absl::string_view name);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_LABELS_H_
