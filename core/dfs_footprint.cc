#include "core/dfs_footprint.h"

namespace sptefuzz {

namespace {

uint64_t AllTlbs() {
  uint64_t m = 0;
  for (int v = 0; v < kMaxVcpus; ++v) {
    for (int g = 0; g < kMaxGfns; ++g) m |= FpTlb(v, g);
  }
  return m;
}

uint64_t AllWalks() {
  uint64_t m = 0;
  for (int v = 0; v < kMaxVcpus; ++v) m |= FpWalk(v);
  return m;
}

}  // namespace

Footprint StepFootprint(const TestCase& tc, int thread, Label label, int op_index) {
  const Footprint all{kFpAll, kFpAll, kFpAll};
  const ThreadSpec& spec = tc.threads[thread];
  if (op_index < 0 || op_index >= static_cast<int>(spec.ops.size())) return all;
  const Op& op = spec.ops[op_index];
  // The dirty-log ioctls walk every gfn and check I4 against every TLB in
  // the local code after their last step: everything they do conflicts.
  if (op.kind == OpKind::kEnableLog || op.kind == OpKind::kHarvest) return all;
  // With a large leaf (config large=on) a step on gfn g may touch slot 0,
  // and the oracle state, TLB entries and page flags of every gfn the leaf
  // maps: no reduction (sound, at the cost of a bigger search).
  if (tc.config.large) return all;
  // With indirect=on a slot's gfn changes (remap) and the harvest maps gfns
  // to slots through it: no reduction either.
  if (tc.config.indirect) return all;
  // zap-range touches every gfn from op.gfn on with the same labels (T0, TW,
  // Z1, Z2) that other ops use for op.gfn alone, and its yields (ZY1/ZY2)
  // drop and take mmu_lock with I10's check of every TLB: all conflicts.
  if (op.kind == OpKind::kZapRange) return all;
  // zap-atomic takes slots_lock, locks and flushes (I10 on unlock): no
  // reduction (sound).
  if (op.kind == OpKind::kZapAtomic) return all;
  const int g = op.gfn;
  const int v = spec.kind == ThreadKind::kVcpu ? spec.vcpu : 0;
  // Every unlock checks I10 against all TLBs.
  const uint64_t tlbs = AllTlbs();
  switch (label) {
    case Label::kH1:
    case Label::kH2:
    case Label::kH4: {
      // TLB lookup, maybe a walk load, a TLB fill or drop; records the
      // guest write or walk (I2, I5) and checks the windows (I3, I7). The
      // adversarial D-assist ORs into the spte.
      Footprint f{FpSpte(g) | FpWindow(g), FpTlb(v, g), FpHist(g)};
      if (tc.config.dassist == DAssist::kAdversarial) f.write |= FpSpte(g) | FpPml(v);
      return f;
    }
    case Label::kH2Cas:
    case Label::kH4Cas:  // the cmpxchg that sets D also appends to the PML buffer
      return {FpWindow(g), FpSpte(g) | FpTlb(v, g) | FpPml(v), FpHist(g)};
    case Label::kPX:  // drains this vCPU's PML buffer into the bitmap (mark_page_dirty)
      return {kFpSlots, FpPml(v), kFpBitmap};
    case Label::kF2:  // lockless walk begins; ends here if nothing to fix
      return {FpSpte(g), FpWalk(v), 0};
    case Label::kF3:  // cmpxchg; reads wp_done_ and shadowed_ for I6; may end the walk
      return {FpWindow(g) | kFpGuarded, FpSpte(g) | FpWalk(v), 0};
    case Label::kF4:  // mark_page_dirty; ends the walk
      return {kFpSlots, FpWalk(v), kFpBitmap};
    case Label::kS7:
    case Label::kE1:
      return {kFpSlots, 0, kFpBitmap};
    case Label::kS1:  // notifier sequence, read locklessly; then the pfn lookup reads the host pte
      return {kFpNotifier | FpHostPte(g), 0, 0};
    case Label::kS3:  // lock, then mmu_notifier_retry
      return {kFpNotifier, kFpMmuLock, 0};
    case Label::kS6:  // *sptep, then the shadowed-gfn table
      return {FpSpte(g) | kFpGuarded, 0, 0};
    case Label::kU1:
    case Label::kD1:
    case Label::kZ1:
    case Label::kS9:
    case Label::kA2:
      return {FpSpte(g), 0, 0};
    case Label::kW1:  // may end the write protection of g: wp_done_
      return {FpSpte(g), FpWindow(g), 0};
    case Label::kU2:
    case Label::kZ2:
      // Store or xchg (the per-step oracles read the windows), the A/D
      // transfer to the page, rmap_add/remove, the I10 bookkeeping, and
      // after a page-table write protection, wp_done_.
      return {0, FpSpte(g) | FpWindow(g) | kFpGuarded | kFpMmuLock, FpPageFlags(g)};
    case Label::kA3:
      return {FpWindow(g), FpSpte(g) | kFpMmuLock, 0};
    case Label::kFL:  // IPI waits for a vCPU's lockless walk, flushes its TLB (which vCPU: not in the label)
      return {AllWalks(), tlbs, 0};
    case Label::kS4:
    case Label::kS11:
    case Label::kN4:
    case Label::kA4:
      return {tlbs, kFpMmuLock, 0};
    case Label::kN1:  // lock, count++, then the rmap
      return {kFpGuarded, kFpMmuLock | kFpNotifier, 0};
    case Label::kN2:  // unlock; I7 reads the spte and every TLB of g; opens the window; the host pte switch
      return {tlbs | FpSpte(g), kFpMmuLock | FpWindow(g) | FpHostPte(g), 0};
    case Label::kWB:  // test-and-clear page dirty; I2 reads the write history and the window
      return {FpWindow(g), FpPageFlags(g) | FpHist(g), 0};
    case Label::kN3:
      return {0, kFpMmuLock | kFpNotifier | FpWindow(g), 0};
    case Label::kA1:  // (lock,) then the rmap and the walk history (reset)
      return {kFpGuarded, kFpMmuLock | FpHist(g), 0};
    case Label::kP1:  // lock, shadowed = 1, the rmap; with no spte, wp_done_
      return {kFpGuarded, kFpMmuLock | kFpGuarded | FpWindow(g), 0};
    case Label::kP4:
      return {tlbs, kFpMmuLock | FpWindow(g), 0};
    default:
      return all;
  }
}

}  // namespace sptefuzz
