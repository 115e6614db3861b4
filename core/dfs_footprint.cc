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

uint64_t AllOf(uint64_t (*object)(int), int n) {
  uint64_t m = 0;
  for (int i = 0; i < n; ++i) m |= object(i);
  return m;
}

}  // namespace

// Each case covers the step's event and the local code after it, up to the
// thread's next scheduling point, in every context the label occurs in
// (core/actors*.cc); where that code depends on the operation, so does the
// footprint. The test FootprintTest.SwappingIndependentNeighboursKeepsTheOutcome
// checks the promise on random runs of every preset.
Footprint StepFootprint(const TestCase& tc, int thread, Label label, int op_index, int arg) {
  const Footprint all{kFpAll, kFpAll, kFpAll};
  const ThreadSpec& spec = tc.threads[thread];
  if (op_index < 0 || op_index >= static_cast<int>(spec.ops.size())) return all;
  const Op& op = spec.ops[op_index];
  // Enabling dirty logging walks every gfn and checks I4 against every TLB
  // when it returns: after its first step (L1) everything conflicts.
  if (op.kind == OpKind::kEnableLog && label != Label::kL1) return all;
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
  const bool harvest = op.kind == OpKind::kHarvest;
  // The harvest's per-gfn steps of the rmap MMU (W1, U1, U2, D1, Z1, Z2)
  // work on the gfns its bitmap word reported, not on op.gfn: only the
  // steps below that know it are reduced.
  if (harvest && label != Label::kG1 && label != Label::kPK && label != Label::kG2 && label != Label::kT0 &&
      label != Label::kTW && label != Label::kFL && label != Label::kG4) {
    return all;
  }
  // The harvest processes whichever gfns its bitmap word reported.
  const int g = op.gfn;
  const uint64_t sptes = harvest ? AllOf(FpSpte, kMaxGfns) : FpSpte(g);
  const uint64_t windows = harvest ? AllOf(FpWindow, kMaxGfns) : FpWindow(g);
  const uint64_t page_flags = harvest ? AllOf(FpPageFlags, kMaxGfns) : FpPageFlags(g);
  const int v = spec.kind == ThreadKind::kVcpu ? spec.vcpu : 0;
  // Every unlock checks I10 against all TLBs.
  const uint64_t tlbs = AllTlbs();
  // What the program can do at all. Host ptes start writable (Model::Reset)
  // and only change-pte makes one read-only (a KSM page), so without it no
  // fault breaks COW (Model::FaultinPfn) and no invalidation switches a
  // host pte. kvm->tlbs_dirty starts at 0 and only sync-drop raises it (Y2).
  bool ksm = false, sync_drop = false;
  for (const ThreadSpec& th : tc.threads) {
    for (const Op& o : th.ops) {
      ksm |= o.kind == OpKind::kChangePte;
      sync_drop |= o.kind == OpKind::kSyncDrop;
    }
  }
  const uint64_t tlbs_dirty = sync_drop ? kFpTlbsDirty : 0;
  const uint64_t host_pte = ksm ? FpHostPte(g) : 0;
  // An invalidation (op zap or wb, or the COW break a vCPU's fault runs)
  // reads kvm->tlbs_dirty after its zap, before it decides to flush.
  const bool may_invalidate =
      op.kind == OpKind::kZap || op.kind == OpKind::kWriteback || (spec.kind == ThreadKind::kVcpu && ksm);
  const uint64_t inv_tlbs_dirty = may_invalidate ? tlbs_dirty : 0;
  // The dirty-log ioctl's bookkeeping (which gfns it processed, and when:
  // I4) is kept under slots_lock.
  const uint64_t dlog = harvest ? kFpSlotsLock : 0;
  switch (label) {
    case Label::kH1:
    case Label::kH2:
    case Label::kH4: {
      // TLB lookup, maybe a walk load, a TLB fill or drop; records the
      // guest write or walk (I2, I5) and checks the windows (I3, I7). On a
      // fault, or when the access completes and the next op is a fault,
      // the VM exit checks this vCPU's PML buffer. The adversarial
      // D-assist ORs into the spte.
      Footprint f{FpSpte(g) | FpWindow(g) | FpPml(v), FpTlb(v, g), FpHist(g)};
      if (tc.config.dassist == DAssist::kAdversarial) f.write |= FpSpte(g) | FpPml(v);
      return f;
    }
    case Label::kH2Cas:
    case Label::kH4Cas:  // the cmpxchg that sets D also appends to the PML buffer
      return {FpWindow(g), FpSpte(g) | FpTlb(v, g) | FpPml(v), FpHist(g)};
    case Label::kPX:  // drains this vCPU's PML buffer into the bitmap (mark_page_dirty)
      return {kFpLogging, FpPml(v), kFpBitmap};
    case Label::kF2:  // lockless walk begins (reads the slot's logging flag); ends here if nothing to fix
    case Label::kF6:  // the modern fast path's re-walk after a lost cmpxchg
      return {FpSpte(g) | kFpLogging, FpWalk(v), 0};
    case Label::kF3:  // cmpxchg; reads wp_done_ and shadowed_ for I6; may end the walk
      return {FpWindow(g) | kFpGuarded, FpSpte(g) | FpWalk(v), 0};
    case Label::kF4:  // mark_page_dirty; ends the walk
      return {kFpLogging, FpWalk(v), kFpBitmap};
    case Label::kS7:
    case Label::kE1:
    case Label::kT2:  // handle_changed_spte_dirty_log: mark_page_dirty_in_slot
      return {kFpLogging, 0, kFpBitmap};
    case Label::kS1:  // notifier sequence, read locklessly; then the pfn lookup reads the host pte
      return {kFpNotifier | host_pte, 0, 0};
    case Label::kS3:  // lock, then mmu_notifier_retry
      return {kFpNotifier, kFpMmuLock, 0};
    case Label::kR3:
      // read_lock: readers' bits of the rwlock word commute with each
      // other (an add); a writer's lock and unlock conflict with them.
      // Then is_page_fault_stale() reads the notifier state.
      return {kFpNotifier, 0, kFpMmuLock};
    case Label::kR4:   // read_unlock and retry
    case Label::kR11:  // read_unlock; an emulated write's E1 or the op's end follows
      return {0, 0, kFpMmuLock};
    case Label::kS6:  // *sptep, then the shadowed-gfn table
      return {FpSpte(g) | kFpGuarded, 0, 0};
    case Label::kT0: {
      // READ_ONCE of a leaf. After it: the TDP fault reads the shadowed-gfn
      // table, an invalidation reads tlbs_dirty, page-table write
      // protection that skips the spte sets wp_done_, the harvest notes the
      // gfn as processed.
      Footprint f{sptes | inv_tlbs_dirty | (spec.kind == ThreadKind::kVcpu ? kFpGuarded : 0), dlog, 0};
      if (op.kind == OpKind::kWpPt) f.write |= FpWindow(g);
      return f;
    }
    case Label::kT1:
      // tdp_mmu_set_spte_atomic (fault) or the lockless aging's cmpxchg:
      // the per-step oracles read the windows; handle_changed_spte moves
      // A/D to the page (commutative sets).
      return {FpWindow(g), FpSpte(g), FpPageFlags(g)};
    case Label::kTW: {
      // The write-lock setter: store, xchg or AND, the A/D transfer, the
      // holder's I10 bookkeeping; after it as after T0.
      Footprint f{windows | inv_tlbs_dirty, sptes | kFpMmuLock | dlog, page_flags};
      if (op.kind == OpKind::kWpPt) f.write |= FpWindow(g);
      return f;
    }
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
      // after a page-table write protection, wp_done_; after a zap the
      // invalidation reads tlbs_dirty.
      return {inv_tlbs_dirty, FpSpte(g) | FpWindow(g) | kFpGuarded | kFpMmuLock, FpPageFlags(g)};
    case Label::kA3:
      // clear_bit(accessed): under mmu_lock (rmap aging) or without it (6.15
      // lockless aging). Clearing A is neither a zap nor an MMU-writable
      // clear, so it adds nothing to the holder's I10 bookkeeping.
      return {FpWindow(g), FpSpte(g), 0};
    case Label::kA5:  // kvm_set_pfn_dirty before access tracking
      return {0, 0, FpPageFlags(g)};
    case Label::kFL: {
      // The IPI waits for vCPU arg's lockless walk and flushes its TLB; the
      // first and last read and reset tlbs_dirty. A harvest that flushes
      // after unlocking returns with its last flush: slots_lock, the
      // reported gfns (I1's history), I4's check of every TLB.
      const uint64_t walks = arg >= 0 ? FpWalk(arg) : AllWalks();
      uint64_t flushed = tlbs;
      if (arg >= 0) {
        flushed = 0;
        for (int h = 0; h < kMaxGfns; ++h) flushed |= FpTlb(arg, h);
      }
      Footprint f{walks | tlbs_dirty, flushed | tlbs_dirty, 0};
      if (harvest) f.read |= tlbs;
      if (harvest) f.write |= kFpSlotsLock | AllOf(FpHist, kMaxGfns);
      return f;
    }
    case Label::kS4:  // retry: this hold (S3..S4) changed no spte, so I10 has nothing to check
    case Label::kN4:  // likewise for invalidate_range_end's hold (N3..N4)
      return {0, kFpMmuLock, 0};
    case Label::kS11:
    case Label::kA4:
      return {tlbs, kFpMmuLock, 0};
    case Label::kN1:  // lock, count++, then the rmap; tlbs_dirty if nothing to zap
      return {kFpGuarded | tlbs_dirty, kFpMmuLock | kFpNotifier, 0};
    case Label::kN2:  // unlock; I7 reads the spte and every TLB of g; opens the window; the host pte switch
      return {tlbs | FpSpte(g), kFpMmuLock | FpWindow(g) | host_pte, 0};
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
    case Label::kL1:
      // slots_lock and the slot's logging flag; a slot that already logs
      // drops slots_lock again and the op ends.
      return {kFpSlotsLock | kFpLogging, kFpSlotsLock | kFpLogging, 0};
    case Label::kG1:  // slots_lock + mmu_lock, then the slot's logging flag
      return {kFpLogging, kFpSlotsLock | kFpMmuLock, 0};
    case Label::kPK:  // kicks every vCPU: every PML buffer drained into the bitmap
      return {kFpLogging, AllOf(FpPml, kMaxVcpus), kFpBitmap};
    case Label::kG2:
      // xchg of the bitmap word, then the rmaps of the reported gfns; with
      // nothing reported the ioctl goes on to unlock.
      return {kFpGuarded, kFpBitmap | kFpSlotsLock, 0};
    case Label::kG4:
      // mmu_lock (I10 against every TLB) and slots_lock dropped; unless a
      // flush follows, the ioctl returns: the reported gfns (I1's history)
      // and I4's check of every TLB.
      return {tlbs, kFpMmuLock | kFpSlotsLock | AllOf(FpHist, kMaxGfns), 0};
    default:
      return all;
  }
}

}  // namespace sptefuzz
