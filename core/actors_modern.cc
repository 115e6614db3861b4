// The post-3.6 actors of spec §3: the modern fast page fault (4.12+), the
// TDP MMU (5.10+: faults under the read lock with cmpxchg, the write-lock
// setter, zap, write_protect_gfn, clear_dirty_pt_masked, age_gfn_range,
// wrprot for enabling dirty logging) and aging by access tracking for sptes
// without A/D bits. As in actors.cc, every `co_await At(...)` is one
// scheduling point, and each function names the kernel function it mirrors;
// behaviour is restated from arch/x86/kvm/mmu/{mmu.c,tdp_mmu.c,spte.c}, not
// copied.
#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/model.h"

namespace sptefuzz {

namespace {
// fast_page_fault() gives up after this many re-walks (4.12+: "retry_count > 4").
constexpr int kFastPfRetries = 4;
}  // namespace

// fast_page_fault() (4.12 .. today, spec §3.3 "V412..V613"): a retry loop;
// an access-tracked spte is restored (restore_acc_track_spte), W is added for
// a write if the gate (is_mmu_writable_spte / spte_can_locklessly_be_made_writable)
// allows; fast_pf_fix_direct_spte() cmpxchg's and marks the gfn dirty when W
// was newly set. Not-present sptes (including FROZEN) go to the slow path.
Task Model::ModernFastPageFault(VThread& t, int g, bool write, bool* slow) {
  // The walk stops at a large leaf when one maps g (config large=on, the
  // shadow MMU of 4.12); the memslot's dirty logging is read with it.
  // `gfn`: kvm_mmu_page_get_gfn() of the walk's sp, read before the
  // cmpxchg (an indirect sp's gfns[] only under the B3 mutation).
  int leaf = g;
  int gfn = g;
  bool logging = false;
  Spte o = co_await At(t, Label::kF2, [&] {
    Store(in_lockless_walk_[t.vcpu], true);  // walk_shadow_page_lockless_begin()
    leaf = LeafOf(g);
    gfn = GfnOf(leaf);
    logging = logging_.load(std::memory_order_acquire);
    return EvLoad(t, leaf);
  });
  for (int retry = 0;; ++retry) {
    if (!IsShadowPresentPte(o)) {
      *slow = true;
      break;
    }
    // is_access_allowed(): a stale TLB entry made the fault spurious.
    if (!IsAccessTrackSpte(o) && (!write || IsWritablePte(o))) break;
    Spte n = o;
    if (IsAccessTrackSpte(o)) n = RestoreAccTrackSpte(n);
    if (write && FastPfMayMakeWritable(rules_, o)) {
      n |= kSpteW;
      // c126d94f2c90 ("Do not fix write-permission on the large spte"),
      // relaxed in 2021 to slots with dirty logging (Rules::fast_pf_large).
      if (IsLargePte(o) && !FastPfMayFixLarge(rules_, logging)) {
        *slow = true;
        break;
      }
    }
    if (n == o || (write && !IsWritablePte(n))) {
      *slow = true;
      break;
    }
    const Spte seen = co_await At(t, Label::kF3, [&] {
      const uint8_t protected_before = native_ ? 0 : WpDoneMask(LeafGfns(leaf, o));
      const Spte m = EvCas(t, leaf, o, n);
      if (m == o && IsWritablePte(n) && !IsWritablePte(o)) {
        CheckFastPathWrite(t, leaf, o, protected_before, gfn);
      }
      return m;
    });
    if (Failed()) break;
    if (seen == o) {
      // F4: mark_page_dirty_in_slot() when the fix made the spte writable.
      if (IsWritablePte(n) && !IsWritablePte(o) && rules_.plant != Plant::kFastPfNoMarkDirty) {
        // The leaf's gfn: the base gfn of a large leaf (B4).
        co_await At(t, Label::kF4, [&] { EvMarkPageDirty(t, leaf, gfn); });
      }
      break;
    }
    if (retry + 1 >= kFastPfRetries) {
      *slow = true;
      break;
    }
    // The cmpxchg lost: walk again.
    o = co_await At(t, Label::kF6, [&] {
      leaf = LeafOf(g);
      gfn = GfnOf(leaf);
      logging = logging_.load(std::memory_order_acquire);
      return EvLoad(t, leaf);
    });
  }
  Store(in_lockless_walk_[t.vcpu], false);  // F5: walk_shadow_page_lockless_end()
}

// kvm_tdp_mmu_page_fault() -> kvm_tdp_mmu_map() -> tdp_mmu_map_handle_target_level()
// (5.12+: under the read lock, spec §3.4 "V510+ TDP MMU fault").
Task Model::TdpPageFault(VThread& t, int g, bool write) {
  for (;;) {
    const uint32_t seq = co_await At(t, Label::kS1, [&] {
      Rec().event = Event::kNotifier;
      Rec().aux = notifier_seq_;
      return notifier_seq_.load(std::memory_order_acquire);
    });
    // kvm_faultin_pfn() after the snapshot (5.18: direct_page_fault() reads
    // mmu_notifier_seq, smp_rmb(), then kvm_faultin_pfn()); a COW break is a
    // full invalidation run by this thread (FaultinPfn).
    bool host_writable = true;
    if (FaultinPfnHasSteps(g, write, &host_writable)) co_await FaultinPfn(t, g, &host_writable);
    if (Failed()) co_return;
    co_await At(t, Label::kR3, [&] { EvReadLock(t); }, Block::kMmuRead);
    // is_page_fault_stale() / mmu_invalidate_retry(): retry while an
    // invalidation is in progress or happened since S1.
    const bool invalidating = GuardedLoad(t, notifier_count_, "mmu_notifier_count") != 0 || notifier_seq_ != seq;
    if (invalidating && rules_.plant != Plant::kFaultIgnoresNotifier) {
      co_await At(t, Label::kR4, [&] { EvReadUnlock(t); });
      t.yielded = true;
      continue;
    }
    const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
    if (IsFrozenSpte(o) && rules_.plant != Plant::kFaultOverwritesFrozen) {
      // Another thread owns the spte: RET_PF_RETRY. kvm_tdp_mmu_map() gives
      // up on a frozen snapshot (is_frozen_spte(), is_removed_spte() before
      // the 6.11 rename), and tdp_mmu_set_spte_atomic() refuses one (5.13+).
      co_await At(t, Label::kR4, [&] { EvReadUnlock(t); });
      t.yielded = true;
      continue;
    }
    // 386d69f9f29b (6.13): a present leaf that already allows the access
    // makes the fault spurious before make_spte() runs.
    const bool allowed = IsShadowPresentPte(o) && !IsAccessTrackSpte(o) && (!write || IsWritablePte(o));
    if (rules_.tdp_fault_spurious == TdpFaultSpurious::kAccessAllowed && allowed) {
      co_await At(t, Label::kR11, [&] { EvReadUnlock(t); });
      co_return;
    }
    // make_spte(): from scratch; a write-protected guest page table gets no
    // W/MMU_W and a write to it is emulated.
    Spte n = kSptePresent | (ad_ ? kSpteA : 0) | (host_writable ? kSpteHostW : 0);
    bool writable = host_writable;
    bool emulate = false;
    if (writable && GuardedLoad(t, shadowed_[g], "the shadowed-gfn table") != 0) {
      writable = false;
      emulate = write;
    }
    if (writable) n |= kSpteW | (rules_.plant == Plant::kSlowPathWNoMmuW ? 0 : kSpteMmuW);
    // D of a writable spte (Rules::make_spte_d): 9b51a63024bd, cc7ed3358e41;
    // 8b8f9d753b84 skips it over a writable old leaf, so a fault that lost
    // the race to install the spte rebuilds W=1,D=1 as W=1,D=0 (B11).
    if (writable && ad_ && MakeSpteSetsDirty(rules_, o)) n |= kSpteD;
    bool installed = false;
    if (n != o) {  // n == o: RET_PF_SPURIOUS
      // T1: tdp_mmu_set_spte_atomic(); handle_changed_spte() does the A/D
      // transfer of the replaced leaf right after the cmpxchg.
      const Spte seen = co_await At(t, Label::kT1, [&] {
        const Spte m = EvCas(t, g, o, n);
        if (m == o) {
          TrackDroppedSpte(g, o, n);
          // 0cad68cab113: kvm_release_faultin_page(..., dirty = writable).
          if (rules_.page_dirty_at_origin && IsWritablePte(n)) SetPageDirty(g);
        }
        return m;
      });
      if (Failed()) co_return;
      if (seen != o) {
        // RET_PF_RETRY: unlock, the guest faults again.
        co_await At(t, Label::kR11, [&] { EvReadUnlock(t); });
        t.yielded = true;
        co_return;
      }
      installed = true;
      // T2: handle_changed_spte_dirty_log(): the spte became writable.
      if (IsWritablePte(n) && !IsWritablePte(o)) co_await At(t, Label::kT2, [&] { EvMarkPageDirty(t, g); });
      // tdp_mmu_map_handle_target_level(): a replaced present spte is
      // flushed only if it was a non-leaf (none in the model) until
      // 1a175082b190 (6.13), which also flushes when a present leaf loses
      // MMU-writable. A leaf that merely loses D is not flushed (B11).
      if (rules_.tdp_fault_flush == TdpFaultFlush::kMmuWCleared && IsShadowPresentPte(o) && IsMmuWritableSpte(o) &&
          !IsMmuWritableSpte(n)) {
        co_await FlushAll(t);
      }
      if (Failed()) co_return;
    }
    (void)installed;
    co_await At(t, Label::kR11, [&] { EvReadUnlock(t); });
    if (emulate && !Failed()) {
      co_await At(t, Label::kE1, [&] {
        EvMarkPageDirty(t, g);
        Rec().flags |= kTraceEmulated;
      });
      t.emulated = true;
    }
    co_return;
  }
}

// kvm_faultin_pfn() -> __gfn_to_pfn_memslot() -> hva_to_pfn() for g, run
// after the fault's notifier snapshot (S1). A read fault maps the host page
// writable if the host pte is (hva_to_pfn_fast with FOLL_WRITE). A write
// fault on a read-only KSM page goes to hva_to_pfn_slow(), whose GUP with
// FOLL_WRITE breaks COW in the primary MMU: do_wp_page() -> wp_page_copy()
// brackets the switch of the host pte to a private copy with
// mmu_notifier_invalidate_range_start() and _end() (range_init with
// MMU_NOTIFY_CLEAR over the one page). KVM's notifier runs in this thread:
// kvm_mmu_notifier_invalidate_range_start() takes mmu_lock for write,
// raises the in-progress count, zaps g's sptes (kvm_unmap_gfn_range) and
// flushes (flush_on_ret), _end() bumps the sequence and drops the count.
// So the invalidation waits for a fault holding mmu_lock (e.g. the TDP MMU
// read lock) and zaps what that fault installed, and every fault that
// snapshotted the sequence before it, this one included, then sees itself
// stale (is_page_fault_stale() / mmu_notifier_retry()) and retries. The
// change_pte notification in between (set_pte_at_notify) finds g zapped and
// does nothing, so it is not modeled. The same invalidation actor as a
// kernel thread's is used, step by step (Model::Invalidate).
// The common case, hva_to_pfn_fast() without a COW break, has no step:
// FaultinPfnHasSteps (model.h) decides it; this coroutine is the COW break.
Task Model::FaultinPfn(VThread& t, int g, bool* host_writable) {
  co_await Invalidate(t, g, /*writeback=*/false, HostPteChange::kCowBreak);
  *host_writable = true;  // GUP with FOLL_WRITE returned the writable copy
}

// handle_changed_spte() (TDP MMU) / the tracking half of
// mmu_spte_clear_track_bits(): the replaced leaf's dirty and accessed state
// go to the page when the new value drops them.
void Model::TrackDroppedSpte(int g, Spte old, Spte n) {
  if (!IsShadowPresentPte(old)) return;
  const bool gone = !IsShadowPresentPte(n);
  if (IsDirtySpte(old, ad_) && (gone || !IsDirtySpte(n, ad_))) SetPageDirty(g);
  if (IsAccessedSpte(old, ad_) && (gone || !IsAccessedSpte(n, ad_))) SetPageAccessed(g);
}

// __tdp_mmu_set_spte() / tdp_mmu_iter_set_spte() (the write-lock setter,
// spec §3.10): 5.10 a plain store with bookkeeping from the iterator's
// snapshot (B7); 5.18 (ba3a6120a4e7) an xchg when the snapshot is a volatile
// present leaf, bookkeeping from its result; 6.5 (89c313f20c1e) bit clears of
// such sptes by atomic AND (kvm_tdp_mmu_clear_spte_bits).
Model::StepAwaiter<Model::TdpSetSpteEvent> Model::TdpSetSpte(VThread& t, int g, Spte snap, Spte n, Spte clear) {
  // tdp_mmu_set_spte() WARNs on FROZEN_SPTE: a FROZEN spte belongs to a
  // read-lock holder, and the write lock excludes every reader.
  SPTEFUZZ_CHECK(!IsFrozenSpte(snap) && !IsFrozenSpte(n));
  const bool atomic = rules_.tdp_setter != TdpSetter::kPlain && IsShadowPresentPte(snap) &&
                      SpteHasVolatileBits(rules_, snap, ad_);
  using How = TdpSetSpteEvent::How;
  const How how = !atomic                                                                ? How::kStore
                  : clear != 0 && rules_.tdp_setter == TdpSetter::kAndIfVolatile ? How::kAnd
                                                                                 : How::kXchg;
  return At(t, Label::kTW, TdpSetSpteEvent{this, &t, g, snap, n, clear, how});
}

// TdpSetSpte's step (see above): the plain store of __tdp_mmu_set_spte()
// (5.10), the xchg of a volatile present leaf (5.18, ba3a6120a4e7) or the
// AND of kvm_tdp_mmu_clear_spte_bits() (6.5, 89c313f20c1e), each followed by
// handle_changed_spte()'s A/D transfer (TrackDroppedSpte).
Spte Model::TdpSetSpteEvent::operator()() const {
  switch (how) {
    case How::kStore:  // the bookkeeping trusts the snapshot
      m->EvStore(*t, g, n, snap);
      m->TrackDroppedSpte(g, snap, n);
      return snap;
    case How::kAnd: {
      const Spte o = m->EvAnd(*t, g, ~clear);
      m->TrackDroppedSpte(g, o, o & ~clear);
      return o;
    }
    case How::kXchg: {
      const Spte o = m->EvXchg(*t, g, n);
      m->TrackDroppedSpte(g, o, n);
      return o;
    }
  }
  return snap;
}

// write_protect_gfn() (TDP MMU, page-table write protection, spec §3.7 P2).
Task Model::TdpWriteProtectGfn(VThread& t, int g, bool* flush) {
  const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
  if (!IsShadowPresentPte(o)) co_return;
  // 46044f72c382 skipped an spte whose W was already clear (B6); 7c8a4742c4ab
  // skips only if there is nothing to clear.
  const bool skip = rules_.tdp_wp_gfn == TdpWpGfn::kSkipIfNotW ? !IsWritablePte(o) : (o & (kSpteW | kSpteMmuW)) == 0;
  if (skip) co_return;
  (void)co_await TdpSetSpte(t, g, o, o & ~(kSpteW | kSpteMmuW), kSpteW | kSpteMmuW);
  *flush = true;
}

// kvm_tdp_mmu_age_gfn_range() -> age_gfn_range() under the write lock
// (5.10 .. 6.14): A/D on: clear A; A/D off: capture dirty, then
// mark_spte_for_access_track().
Task Model::TdpAgeGfn(VThread& t, int g, bool* young) {
  const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
  if (!IsShadowPresentPte(o) || !IsAccessedSpte(o, ad_)) co_return;
  *young = true;
  if (ad_) {
    (void)co_await TdpSetSpte(t, g, o, o & ~kSpteA, kSpteA);
    co_return;
  }
  if (IsWritablePte(o)) co_await At(t, Label::kA5, [&] { SetPageDirty(g); Rec().gfn = static_cast<uint8_t>(g); });
  (void)co_await TdpSetSpte(t, g, o, MarkSpteForAccessTrack(o), 0);
}

// kvm_tdp_mmu_age_gfn_range() -> kvm_tdp_mmu_age_spte() without mmu_lock
// (6.15 lockless aging series, spec §3.9 "V615"): A/D on: atomic clear of A;
// A/D off: capture dirty, then one cmpxchg to the access-tracked value,
// which may fail (aging is best effort). No TLB flush.
Task Model::TdpAgeLockless(VThread& t, int g) {
  const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
  if (!IsShadowPresentPte(o) || !IsAccessedSpte(o, ad_)) co_return;
  if (ad_) {
    co_await At(t, Label::kA3, [&] { EvAnd(t, g, ~kSpteA); });
    co_return;
  }
  if (IsWritablePte(o)) co_await At(t, Label::kA5, [&] { SetPageDirty(g); Rec().gfn = static_cast<uint8_t>(g); });
  co_await At(t, Label::kT1, [&] { EvCas(t, g, o, MarkSpteForAccessTrack(o)); });
}

// mmu_spte_age() for an spte without A/D bits (4.12+, spec §3.9): the dirty
// state is captured first (W is about to be lost), then the spte is marked
// access-tracked with mmu_spte_update_no_track().
Task Model::ShadowAgeAccessTrack(VThread& t, int g, bool* young) {
  const Spte o = co_await At(t, Label::kA2, [&] { return EvLoad(t, g); });
  if (!IsShadowPresentPte(o) || !IsAccessedSpte(o, ad_)) co_return;
  *young = true;
  if (IsWritablePte(o)) co_await At(t, Label::kA5, [&] { SetLeafPageDirty(g, o); Rec().gfn = static_cast<uint8_t>(g); });
  bool f = false;
  co_await MmuSpteUpdate(t, g, MarkSpteForAccessTrack(o), &f, /*track=*/false);
}

// kvm_tdp_mmu_wrprot_slot() -> wrprot_gfn_range() under the read lock
// (5.12+): clear W of a writable leaf with tdp_mmu_set_spte_atomic(),
// retrying with the value the cmpxchg returned. With PML (bit D),
// kvm_tdp_mmu_clear_dirty_slot() -> clear_dirty_gfn_range(): the same for D
// of a dirty leaf.
Task Model::TdpWrprotForLog(VThread& t, int g, Spte bit, bool* changed) {
  Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
  for (;;) {
    if (!IsShadowPresentPte(o) || (o & bit) == 0) co_return;
    const Spte n = o & ~bit;
    const Spte m = co_await At(t, Label::kT1, [&] {
      const Spte seen = EvCas(t, g, o, n);
      if (seen == o) TrackDroppedSpte(g, o, n);
      return seen;
    });
    if (Failed()) co_return;
    if (m == o) {
      *changed = true;
      co_return;
    }
    o = m;
  }
}

// kvm_zap_gfn_range(kvm, g, gfns) (spec §3.10, B12; callers: MTRR and CR0.CD
// changes, APICv inhibition, ...): zap every leaf of the gfn range under the
// write lock, yielding it on the way, and flush at the end if something is
// still pending. The TDP MMU walks every root: kvm_tdp_mmu_zap_gfn_range() /
// today's kvm_tdp_mmu_zap_leafs() call zap_gfn_range() / tdp_mmu_zap_leafs()
// per root with can_yield. Root 1 holds the model's sptes; root 2 (another
// address space or a root of another vCPU role) maps no gfn of the range, so
// its walk zaps nothing, but it makes progress and may yield. The rmap MMU
// walks the memslot's rmaps with slot_handle_level_range() (lock_flush_tlb,
// later flush_on_yield, = true), which flushes what is pending before it
// yields. kvm_zap_gfn_range() came with the MTRR work of 2015 (4.2, commit
// not re-checked); the older presets run the same rmap walk. Later kernels bracket the zap with
// kvm_mmu_invalidate_begin()/_end() so that faults retry meanwhile; the model
// does not, so faults may refill a zapped gfn while the zap yields (more
// interleavings, none that breaks an invariant by itself).
Task Model::ZapGfnRange(VThread& t, int g) {
  co_await At(t, Label::kZR1, [&] { EvLock(t); }, Block::kMmuLock);
  bool flush = false;  // a leaf was zapped and no flush has covered it yet
  for (int i = g; i < gfns_; ++i) {
    // tdp_mmu_iter_cond_resched() never yields before the walk has made
    // progress ("Ensure forward progress when yielding in TDP MMU iter"), so
    // not before the first gfn; within one root both rules flush first.
    if (i > g) {
      co_await ZapRangeYield(t, flush);
      if (Failed()) co_return;
      flush = false;
    }
    Spte old = 0;
    if (rules_.mmu == MmuKind::kTdp) {
      const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, i); });
      if (!IsShadowPresentPte(o)) continue;
      // tdp_mmu_set_spte(iter, 0): the write-lock setter with the A/D transfer.
      (void)co_await TdpSetSpte(t, i, o, 0, 0);
    } else if (GuardedLoad(t, rmap_[i], "the rmap")) {
      co_await MmuSpteClearTrackBits(t, i, &old);  // kvm_zap_rmapp() -> drop_spte()
    } else {
      continue;
    }
    if (Failed()) co_return;
    flush = true;
  }
  if (rules_.mmu == MmuKind::kTdp) {
    // Root 2. a835429cda91 hands root 1's pending flush to its walk, which
    // flushes before yielding; before it, zap_gfn_range() started root 2 with
    // flush_needed=false and yielded without flushing (B12). Either way root
    // 1's result still reaches the final flush.
    const bool honour = rules_.zap_yield_flush == ZapYieldFlush::kFlushBeforeYield;
    co_await ZapRangeYield(t, honour && flush);
    if (Failed()) co_return;
    if (honour) flush = false;
  }
  // kvm_zap_gfn_range(): "if (flush) kvm_flush_remote_tlbs...", then write_unlock.
  if (flush) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kZR2, [&] { EvUnlock(t); });
}

// tdp_mmu_iter_cond_resched(kvm, iter, flush, shared=false) /
// slot_handle_level_range()'s need_resched() || rwlock_needbreak() branch:
// kvm_flush_remote_tlbs() if `flush`, then cond_resched_rwlock_write()
// (cond_resched_lock() on 5.10/5.11's spinlock). The model always yields;
// whether anyone runs while the lock is free is the scheduler's choice.
// Dropping mmu_lock is where I10 judges the unflushed zaps (spec §3.10).
Task Model::ZapRangeYield(VThread& t, bool flush) {
  if (flush) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kZY1, [&] { EvUnlock(t); });
  if (Failed()) co_return;
  co_await At(t, Label::kZY2, [&] { EvLock(t); }, Block::kMmuLock);
}

// kvm_mmu_slot_apply_flags() -> kvm_mmu_zap_collapsible_sptes() for the
// leaf of g (op zap-atomic; spec §3.10 "Zap under read lock"). Userspace
// clears LOG_DIRTY_PAGES; KVM_SET_USER_MEMORY_REGION holds slots_lock, so
// the zap is serialized with the other memslot and dirty-log ioctls. The
// model's gfns map 4K pages of a huge host page, so every leaf is
// collapsible. The kernel calls this only when the slot no longer logs
// (recover_huge_pages_range() WARNs and returns otherwise, 13e2e4f62a4b):
// with logging on the op only takes and drops slots_lock.
//
// TDP MMU (2db6f772b530, 5.13): zap_collapsible_spte_range() under the read
// lock. Rules::zap_atomic picks how the leaf is zapped:
//  * freeze, tdp_mmu_zap_spte_atomic() (5.13 .. 6.12): Z1 cmpxchg the
//    iterator snapshot to FROZEN_SPTE; the freeze went through
//    tdp_mmu_set_spte_atomic(), so Z2 handle_changed_spte() (A/D transfer)
//    runs right after it; Z3 kvm_flush_remote_tlbs_gfn(); Z4 store the
//    non-present value over FROZEN, which no other thread overwrites.
//    D. Matlack's "Process atomically-zapped SPTEs after replacing
//    REMOVED_SPTE" (posted March 2024; merge release not checked) moved Z2
//    after Z4. The model keeps the first order: the page flags that Z2
//    sets are read only by writeback, whose invalidation needs the write
//    lock, so no thread can tell the two apart.
//    A failed cmpxchg refreshes the snapshot and retries ("goto retry"),
//    which skips a value that is no longer present (FROZEN included).
//  * no-freeze, 35ef80eb29ab (6.13): tdp_mmu_set_spte_atomic(SHADOW_NONPRESENT_VALUE)
//    and one kvm_flush_remote_tlbs_memslot() after the walk, before the unlock.
// (6.13's 13e2e4f62a4b then recovers the huge page in place instead of
// zapping; the TDP MMU here has no huge leaves, so the zap stands for it.)
//
// Shadow MMU (3ea3b7fa9af0, 4.1): kvm_mmu_zap_collapsible_sptes() walks the
// rmaps under the write lock, drop_spte()s each collapsible leaf and flushes
// before unlocking (kvm_mmu_zap_collapsible_spte / slot_handle_leaf with
// lock_flush_tlb). Older presets run the same walk.
Task Model::ZapCollapsible(VThread& t, int g) {
  const bool logging = co_await At(t, Label::kZA0, [&] {
    if (native_) NativeLockAcquire(slots_spin_);
    slots_lock_holder_ = t.index;
    Rec().event = Event::kSlot;
    return logging_.load(std::memory_order_acquire);
  }, Block::kSlotsLock);
  if (logging) {
    ReleaseSlotsLock();
    co_return;
  }
  const bool tdp = rules_.mmu == MmuKind::kTdp;
  if (!tdp) {
    co_await At(t, Label::kZAR, [&] { EvLock(t); }, Block::kMmuLock);
    if (Has4kRmap(t, g)) {
      co_await MmuSpteClearTrackBits(t, g);  // drop_spte()
      if (Failed()) co_return;
      co_await FlushAll(t);
      if (Failed()) co_return;
    }
    co_await At(t, Label::kZAU, [&] {
      EvUnlock(t);
      ReleaseSlotsLock();
    });
    co_return;
  }
  co_await At(t, Label::kZAR, [&] { EvReadLock(t); }, Block::kMmuRead);
  const bool freeze = rules_.zap_atomic == ZapAtomic::kFreeze;
  bool flush = false;
  Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
  // tdp_root_for_each_pte: skip a non-present (incl. FROZEN) spte.
  while (IsShadowPresentPte(o)) {
    // Z1 (+ Z2): __tdp_mmu_set_spte_atomic() never replaces FROZEN (the
    // present check above), so a successful cmpxchg owns the spte.
    const Spte n = freeze ? kSpteFrozen : Spte{0};
    const Spte m = co_await At(t, Label::kZA1, [&] {
      const Spte seen = EvCas(t, g, o, n);
      if (seen == o) TrackDroppedSpte(g, o, n);
      return seen;
    });
    if (Failed()) co_return;
    if (m != o) {
      o = m;  // try_cmpxchg64 refreshed iter->old_spte: retry
      continue;
    }
    if (!freeze) {
      flush = true;
      break;
    }
    co_await FlushAll(t);  // Z3: kvm_flush_remote_tlbs_gfn()
    if (Failed()) co_return;
    co_await At(t, Label::kZA4, [&] { EvStore(t, g, 0, kSpteFrozen); });  // Z4
    if (Failed()) co_return;
    break;
  }
  const bool after_unlock = rules_.zap_atomic == ZapAtomic::kNoFreezeFlushAfterUnlock;
  if (flush && !after_unlock) co_await FlushAll(t);  // kvm_flush_remote_tlbs_memslot()
  if (Failed()) co_return;
  co_await At(t, Label::kZAU, [&] {
    EvReadUnlock(t);
    if (!(flush && after_unlock)) ReleaseSlotsLock();
  });
  if (Failed() || !(flush && after_unlock)) co_return;
  co_await FlushAll(t);
  if (Failed()) co_return;
  ReleaseSlotsLock();
}

// kvm_mmu_notifier_change_pte() -> kvm_set_spte_hva() -> kvm_set_pte_rmapp()
// (3.6 .. 6.8; TDP MMU: set_spte_gfn()): the host page of g becomes a
// read-only KSM page. The spte is zapped (with the A/D transfer) and replaced
// by one for the new page without W, HOST_W and A; MMU_W is kept until
// f082d86ea685 (B14 once the fast path gates on MMU_W alone). Flush before
// the unlock.
Task Model::ChangePteNotifier(VThread& t, int g) {
  co_await At(t, Label::kC0, [&] {
    EvLock(t);
    ++notifier_seq_;
    host_ro_[g] = true;
  }, Block::kMmuLock);
  Spte old = 0;
  if (rules_.mmu == MmuKind::kTdp) {
    const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
    if (IsShadowPresentPte(o)) old = co_await TdpSetSpte(t, g, o, 0, 0);
  } else if (large_ && IsLargePte(spte_[LeafOf(g)]) && GuardedLoad(t, rmap_[LeafOf(g)], "the rmap")) {
    // A large leaf maps g (config large=on): KSM merges only 4K pages
    // (kvm_set_pte_rmapp WARNs on a huge pte), so the huge page is split
    // first, and the split's invalidation zaps the large leaf; the next
    // fault maps g's read-only KSM page.
    co_await MmuSpteClearTrackBits(t, LeafOf(g));
    if (Failed()) co_return;
    co_await FlushAll(t);
    if (Failed()) co_return;
  } else if (GuardedLoad(t, rmap_[g], "the rmap")) {
    co_await MmuSpteClearTrackBits(t, g, &old);
  }
  if (Failed()) co_return;
  if (IsShadowPresentPte(old)) {
    Spte n = old & ~(kSpteW | kSpteHostW | kSpteA | kSpteD);
    if (rules_.change_pte == ChangePte::kClearMmuW) n &= ~kSpteMmuW;
    // C1: mmu_spte_set() of the zapped slot (nothing else writes a
    // non-present leaf while mmu_lock is held for write).
    co_await At(t, Label::kC1, [&] {
      EvStore(t, g, n, 0);
      if (rules_.mmu != MmuKind::kTdp) GuardedStore(t, rmap_[g], 1, "the rmap");
    });
    if (Failed()) co_return;
    co_await FlushAll(t);
    if (Failed()) co_return;
  }
  co_await At(t, Label::kC2, [&] { EvUnlock(t); });
}

}  // namespace sptefuzz
