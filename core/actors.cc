// The actors of spec §3, 3.6 era, as coroutines. Every `co_await At(...)` is
// one scheduling point; code between two of them is local computation and
// runs atomically with the step before it. Each function names the kernel
// function it mirrors; behaviour is restated, not copied (checked against
// 3.6's arch/x86/kvm/mmu.c, x86.c and virt/kvm/kvm_main.c; see
// docs/fidelity.md).
#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/model.h"

namespace sptefuzz {

Task Model::ThreadBody(VThread& t, const ThreadSpec& spec) {
  for (const Op& op : spec.ops) {
    const int g = op.gfn;
    pending_op_[t.index] = static_cast<uint8_t>(&op - spec.ops.data());
    switch (op.kind) {
      case OpKind::kRead:
        co_await GuestAccess(t, g, /*write=*/false, /*fault_first=*/false);
        break;
      case OpKind::kWrite:
        co_await GuestAccess(t, g, /*write=*/true, /*fault_first=*/false);
        break;
      case OpKind::kFault:
        co_await GuestAccess(t, g, /*write=*/true, /*fault_first=*/true);
        break;
      case OpKind::kZap:
        co_await Invalidate(t, g, /*writeback=*/false);
        break;
      case OpKind::kWriteback:
        co_await Invalidate(t, g, /*writeback=*/true);
        break;
      case OpKind::kAge:
        co_await Age(t, g, /*clear_young=*/false);
        break;
      case OpKind::kChangePte:
        if (rules_.change_pte == ChangePte::kRemoved) {
          // 6.9+: no change_pte notifier; KSM's replace_page() installs the
          // read-only KSM page between invalidate_range_start() and _end().
          co_await Invalidate(t, g, /*writeback=*/false, HostPteChange::kKsmMerge);
        } else {
          co_await ChangePteNotifier(t, g);
        }
        break;
      case OpKind::kClearYoung:
        co_await Age(t, g, /*clear_young=*/rules_.clear_young_notifier);
        break;
      case OpKind::kWpPt:
        co_await WriteProtectPageTable(t, g);
        break;
      case OpKind::kEnableLog:
        co_await EnableDirtyLog(t);
        break;
      case OpKind::kHarvest:
        co_await GetDirtyLog(t);
        break;
      case OpKind::kSyncDrop:
      case OpKind::kSyncRo:
        co_await SyncPage(t, g, /*drop=*/op.kind == OpKind::kSyncDrop);  // actors_sync.cc
        break;
      case OpKind::kZapRange:
        co_await ZapGfnRange(t, g);  // actors_modern.cc
        break;
      case OpKind::kZapAtomic:
        co_await ZapCollapsible(t, g);  // actors_modern.cc
        break;
      case OpKind::kRemap:
        co_await Remap(t, g);
        break;
      case OpKind::kCount:
        SPTEFUZZ_CHECK(false);
    }
    if (Failed()) break;
  }
  t.done = true;
}

// ---------------------------------------------------------------------------
// H: a guest memory access by vCPU hardware (spec §3.1).

namespace {
enum class AccessNext : uint8_t { kDone, kFault, kAssistCas, kWalkCas };
struct AccessStep {
  AccessNext next;
  bool present;  // for kFault: the error code's present bit
  Spte seen;     // for the CAS continuations: the value the CAS expects
  int leaf = 0;  // for the CAS continuations: the spte slot the walk used (Model::LeafOf)
};
}  // namespace

Task Model::GuestAccess(VThread& t, int g, bool write, bool fault_first) {
  // A fault to handle before the next access. With fault_first the vCPU
  // exits with a write fault whose error code says "not present" (its walk
  // saw no spte): page_fault_can_be_fast() refuses, so the fault goes to
  // the slow path, after which the guest retries the write. `raised`: an
  // access raised it (H5), and a violation found meanwhile ends the op.
  bool fault = fault_first, present = false, raised = false;
  for (;;) {
    if (fault) {
      // H5: exit to KVM; the vCPU thread handles the fault (tdp_page_fault()
      // / nonpaging_map(): the fast path if it may be tried, then, if it
      // gives up, the slow path), then retries the access.
      if (PmlToDrain(t)) co_await VmExitFlushPml(t);
      bool slow = true;
      if (PageFaultCanBeFast(write, present)) {
        slow = false;
        co_await FastPathFault(t, g, write, &slow);
        slow = slow && !Failed();
      }
      if (slow) co_await SlowPathFault(t, g, write);
      if (t.emulated) {
        t.emulated = false;
        co_return;
      }
      if (raised && Failed()) co_return;
      fault = false;
    }
    // H1: TLB lookup. A hit completes here (H2); a miss loads the spte in
    // the same step (H4): the lookup touches only this vCPU's TLB. In native
    // mode the vCPU is "in guest mode" for the step: a flush's IPI waits.
    if (native_) NativeVcpuEnter(t);
    const AccessStep a = co_await At(t, Label::kH1, [&]() -> AccessStep {
      TraceStep& r = Rec();
      r.gfn = static_cast<uint8_t>(g);
      r.vcpu = t.vcpu;
      // The walk ends at the large leaf when one maps g (config large=on);
      // the TLB entry is still per 4K gfn.
      const int leaf = LeafOf(g);
      r.before = r.after = spte_[leaf];
      TlbSlot& e = tlb_[t.vcpu][g];
      if (e.valid) {
        r.label = Label::kH2;
        if (!native_) last_label_ = Label::kH2;
        r.event = Event::kTlbHit;
        r.aux = (e.w ? 1u : 0u) | (e.d ? 2u : 0u);
        if (!write) {
          RecordGuestRead(t, g);
          return {AccessNext::kDone, false, 0};
        }
        if (!e.w) {
          // H3: the cached entry forbids the write: the fault invalidates it.
          e = TlbSlot{};
          r.flags |= kTraceTlbDrop | kTraceFault;
          return {AccessNext::kFault, true, 0};
        }
        if (e.d || !ad_) {
          RecordGuestWrite(t, g);
          return {AccessNext::kDone, false, 0};
        }
        // D-assist: the entry is writable but clean.
        if (tc_->config.dassist == DAssist::kAdversarial) {
          // One atomic OR of A|D using the cached translation, no re-check.
          const Spte m = FetchOr(spte_[leaf], kSpteA | kSpteD);
          r.event = Event::kOr;
          r.after = m | kSpteA | kSpteD;
          OnSpteChange(t, leaf, m, r.after);
          if (!(m & kSpteD)) PmlAppend(t, g);
          e.d = true;
          e.dirty_time = now_;
          r.flags |= kTraceTlbDirty;
          RecordGuestWrite(t, g);
          return {AccessNext::kDone, false, 0};
        }
        // Strict: the assist re-reads the spte; if it is no longer present
        // and writable the entry is dropped and the access faults.
        const Spte o = spte_[leaf];
        r.event = Event::kLoad;
        if (!(IsHardwarePresent(o) && IsWritablePte(o))) {
          e = TlbSlot{};
          r.flags |= kTraceTlbDrop | kTraceFault;
          return {AccessNext::kFault, IsHardwarePresent(o), 0};
        }
        return {AccessNext::kAssistCas, false, o, leaf};
      }
      // H4: miss, page walk.
      r.label = Label::kH4;
      if (!native_) last_label_ = Label::kH4;
      r.event = Event::kTlbMissLoad;
      const Spte o = spte_[leaf];
      if (!IsHardwarePresent(o) || (write && !IsWritablePte(o))) {
        r.flags |= kTraceFault;
        return {AccessNext::kFault, IsHardwarePresent(o), 0};
      }
      if (!native_) last_walk_[g] = now_;
      if (ad_) {
        const Spte want = o | kSpteA | (write ? kSpteD : 0);
        if (want != o) return {AccessNext::kWalkCas, false, o, leaf};
        // A (and D) already set: the walk needs no locked update.
        FillTlb(t, g, IsWritablePte(o), (o & kSpteD) != 0);
      } else {
        FillTlb(t, g, IsWritablePte(o), true);
      }
      if (write) {
        RecordGuestWrite(t, g);
      } else {
        RecordGuestRead(t, g);
      }
      return {AccessNext::kDone, false, 0};
    });
    if (native_) vcpu_busy_[t.vcpu].store(false, std::memory_order_release);
    if (Failed()) co_return;
    switch (a.next) {
      case AccessNext::kDone:
        co_return;
      case AccessNext::kFault:
        fault = raised = true;  // H5, at the top of the loop
        present = a.present;
        continue;
      case AccessNext::kAssistCas: {
        const Spte o = a.seen;
        if (native_) NativeVcpuEnter(t);
        const Spte seen = co_await At(t, Label::kH2Cas, [&] {
          const Spte m = EvCas(t, a.leaf, o, o | kSpteA | kSpteD);
          // The trace names the accessed gfn (its TLB entry), even when the
          // spte is the large leaf in slot 0 (its L flag shows it).
          Rec().gfn = static_cast<uint8_t>(g);
          if (m == o) {
            // PML logs only a real D 0 -> 1 transition (another vCPU's
            // write or make_spte may have set D under this clean entry).
            if (!(o & kSpteD)) PmlAppend(t, g);
            tlb_[t.vcpu][g].d = true;
            tlb_[t.vcpu][g].dirty_time = now_;
            Rec().flags |= kTraceTlbDirty;
            Rec().vcpu = t.vcpu;
            RecordGuestWrite(t, g);
          }
          return m;
        });
        if (native_) vcpu_busy_[t.vcpu].store(false, std::memory_order_release);
        if (seen == o) co_return;
        break;  // the spte changed: redo the access
      }
      case AccessNext::kWalkCas: {
        const Spte o = a.seen;
        if (native_) NativeVcpuEnter(t);
        const Spte seen = co_await At(t, Label::kH4Cas, [&] {
          const Spte n = o | kSpteA | (write ? kSpteD : 0);
          const Spte m = EvCas(t, a.leaf, o, n);
          Rec().gfn = static_cast<uint8_t>(g);  // the accessed gfn, as above
          if (m == o) {
            // PML: the walk of a write set D 0 -> 1 (spec §3.1 H4).
            if (write && !(o & kSpteD)) PmlAppend(t, g);
            FillTlb(t, g, IsWritablePte(n), (n & kSpteD) != 0);
            if (write) {
              RecordGuestWrite(t, g);
            } else {
              RecordGuestRead(t, g);
            }
          }
          return m;
        });
        if (native_) vcpu_busy_[t.vcpu].store(false, std::memory_order_release);
        if (seen == o) co_return;
        break;  // the spte changed under the walk: walk again
      }
    }
    if (Failed()) co_return;
  }
}

// tdp_page_fault() / nonpaging_map(): try the fast path, then the slow
// path (GuestAccess runs the two in turn).
bool Model::PageFaultCanBeFast(bool write, bool present) const {
  // Shadow paging: FNAME(page_fault) never tries fast_page_fault(), which
  // only the direct-map handlers call (3.6 c7ba5b48cc8d, locking.rst "the
  // mapping from gfn to pfn"; spec §3.3 step 1, B3).
  if (indirect_ && rules_.fast_pf_indirect == FastPfIndirect::kDirectOnly) return false;
  // page_fault_can_be_fast(): 4.12+, a present fault only for writes, a
  // not-present one only when A/D are off (it may be an access-tracked
  // spte); 3.6, only a write fault on a present spte.
  return rules_.fast_pf_gate != FastPfGate::kDisabled &&
         (rules_.fast_pf == FastPfRule::kModern ? (present ? write : !ad_) : (present && write));
}

// fast_page_fault() of these rules: the 4.12+ retry loop or the 3.6 form.
Task Model::FastPathFault(VThread& t, int g, bool write, bool* slow) {
  return rules_.fast_pf == FastPfRule::kModern ? ModernFastPageFault(t, g, write, slow) : FastPageFault(t, g, slow);
}

// The slow path: kvm_tdp_mmu_page_fault() under the TDP MMU, otherwise
// tdp_page_fault()'s / nonpaging_map()'s (or FNAME(page_fault)'s) mmu_lock path.
Task Model::SlowPathFault(VThread& t, int g, bool write) {
  return rules_.mmu == MmuKind::kTdp ? TdpPageFault(t, g, write) : SlowPageFault(t, g, write);
}

// fast_page_fault() + fast_pf_fix_direct_spte(), 3.6 form (spec §3.3).
Task Model::FastPageFault(VThread& t, int g, bool* slow) {
  // F1+F2: walk_shadow_page_lockless_begin() (vcpu->mode =
  // READING_SHADOW_PAGE_TABLES, a full barrier) and the leaf load. A
  // FLUSH_ALL's IPI now waits for this vCPU until F5.
  // The walk stops at a large leaf when one maps g (config large=on); the
  // memslot's dirty-logging state is read with it (kvm_slot_dirty_track_enabled).
  // The gfn to mark is computed from the sp with the load
  // (kvm_mmu_page_get_gfn, before the cmpxchg): sp->gfn + index for a
  // direct sp, sp->gfns[index] for an indirect one (only under the B3
  // mutation; Model::GfnOf).
  int leaf = g;
  int gfn = g;
  bool logging = false;
  const Spte o = co_await At(t, Label::kF2, [&] {
    Store(in_lockless_walk_[t.vcpu], true);
    leaf = LeafOf(g);
    gfn = GfnOf(leaf);
    logging = logging_.load(std::memory_order_acquire);
    return EvLoad(t, leaf);
  });
  bool fix = false;
  if (!IsShadowPresentPte(o)) {
    // The mapping changed under us: "handled", the guest faults again.
  } else if (IsWritablePte(o)) {
    // Spurious fault from a stale read-only TLB entry: handled.
  } else if (!FastPfMayMakeWritable(rules_, o)) {
    *slow = true;  // spte_is_locklessly_modifiable() says no
  } else if (IsLargePte(o) && !FastPfMayFixLarge(rules_, logging)) {
    *slow = true;  // c126d94f2c90: a leaf above the 4K level goes to the slow path
  } else {
    fix = true;
  }
  if (!fix) {
    Store(in_lockless_walk_[t.vcpu], false);  // F5 (walk_shadow_page_lockless_end)
    co_return;
  }
  // F3: cmpxchg64(sptep, spte, spte | W). Direct shadow pages only, so the
  // gfn is immutable (3.6 calls the fast path only from the direct-map
  // fault handlers; spec B3).
  const Spte seen = co_await At(t, Label::kF3, [&] {
    const uint8_t protected_before = native_ ? 0 : WpDoneMask(LeafGfns(leaf, o));
    const Spte m = EvCas(t, leaf, o, o | kSpteW);
    if (m == o) {
      CheckFastPathWrite(t, leaf, o, protected_before, gfn);
    }
    return m;
  });
  if (seen == o && !Failed() && rules_.plant != Plant::kFastPfNoMarkDirty) {
    // F4: mark_page_dirty() for the gfn of the direct sp, only if the CAS won:
    // kvm_mmu_page_get_gfn() of the leaf, for a large leaf its base gfn
    // (slot 0), not the faulting one (B4).
    // Under the B3 mutation `gfn` may no longer be the slot's (an ABA).
    co_await At(t, Label::kF4, [&] { EvMarkPageDirty(t, leaf, gfn); });
  }
  // F5: walk_shadow_page_lockless_end(). The result is "handled" whether or
  // not the CAS won: on failure the guest simply faults again.
  Store(in_lockless_walk_[t.vcpu], false);
}

// tdp_page_fault() slow path -> __direct_map() -> mmu_set_spte() ->
// set_spte() -> mmu_spte_update(), 3.6 direct map (spec §3.4).
Task Model::SlowPageFault(VThread& t, int g, bool write) {
  bool host_writable = true;
  for (;;) {
    // S1: mmu_seq = kvm->mmu_notifier_seq; smp_rmb().
    const uint32_t seq = co_await At(t, Label::kS1, [&] {
      const uint32_t v = notifier_seq_.load(std::memory_order_acquire);  // smp_rmb()
      Rec().event = Event::kNotifier;
      Rec().aux = v;
      return v;
    });
    // S2: gfn_to_pfn(), after the snapshot: the host mapping is writable
    // unless it is a read-only KSM page; a write fault breaks COW with a
    // full MMU-notifier invalidation run by this thread (FaultinPfn), after
    // which this fault, and every other one that snapshotted the sequence
    // before it, retries at S4.
    if (FaultinPfnHasSteps(g, write, &host_writable)) co_await FaultinPfn(t, g, &host_writable);
    if (Failed()) co_return;
    // S3: spin_lock(&kvm->mmu_lock).
    co_await At(t, Label::kS3, [&] { EvLock(t); }, Block::kMmuLock);
    // S4: mmu_notifier_retry(): an invalidation is in progress or happened
    // since S1 -> drop the lock and retry (a spin-wait: let others run).
    const bool invalidating =
        GuardedLoad(t, notifier_count_, "mmu_notifier_count") != 0 || notifier_seq_ != seq;
    if (invalidating && rules_.plant != Plant::kFaultIgnoresNotifier) {
      co_await At(t, Label::kS4, [&] { EvUnlock(t); });
      t.yielded = true;
      continue;
    }
    break;
  }
  // Config large=on: __direct_map() walks down to the mapping level. That is
  // 4K on a slot that logs dirty pages (3.x mapping_level_dirty_bitmap() ->
  // force_pt_level; today kvm_mmu_hugepage_adjust() gives up on a slot with
  // dirty tracking) and when a gfn of the 2M region is a write-protected
  // guest page table (has_wrprotected_page(), later the lpage_info
  // disallow count); otherwise the 2M entry is the leaf and mmu_set_spte()
  // rewrites it (same pfn: no drop). On its way to 4K the walk drops a large
  // leaf at the 2M entry: drop_large_spte() = drop_spte() (the A/D transfer)
  // + kvm_flush_remote_tlbs(). The decision is local: under mmu_lock a large
  // leaf can only gain W, A and D. The model never creates a large leaf
  // where there was none (the 4K -> 2M collapse of mmu_set_spte, which
  // unlinks a page table, is out of scope).
  int slot = g;
  bool large_leaf = false;
  if (large_ && IsShadowPresentPte(spte_[0]) && IsLargePte(spte_[0])) {
    bool force_4k = logging_.load(std::memory_order_acquire);
    for (int h = 0; h < gfns_; ++h) force_4k = force_4k || GuardedLoad(t, shadowed_[h], "the shadowed-gfn table") != 0;
    if (force_4k) {
      co_await MmuSpteClearTrackBits(t, 0);
      if (Failed()) co_return;
      co_await FlushAll(t);
      if (Failed()) co_return;
    } else {
      slot = 0;
      large_leaf = true;
    }
  }
  // S6: mmu_set_spte() reads *sptep. Under the pre-3.6 flush rule this is
  // also the "entry" snapshot set_spte() compares against (the kernel takes
  // it with a separate load at set_spte()'s entry, with no event between).
  const Spte entry = co_await At(t, Label::kS6, [&] { return EvLoad(t, slot); });
  // S7: set_spte() builds the new spte from scratch: present, A (not a
  // prefetch; only with A/D), host-writable, W|MMU_W when the access allows
  // writes, unless the gfn is a shadowed guest page table
  // (mmu_need_write_protect), in which case W|MMU_W stay clear and a write
  // fault is emulated. D is never set here in 3.6.
  Spte n = kSptePresent | (ad_ ? kSpteA : 0) | (host_writable ? kSpteHostW : 0) | (large_leaf ? kSpteLarge : 0);
  bool writable = host_writable;
  bool emulate = false;
  if (writable && GuardedLoad(t, shadowed_[slot], "the shadowed-gfn table") != 0) {
    writable = false;
    emulate = write;
  }
  if (writable) n |= kSpteW | (rules_.plant == Plant::kSlowPathWNoMmuW ? 0 : kSpteMmuW);
  // 9b51a63024bd (4.1): a writable spte is created dirty (Rules::make_spte_d).
  if (writable && ad_ && MakeSpteSetsDirty(rules_, entry)) n |= kSpteD;
  if (writable) {
    // mark_page_dirty(): every writable spte the slow path installs is logged.
    co_await At(t, Label::kS7, [&] {
      // set_spte()'s gfn: for a 2M mapping, the base gfn (nonpaging_map /
      // tdp_page_fault align it to the large page), i.e. slot 0.
      EvMarkPageDirty(t, slot);
      // 0cad68cab113 (6.13): the page is dirtied at the origin of the writable spte.
      if (rules_.page_dirty_at_origin) SetLeafPageDirty(slot, n);
    });
  }
  bool flush = false;
  co_await MmuSpteUpdate(t, slot, n, &flush);
  if (Failed()) co_return;
  GuardedStore(t, rmap_[slot], 1, "the rmap");  // rmap_add (under mmu_lock)
  if (rules_.flush_rule == FlushRule::kSnapshotW) {
    // Pre-3.6 set_spte(): "if we overwrite a writable spte with a read-only
    // one we should flush remote TLBs" decided from the entry snapshot and a
    // re-read of *sptep (the check quoted in the seed mail).
    const Spte cur = co_await At(t, Label::kS9, [&] { return EvLoad(t, slot); });
    flush = IsWritablePte(entry) && !IsWritablePte(cur);
  }
  if (flush) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kS11, [&] { EvUnlock(t); });
  if (emulate && !Failed()) {
    // The write to a shadowed guest page table is emulated: kvm_write_guest()
    // writes through the host mapping and marks the gfn dirty in the slot.
    co_await At(t, Label::kE1, [&] {
      EvMarkPageDirty(t, g);
      Rec().flags |= kTraceEmulated;
    });
    t.emulated = true;
  }
}

// mmu_spte_update() (UPD-U, spec §3.5). *flush: the helper's flush verdict
// (UpdateNeedsFlush: 3.6 W(old) && !W(new), later variants of spec §5.2).
// With !track it is mmu_spte_update_no_track() (4.12+, used by aging).
Task Model::MmuSpteUpdate(VThread& t, int g, Spte n, bool* flush, bool track) {
  // U1: old = *sptep.
  const Spte o = co_await At(t, Label::kU1, [&] { return EvLoad(t, g); });
  if (!IsShadowPresentPte(o)) {
    // mmu_spte_set(): non-present -> present is a plain store.
    co_await At(t, Label::kU2, [&] { EvStore(t, g, n, o); });
    *flush = false;
    co_return;
  }
  Spte new_spte = n;
  bool plain = !SpteHasVolatileBits(rules_, o, ad_);
  if (rules_.update_rule == UpdateRule::kPre36) {
    // 3.4-era mmu_spte_update(): keep the old D, and skip the xchg when the
    // new value already holds A (and D if the old spte was writable).
    new_spte |= o & kSpteD;
    Spte mask = ad_ ? kSpteA : 0;
    if (IsWritablePte(o) && ad_) mask |= kSpteD;
    plain = plain || (new_spte & mask) == mask;
  }
  Spte old = o;
  if (plain) {
    // __update_clear_spte_fast(): a plain store; `old` stays the U1 value
    // even if hardware or the fast path changed the spte since.
    co_await At(t, Label::kU2, [&] { EvStore(t, g, new_spte, o); });
  } else {
    // __update_clear_spte_slow(): xchg, whose result is the real old value.
    old = co_await At(t, Label::kU2, [&] { return EvXchg(t, g, new_spte); });
  }
  *flush = UpdateNeedsFlush(rules_, old, new_spte, ad_);
  if (!track) co_return;
  if (rules_.update_rule == UpdateRule::kV412) {
    // 4.12+: is_accessed_spte()/is_dirty_spte(), also with A/D off.
    if (IsAccessedSpte(old, ad_) && !IsAccessedSpte(new_spte, ad_)) SetLeafPageAccessed(g, old);
    if (IsDirtySpte(old, ad_) && !IsDirtySpte(new_spte, ad_)) SetLeafPageDirty(g, old);
  } else if (ad_) {
    // Tracking only when the spte format has A/D bits (shadow_accessed_mask
    // != 0): a cleared A or D is transferred to the page. Done with the
    // store's step: only lock holders and the writeback (after taking the
    // lock through invalidate_range_start) look at it.
    if ((old & kSpteA) && !(new_spte & kSpteA)) SetLeafPageAccessed(g, old);
    if ((old & kSpteD) && !(new_spte & kSpteD)) SetLeafPageDirty(g, old);
  }
}

// mmu_spte_clear_track_bits() (UPD-Z): zap a leaf, transfer A/D to the page.
Task Model::MmuSpteClearTrackBits(VThread& t, int g, Spte* old_out) {
  const Spte o = co_await At(t, Label::kZ1, [&] { return EvLoad(t, g); });
  Spte old = o;
  // 3.6 transfers "dirty" when A/D are off or D is set; 4.12+ uses
  // is_dirty_spte()/is_accessed_spte() (W / not access-tracked with A/D off).
  const bool v412 = rules_.update_rule == UpdateRule::kV412;
  auto track = [&](Spte m) {
    if (!IsShadowPresentPte(m)) return;
    // A large leaf's pfn is the head of its compound page (SetLeafPageDirty).
    if (v412 ? IsDirtySpte(m, ad_) : (!ad_ || (m & kSpteD))) SetLeafPageDirty(g, m);
    if (v412 ? IsAccessedSpte(m, ad_) : (!ad_ || (m & kSpteA))) SetLeafPageAccessed(g, m);
  };
  if (!SpteHasVolatileBits(rules_, o, ad_)) {
    co_await At(t, Label::kZ2, [&] {
      EvStore(t, g, 0, o);
      track(o);
    });
  } else {
    old = co_await At(t, Label::kZ2, [&] {
      const Spte m = EvXchg(t, g, 0);
      track(m);
      return m;
    });
  }
  if (old_out != nullptr) *old_out = old;
  GuardedStore(t, rmap_[g], 0, "the rmap");  // drop_spte(): rmap_remove
}

// spte_write_protect() (3.6) / rmap_write_protect() (pre-3.6): W1 + UPD-U.
Task Model::SpteWriteProtect(VThread& t, int g, bool pt_protect, bool* flush) {
  const Spte x = co_await At(t, Label::kW1, [&] { return EvLoad(t, g); });
  Spte n = x & ~kSpteW;
  if (rules_.wp_rule == WpRule::kPtProtect) {
    // 3.6: skip only if neither W nor (pt_protect and lockless-modifiable).
    if (!IsWritablePte(x) && !(pt_protect && IsHostWritable(x) && IsMmuWritableSpte(x))) co_return;
    if (pt_protect) n &= ~kSpteMmuW;
  } else {
    // Pre-3.6 / v5: a read-only spte is skipped, whatever its MMU_W.
    if (!IsWritablePte(x)) co_return;
    if (pt_protect) n &= ~kSpteMmuW;
  }
  if (IsLargePte(x) && rules_.large_wp == LargeWp::kDrop) {
    // 3.6 spte_write_protect() (and 3.5's rmap_write_protect()): a large
    // leaf is dropped (__drop_large_spte) instead, and a flush reported.
    co_await MmuSpteClearTrackBits(t, g);
    *flush = true;
    co_return;
  }
  bool f = false;
  co_await MmuSpteUpdate(t, g, n, &f);
  if (rules_.flush_rule == FlushRule::kSnapshotW) {
    *flush = true;  // reported from the pre-read W (it was set)
  } else {
    *flush = *flush || f;  // "*flush |= mmu_spte_update(sptep, spte)"
  }
}

// spte_clear_dirty() (4.1+, PML): D1 reads the spte, then mmu_spte_update()
// with D cleared; *flush gets the update's flush verdict. In 4.1
// __rmap_clear_dirty() calls it for every spte of the rmap, dirty or not.
Task Model::SpteClearDirty(VThread& t, int g, bool* flush) {
  const Spte x = co_await At(t, Label::kD1, [&] { return EvLoad(t, g); });
  bool f = false;
  co_await MmuSpteUpdate(t, g, x & ~kSpteD, &f);
  *flush = *flush || f;
}

// vmx_handle_exit(): "if (enable_pml) vmx_flush_pml_buffer(vcpu)" before the
// exit is handled (spec §3.1 "PML drain"). The buffer is the vCPU's own: an
// empty one costs no step (the check is local, like reading GUEST_PML_INDEX).
Task Model::VmExitFlushPml(VThread& t) {
  if (!PmlToDrain(t)) co_return;
  co_await At(t, Label::kPX, [&] {
    const uint8_t marked = PmlDrain(t.vcpu);
    if (native_) return;
    TraceStep& r = Rec();
    r.event = Event::kPmlFlush;
    r.vcpu = t.vcpu;
    r.aux = marked;
  });
}

// kvm_flush_remote_tlbs(): request + IPI + wait for every vCPU. The IPI to a
// vCPU in a lockless walk (fast page fault, F1..F5) waits until it ends.
// kvm->tlbs_dirty (a4ee1ca4a36e): its value is read before the requests go
// out and cmpxchg'ed to 0 after the last one (folded into the first and last
// FL steps), so increments made meanwhile survive for the next flush.
Task Model::FlushAll(VThread& t) {
  uint32_t dirty_snapshot = 0;
  for (int v = 0; v < vcpus_; ++v) {
    co_await At(t, Label::kFL, [&] {
      if (v == 0) dirty_snapshot = tlbs_dirty_.load();
      EvFlushVcpu(t, v);
      if (v == vcpus_ - 1) tlbs_dirty_.compare_exchange_strong(dirty_snapshot, 0);
    }, Block::kFlushVcpu, static_cast<uint8_t>(v));
  }
}

// kvm_mmu_notifier_invalidate_range_start()/_end() (spec §3.8), and with
// `writeback` the host writeback helper of spec §3.11 between the two.
// `host` is what the primary MMU does to g's host pte while the range is
// invalidated (under its page-table lock, after range_start returned and
// before range_end): nothing, a KSM merge, or a COW break. Run by a kernel
// thread, or by a faulting vCPU thread whose pfn lookup breaks COW
// (FaultinPfn).
Task Model::Invalidate(VThread& t, int g, bool writeback, HostPteChange host) {
  co_await At(t, Label::kN1, [&] {
    EvLock(t);
    GuardedStore(t, notifier_count_, GuardedLoad(t, notifier_count_, "mmu_notifier_count") + 1, "mmu_notifier_count");
  }, Block::kMmuLock);
  bool flush = false;
  if (rules_.mmu == MmuKind::kTdp) {
    // kvm_tdp_mmu_unmap_gfn_range() -> tdp_mmu_zap_leafs() under the write lock.
    const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
    if (IsShadowPresentPte(o)) {
      (void)co_await TdpSetSpte(t, g, o, 0, 0);
      flush = true;
    }
  } else if (GuardedLoad(t, rmap_[LeafOf(g)], "the rmap")) {
    // kvm_unmap_rmapp(): drop every spte in the page's rmaps, of every level
    // (kvm_handle_hva_range walks 4K up to the largest huge page level): a
    // large leaf that maps g goes too.
    co_await MmuSpteClearTrackBits(t, LeafOf(g));
    flush = true;
  }
  if (Failed()) co_return;
  // "if (need_tlb_flush || kvm->tlbs_dirty)": sync_page's deferred flushes
  // are done before the pages can be freed (a4ee1ca4a36e; 88bf56d04bc3).
  if (flush || tlbs_dirty_.load() != 0) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kN2, [&] {
    EvUnlock(t);
    // The primary MMU now switches g's host pte (ptep_clear_flush_notify +
    // set_pte_at_notify in wp_page_copy(); set_pte_at in replace_page()).
    if (host != HostPteChange::kNone) host_ro_[g] = host == HostPteChange::kKsmMerge;
    if (native_) {
      NativeLog(t, NativeEvent::kInvReturn, g);
      return;
    }
    if (Failed()) return;
    inv_window_[g] = true;
    inv_returned_at_[g] = now_;
    // I7: when range_start returns, no spte and no TLB entry maps the page.
    const int leaf = LeafOf(g);
    if (IsShadowPresentPte(spte_[leaf].load(std::memory_order_relaxed))) {
      Fail(Invariant::kZapIncomplete,
           absl::StrCat("invalidate_range_start by ", ThreadName(t.index), " returned at N2 but spte g", leaf, " is {",
                        SpteToString(spte_[leaf]), "}"),
           {spte_changed_at_[leaf]});
    }
    for (int v = 0; v < vcpus_ && !Failed(); ++v) {
      if (tlb_[v][g].valid) {
        Fail(Invariant::kZapIncomplete,
             absl::StrCat("invalidate_range_start by ", ThreadName(t.index), " returned at N2 but vcpu", v,
                          " still caches a translation of g", g, " filled at ", StepRef(tlb_[v][g].fill_step)),
             {tlb_[v][g].fill_step});
      }
    }
  });
  if (Failed()) co_return;
  if (writeback) {
    // Host writeback: test-and-clear the page's dirty flag (spec §3.11).
    co_await At(t, Label::kWB, [&] {
      TraceStep& r = Rec();
      r.event = Event::kPageDirty;
      r.gfn = static_cast<uint8_t>(g);
      // The host holds the page lock across the test-and-clear
      // (folio_clear_dirty_for_io() wants the folio locked), so two
      // writebacks of one page are ordered. Native mode stamps the log under
      // that lock: the end-of-round I2 check sees the clears in their real
      // order (an unlocked stamp let a later clear that found the page clean
      // look earlier than the clear that took the dirty bit).
      if (native_) NativeLockAcquire(native_page_lock_[g]);
      const bool dirty = Exchange(page_dirty_[g], false);
      r.aux = dirty ? 1 : 0;
      if (native_) {
        if (native_wb_pause_for_test != nullptr) native_wb_pause_for_test(t.index);
        NativeLog(t, NativeEvent::kWbRead, g, dirty ? 1 : 0);
        native_page_lock_[g].store(false, std::memory_order_release);
        return;
      }
      // I2: every write since the previous writeback cleared the flag, up to
      // the invalidation's return, must have left the page dirty.
      const uint32_t w = last_write_[g];
      if (!dirty && w != 0 && w > wb_cleared_at_[g] && w <= inv_returned_at_[g]) {
        Fail(Invariant::kLostPageDirty,
             absl::StrCat(ThreadName(t.index), " wrote back g", g, " at WB and found the page clean, but g", g,
                          " was written at ", StepRef(w), " before the invalidation returned at ",
                          StepRef(inv_returned_at_[g]), "; the dirty state was dropped at ",
                          StepRef(spte_changed_at_[g])),
             {w, spte_changed_at_[g]});
      }
      wb_cleared_at_[g] = now_;
    });
    if (Failed()) co_return;
  }
  co_await At(t, Label::kN3, [&] {
    EvLock(t);
    FetchAdd(notifier_seq_, 1);
    GuardedStore(t, notifier_count_, GuardedLoad(t, notifier_count_, "mmu_notifier_count") - 1, "mmu_notifier_count");
    if (native_) {
      NativeLog(t, NativeEvent::kInvEnd, g);
    } else {
      inv_window_[g] = false;
    }
  }, Block::kMmuLock);
  co_await At(t, Label::kN4, [&] { EvUnlock(t); });
}

// kvm_mmu_notifier_clear_flush_young() -> kvm_age_rmapp() (spec §3.9, 3.6);
// with `clear_young`, kvm_mmu_notifier_clear_young(): the same without the
// flush. The TDP MMU's kvm_tdp_mmu_age_gfn_range() and 4.12's mmu_spte_age()
// for sptes without A/D bits are in actors_modern.cc.
Task Model::Age(VThread& t, int g, bool clear_young) {
  if (rules_.mmu == MmuKind::kTdp && rules_.tdp_age == TdpAge::kLockless) {
    return TdpAgeLockless(t, g);  // 6.15: no mmu_lock, no flush
  }
  return AgeLocked(t, g, clear_young);
}

// kvm_mmu_notifier_clear_flush_young() / _clear_young() under mmu_lock:
// kvm_age_rmapp(), or kvm_tdp_mmu_age_gfn_range() before 6.15's lockless
// TDP aging.
Task Model::AgeLocked(VThread& t, int g, bool clear_young) {
  if (rules_.plant == Plant::kAgePeeksRmapUnlocked) {
    // Test-only mutation: peek at the rmap before taking mmu_lock.
    co_await At(t, Label::kA1, [&] {
      Rec().gfn = static_cast<uint8_t>(g);
      return GuardedLoad(t, rmap_[g], "the rmap");
    });
    if (Failed()) co_return;
  }
  co_await At(t, Label::kA1, [&] { EvLock(t); }, Block::kMmuLock);
  // I5 bookkeeping: a walk since the previous aging pass must make this one young.
  const uint32_t walked = native_ ? 0 : last_walk_[g];
  if (!native_) last_walk_[g] = 0;
  bool young = false;
  if (rules_.mmu == MmuKind::kTdp) {
    co_await TdpAgeGfn(t, g, &young);
  } else if (GuardedLoad(t, rmap_[LeafOf(g)], "the rmap")) {
    // kvm_age_rmapp() for the rmaps of every level: a large leaf that maps g
    // is aged (or zapped) as a whole.
    const int leaf = LeafOf(g);
    if (!ad_ && rules_.age_ad_off == AgeAdOff::kAccessTrack) {
      co_await ShadowAgeAccessTrack(t, leaf, &young);
    } else if (!ad_) {
      // No A/D bits: kvm_unmap_rmapp(), every zapped spte counts as young.
      co_await MmuSpteClearTrackBits(t, leaf);
      young = true;
    } else {
      const Spte o = co_await At(t, Label::kA2, [&] { return EvLoad(t, leaf); });
      if (o & kSpteA) {
        young = true;
        co_await At(t, Label::kA3, [&] { EvAnd(t, leaf, ~kSpteA); });  // clear_bit(PT_ACCESSED_SHIFT)
      }
    }
  }
  if (Failed()) co_return;
  if (rules_.strict_a && walked != 0 && !young) {
    Fail(Invariant::kLostAccessed,
         absl::StrCat("aging of g", g, " by ", ThreadName(t.index), " reported old, but a hardware walk accessed g", g,
                      " at ", StepRef(walked)),
         {walked});
    co_return;
  }
  if (young && rules_.age_flush && !clear_young) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kA4, [&] { EvUnlock(t); });
}

// account_shadowed() + rmap_write_protect() + flush (spec §3.7): g becomes a
// guest page table that KVM shadows and write-protects.
Task Model::WriteProtectPageTable(VThread& t, int g) {
  co_await At(t, Label::kP1, [&] {
    EvLock(t);
    GuardedStore(t, shadowed_[g], 1, "the shadowed-gfn table");
  }, Block::kMmuLock);
  bool flush = false;
  if (rules_.mmu == MmuKind::kTdp) {
    // kvm_tdp_mmu_write_protect_gfn() -> write_protect_gfn(); the caller
    // flushes if it changed anything.
    co_await TdpWriteProtectGfn(t, g, &flush);
  } else if (GuardedLoad(t, rmap_[LeafOf(g)], "the rmap")) {
    // rmap_write_protect() walks g's rmaps of every level: a large leaf that
    // maps g is write-protected (or dropped, Rules::large_wp) too.
    co_await SpteWriteProtect(t, LeafOf(g), /*pt_protect=*/true, &flush);
  }
  if (Failed()) co_return;
  wp_done_[g] = true;
  // P3: the flush must happen before the lock is dropped (I10).
  if (flush) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kP4, [&] {
    EvUnlock(t);
    if (native_) {
      NativeLog(t, NativeEvent::kProtected, g);
      return;
    }
    if (Failed()) return;
    pt_protected_[g] = true;
    pt_protected_at_[g] = now_;
    for (int v = 0; v < vcpus_ && !Failed(); ++v) {
      if (tlb_[v][g].valid && tlb_[v][g].w) {
        Fail(Invariant::kStaleTlbAfterPtProtect,
             absl::StrCat(ThreadName(t.index), " released mmu_lock at P4 with g", g,
                          " write-protected as a page table, but vcpu", v, " still caches a writable translation filled at ",
                          StepRef(tlb_[v][g].fill_step)),
             {tlb_[v][g].fill_step});
      }
    }
  });
}

// __kvm_set_memory_region(LOG_DIRTY_PAGES) -> kvm_mmu_slot_remove_write_access()
// (spec §3.6, 3.6: under mmu_lock, unconditional flush).
Task Model::EnableDirtyLog(VThread& t) {
  // L1: take slots_lock; the new memslot with its dirty bitmap is published,
  // so mark_page_dirty() logs from here on.
  const bool was_logging = co_await At(t, Label::kL1, [&] {
    if (native_) NativeLockAcquire(slots_spin_);
    slots_lock_holder_ = t.index;
    Rec().event = Event::kSlot;
    return Exchange(logging_, true);
  }, Block::kSlotsLock);
  if (was_logging) {
    ReleaseSlotsLock();  // nothing changes for a slot that already logs
    co_return;
  }
  // 3.6: the caller holds mmu_lock. 3.15+: the rmap walk takes it itself;
  // the TDP MMU's kvm_tdp_mmu_wrprot_slot() runs under the read lock with
  // cmpxchg (5.12+).
  const bool tdp = rules_.mmu == MmuKind::kTdp;
  if (tdp) {
    co_await At(t, Label::kL2, [&] { EvReadLock(t); }, Block::kMmuRead);
  } else {
    co_await At(t, Label::kL2, [&] { EvLock(t); }, Block::kMmuLock);
  }
  dlog_processed_ = 0;
  bool changed = false;
  for (int g = 0; g < gfns_; ++g) {
    // With PML (kvm_mmu_slot_apply_flags, 4.1+): kvm_mmu_slot_leaf_clear_dirty()
    // clears D instead of W of 4K leaves, and kvm_mmu_slot_largepage_remove_write_access()
    // write-protects large ones (vmx_slot_enable_log_dirty). Without PML,
    // kvm_mmu_slot_remove_write_access() write-protects every level. Slot 0
    // holds the large leaf (config large=on); the other gfns' rmaps are
    // empty while it is present.
    if (tdp) {
      co_await TdpWrprotForLog(t, g, pml_ ? kSpteD : kSpteW, &changed);
      if (Failed()) co_return;
    } else if (GuardedLoad(t, rmap_[g], "the rmap")) {
      bool f = false;
      if (pml_ && !(large_ && g == 0 && IsLargePte(spte_[0]))) {
        co_await SpteClearDirty(t, g, &f);  // __rmap_clear_dirty()
      } else {
        co_await SpteWriteProtect(t, g, /*pt_protect=*/false, &f);
      }
      if (Failed()) co_return;
      changed = changed || f;
    }
    dlog_processed_ |= static_cast<uint8_t>(1u << g);
    dlog_done_at_[g] = now_;
  }
  auto returns = [&] {
    if (native_) {
      // I4's bookkeeping belongs to the slots_lock holder: reset it before
      // the lock is dropped (after it, a harvest on another OS thread may
      // already be writing it).
      dlog_processed_ = 0;
      ReleaseSlotsLock();
      NativeLog(t, NativeEvent::kLogEnabled, 0);
      return;
    }
    ReleaseSlotsLock();
    log_enabled_at_ = now_;
    if (!Failed()) CheckDirtyLogReturn(t);
    dlog_processed_ = 0;
  };
  if (rules_.enable_log_flush == EnableLogFlush::kInsideLockAlways) {
    co_await FlushAll(t);
    if (Failed()) co_return;
    co_await At(t, Label::kL3, [&] {
      EvUnlock(t);
      returns();
    });
    co_return;
  }
  co_await At(t, Label::kL5, [&] {
    if (tdp) {
      EvReadUnlock(t);
    } else {
      EvUnlock(t);
    }
  });
  if (Failed()) co_return;
  // kvm_mmu_slot_apply_flags(): before b64d740ea7dd only "if (flush)", the
  // OR of what the write-protect walks reported (B8); after it, always.
  if (changed || rules_.enable_log_flush == EnableLogFlush::kAfterUnlockAlways) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kL6, [&] {
    Rec().event = Event::kSlot;
    returns();
  });
}

// kvm_vm_ioctl_get_dirty_log() (x86.c, 3.6; spec §3.6 G1..G5).
Task Model::GetDirtyLog(VThread& t) {
  co_await At(t, Label::kG1, [&] {
    if (native_) NativeLockAcquire(slots_spin_);
    slots_lock_holder_ = t.index;
    EvLock(t);
  }, Block::kMmuAndSlots);
  if (!logging_.load(std::memory_order_acquire)) {
    // No dirty bitmap: the ioctl fails with -ENOENT.
    co_await At(t, Label::kG4, [&] {
      EvUnlock(t);
      ReleaseSlotsLock();
    });
    co_return;
  }
  if (pml_) {
    // PK: kvm_arch_sync_dirty_log() kicks every vCPU and does not wait; the
    // VM exit drains the vCPU's PML buffer (vmx_flush_pml_buffer). Modeled as
    // one step that drains every buffer: drains of different vCPUs commute,
    // and a drain that the real kick leaves until after G2 only moves a
    // report to the next harvest. (The kernel kicks before taking mmu_lock;
    // the drain touches nothing mmu_lock guards, so the order against lock
    // holders does not matter.)
    co_await At(t, Label::kPK, [&] {
      uint8_t marked = 0;
      for (int v = 0; v < vcpus_; ++v) marked |= PmlDrain(v);
      if (native_) return;
      Rec().event = Event::kPmlFlush;
      Rec().aux = marked;
    });
  }
  // G2: a word that reads non-zero is fetched and cleared with xchg.
  const uint8_t m = co_await At(t, Label::kG2, [&] {
    TraceStep& r = Rec();
    r.event = Event::kBmXchg;
    const uint8_t w = Exchange(bitmap_, 0);
    r.aux = w;
    return w;
  });
  // Bits are gfns; what I4 checks is per spte slot (TLB entries are per
  // slot). With indirect=on a gfn maps to the slot whose sp->gfns[] names
  // it (the gfn's rmap), or to none (its rmap is empty after a remap).
  dlog_processed_ = 0;
  for (uint8_t b = m; b != 0; b &= b - 1) {
    const int s = SlotOfGfn(__builtin_ctz(b));
    if (s >= 0) dlog_processed_ |= static_cast<uint8_t>(1u << s);
  }
  // What the per-gfn clears reported (only the if-changed mutation uses it).
  bool changed = false;
  for (int gfn = 0; gfn < 2 * kMaxGfns; ++gfn) {
    if (!((m >> gfn) & 1)) continue;
    // slot_gfn_ changes only under mmu_lock, which the harvest holds.
    const int g = SlotOfGfn(gfn);
    if (g < 0) continue;
    // kvm_arch_mmu_enable_log_dirty_pt_masked(): without PML
    // kvm_mmu_write_protect_pt_masked() (4K rmap, pt_protect=false, the
    // flush verdict is ignored: the flush below covers it); with PML
    // kvm_mmu_clear_dirty_pt_masked() -> __rmap_clear_dirty(). TDP MMU:
    // kvm_tdp_mmu_clear_dirty_pt_masked() -> clear_dirty_pt_masked(): clears
    // W of a writable leaf (wrprot) or D of a dirty one (PML) with the
    // write-lock setter, and skips a leaf with nothing to clear.
    if (rules_.mmu == MmuKind::kTdp) {
      const Spte bit = pml_ ? kSpteD : kSpteW;
      const Spte o = co_await At(t, Label::kT0, [&] { return EvLoad(t, g); });
      if (IsShadowPresentPte(o) && (o & bit) != 0) {
        (void)co_await TdpSetSpte(t, g, o, o & ~bit, bit);
        if (Failed()) co_return;
        changed = true;
      }
    } else if (Has4kRmap(t, g)) {
      // Only the 4K rmap of g, in every kernel modeled (see Rules): a large
      // leaf that maps g is left as it is (spec S4 step 3).
      bool f = false;
      if (pml_) {
        co_await SpteClearDirty(t, g, &f);
      } else {
        co_await SpteWriteProtect(t, g, /*pt_protect=*/false, &f);
      }
      if (Failed()) co_return;
      changed = changed || f;
    }
    dlog_done_at_[g] = now_;
  }
  const bool inside =
      rules_.harvest_flush == HarvestFlush::kInsideLock || rules_.harvest_flush == HarvestFlush::kNever;
  // kvm_get_dirty_log_protect(): flush if any bitmap word was non-zero. The
  // mutations of spec S11 also need a clear to have reported a change (in
  // PML mode only, for if-d-cleared).
  const bool conditional = rules_.harvest_flush == HarvestFlush::kAfterUnlockIfChanged ||
                           (rules_.harvest_flush == HarvestFlush::kAfterUnlockIfDCleared && pml_);
  const bool flush = m != 0 && rules_.harvest_flush != HarvestFlush::kNever && (!conditional || changed);
  if (flush && inside) co_await FlushAll(t);
  if (Failed()) co_return;
  co_await At(t, Label::kG4, [&] {
    EvUnlock(t);
    if (inside) ReleaseSlotsLock();
  });
  if (Failed()) co_return;
  if (flush && !inside) {
    co_await FlushAll(t);  // 198c74f43f0f: after spin_unlock, before returning
    if (Failed()) co_return;
  }
  if (!inside) ReleaseSlotsLock();
  // G5: copy_to_user: the harvest returns (atomically with its last step).
  if (native_) {
    NativeLog(t, NativeEvent::kHarvestReturn, 0, m);
    co_return;
  }
  for (int g = 0; g < 2 * kMaxGfns; ++g) {
    if ((m >> g) & 1) reported_until_[g] = now_;
  }
  CheckDirtyLogReturn(t);
  dlog_processed_ = 0;
}

}  // namespace sptefuzz

namespace sptefuzz {

// Op remap: the guest stores a new PTE into a guest page table that KVM
// shadows with an indirect sp (config indirect=on). The table is
// write-protected, so the store is emulated (emulator_write_phys: the guest
// memory write, then kvm_mmu_pte_write()). 3.6 kvm_mmu_pte_write(), for the
// sp shadowing the table, under mmu_lock:
//   * mmu_page_zap_pte() of the written slot: drop_spte(), i.e. the A/D
//     transfer of mmu_spte_clear_track_bits() and rmap_remove();
//   * mmu_pte_write_new_pte() -> FNAME(update_pte): the new PTE is
//     prefetched at once: gfn_to_pfn_atomic() of the new gfn (the same host
//     page, page reuse, spec S3) and mmu_set_spte(speculative, host
//     writable): set_spte() builds P|HOST_W (no A: speculative), W|MMU_W
//     (the guest PTE is writable and dirty), marks the new gfn dirty, and
//     rmap_add() records the gfn in sp->gfns[] (kvm_mmu_page_set_gfn);
//   * need_remote_flush(old, new): only if a present spte went away, its
//     pfn changed or it lost a permission; otherwise only the writing
//     vCPU's own TLB is flushed (mmu_pte_write_flush_tlb ->
//     kvm_mmu_flush_tlb). Other vCPUs may keep the old translation: same
//     page, no more rights than the new spte gives, so I10 accepts it.
// gfn_to_pfn_atomic() fails while an invalidation is in progress (the host
// pte is being changed) or for a read-only host page (the model's KSM
// page, whose atomic lookup would not give a host-writable pfn): then no
// prefetch, the slot stays empty and the zap is flushed remotely; the next
// fault maps the new gfn. The guest page table's own gfn is not one of the
// modeled gfns. Without indirect=on (a direct map) the store is not
// trapped: one step R0.
Task Model::Remap(VThread& t, int g) {
  if (!indirect_) {
    co_await At(t, Label::kR0, [&] {
      Rec().gfn = static_cast<uint8_t>(g);
      Rec().vcpu = t.vcpu;
    });
    co_return;
  }
  co_await At(t, Label::kR1, [&] { EvLock(t); }, Block::kMmuLock);
  Spte old = 0;
  if (GuardedLoad(t, rmap_[g], "the rmap")) {
    co_await MmuSpteClearTrackBits(t, g, &old);
    if (Failed()) co_return;
  }
  // The guest PTE now names the slot's other gfn (same host page).
  const int new_gfn = GfnOf(g) == g ? g + kMaxGfns : g;
  slot_gfn_[g] = static_cast<uint8_t>(new_gfn);
  Spte n = 0;
  const bool prefetch =
      GuardedLoad(t, notifier_count_, "mmu_notifier_count") == 0 && !host_ro_[g].load(std::memory_order_relaxed);
  if (prefetch) {
    n = kSptePresent | kSpteHostW | kSpteW | kSpteMmuW;
    // 9b51a63024bd (4.1) and later: a writable spte is created dirty
    // (mmu_set_spte() sees the slot empty: the zap came first).
    if (ad_ && MakeSpteSetsDirty(rules_, 0)) n |= kSpteD;
    co_await At(t, Label::kS7, [&] {
      EvMarkPageDirty(t, g);  // set_spte(): mark_page_dirty() of the new gfn
      if (rules_.page_dirty_at_origin) SetLeafPageDirty(g, n);
    });
    bool unused = false;
    co_await MmuSpteUpdate(t, g, n, &unused);
    if (Failed()) co_return;
    GuardedStore(t, rmap_[g], 1, "the rmap");  // rmap_add
  }
  // need_remote_flush(): the pfn is the same, so a flush is needed iff a
  // present spte is gone or lost W (PT64_PERM_MASK, P and W in the model).
  const bool remote = IsShadowPresentPte(old) &&
                      (!IsShadowPresentPte(n) || (IsWritablePte(old) && !IsWritablePte(n)));
  if (remote) {
    co_await FlushAll(t);
    if (Failed()) co_return;
  } else if (IsShadowPresentPte(old)) {
    DeferHoldClears(g);  // the old translation stays valid (see above)
  }
  co_await At(t, Label::kR2, [&] {
    // kvm_mmu_flush_tlb(vcpu): local_flush is set once a written spte was found.
    DropTlb(t.vcpu);
    Rec().gfn = static_cast<uint8_t>(g);
    Rec().vcpu = t.vcpu;
    Rec().aux = static_cast<uint32_t>(new_gfn + 1);
    EvUnlock(t);
  });
}

}  // namespace sptefuzz
