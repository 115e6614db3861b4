// Unsync shadow pages: kvm_sync_page() -> FNAME(sync_page) (spec §3.7, bugs
// B9 and B10). Shadow paging lets a level-1 guest page table go unsync (the
// guest writes its PTEs without a trap); on the next CR3 load or INVLPG the
// vCPU re-reads each guest PTE and fixes the shadow page. The model does not
// track guest PTEs or shadow pages: an op states what the guest did to the
// PTE that maps g, and the spte of g stands for the slot in the unsync page.
//
// Behaviour restated from arch/x86/kvm/paging_tmpl.h (FNAME(sync_page)) and
// mmu.c (__kvm_sync_page, set_spte, drop_spte) of 3.x-5.x, a4ee1ca4a36e
// "KVM: MMU: delay flush all tlbs on sync_page path" and f81602958c11 "KVM:
// X86: Fix missed remote tlb flush in rmap_write_protect()"; virt/kvm/kvm_main.c
// (kvm_flush_remote_tlbs, kvm_mmu_notifier_invalidate_range_start) for who
// honours kvm->tlbs_dirty.
#include "core/check.h"
#include "core/model.h"

namespace sptefuzz {

Task Model::SyncPage(VThread& t, int g, bool drop) {
  // The TDP MMU maps guest memory directly: no unsync shadow pages (nested
  // shadow pages for L2 are outside the model), so there is nothing to sync.
  if (rules_.mmu == MmuKind::kTdp) co_return;
  // Y1: mmu_sync_roots()/kvm_mmu_get_page() take mmu_lock around kvm_sync_page().
  co_await At(t, Label::kY1, [&] { EvLock(t); }, Block::kMmuLock);
  bool flush = false;
  // FNAME(sync_page) skips an empty slot ("if (!sp->spt[i]) continue"); the
  // rmap knows whether spte g is there.
  // Unsync shadow pages are 4K page tables: a large leaf is never in one.
  const bool mapped = Has4kRmap(t, g);
  if (mapped && drop) {
    // The guest PTE now maps another gfn (or is invalid: prefetch_invalid_gpte):
    // drop_spte() -> mmu_spte_clear_track_bits() + rmap_remove(); the A/D
    // state goes to the page as with any zap.
    co_await MmuSpteClearTrackBits(t, g);
    if (Failed()) co_return;
    if (rules_.sync_flush == SyncFlush::kTlbsDirty) {
      // a4ee1ca4a36e: no remote flush, kvm->tlbs_dirty++ (after an smp_wmb
      // in later trees). Remote vCPUs may keep the dropped translation
      // until somebody calls kvm_flush_remote_tlbs().
      co_await At(t, Label::kY2, [&] {
        TraceStep& r = Rec();
        r.event = Event::kTlbsDirty;
        r.gfn = static_cast<uint8_t>(g);
        r.aux = FetchAdd(tlbs_dirty_, 1) + 1;
        DeferHoldClears(g);
      });
    } else {
      // f81602958c11 (and before a4ee1ca4a36e): the drop requests a remote
      // flush (SET_SPTE_NEED_REMOTE_TLB_FLUSH), done before sync_page returns.
      flush = true;
    }
  } else if (mapped) {
    // The guest PTE lost its write permission: set_spte(..., speculative=true,
    // can_unsync=false, host_writable) rebuilds the spte from scratch: present,
    // host-writable as before, no W and no MMU-writable (the access forbids
    // writes), no A (speculative), no D; then mmu_spte_update().
    const Spte o = co_await At(t, Label::kY3, [&] { return EvLoad(t, g); });
    if (IsShadowPresentPte(o)) {
      const Spte n = kSptePresent | (o & kSpteHostW);
      bool f = false;
      // sync_tracks_dirty off (B10): the rewrite transfers nothing to the page.
      co_await MmuSpteUpdate(t, g, n, &f, /*track=*/rules_.sync_tracks_dirty);
      if (Failed()) co_return;
      // 3.6 set_spte(): "if (mmu_spte_update(sptep, spte)) kvm_flush_remote_tlbs()";
      // later sync_page ORs set_spte's SET_SPTE_NEED_REMOTE_TLB_FLUSH and flushes
      // at its end. Pre-3.6 set_spte decided from its entry snapshot (W(o)).
      flush = rules_.flush_rule == FlushRule::kSnapshotW ? IsWritablePte(o) : f;
    }
  }
  if (flush) co_await FlushAll(t);
  if (Failed()) co_return;
  // Y4: __kvm_sync_page() ends with kvm_mmu_flush_tlb(vcpu), a request this
  // vCPU honours before it re-enters the guest, which it cannot do before
  // the op ends: its own TLB is emptied here. Then mmu_lock is dropped.
  co_await At(t, Label::kY4, [&] {
    if (native_) {
      flush_req_[t.vcpu].store(true, std::memory_order_seq_cst);
    } else {
      DropTlb(t.vcpu);
      Rec().vcpu = t.vcpu;
    }
    EvUnlock(t);
  });
}

void Model::DeferHoldClears(int g) {
  // I10 (spec §3.2 rule 1) wants a zap flushed before the unlock. The
  // tlbs_dirty contract of a4ee1ca4a36e is that the flush may come later
  // (any kvm_flush_remote_tlbs, and every invalidation before the page is
  // freed); what that breaks is judged downstream: I3 at the next page-table
  // write protection (B9), I7 at an invalidation that would not flush.
  int kept = 0;
  for (int i = 0; i < n_hold_clears_; ++i) {
    if (hold_clears_[i].g == g && hold_clears_[i].zap) continue;
    hold_clears_[kept++] = hold_clears_[i];
  }
  n_hold_clears_ = kept;
}

}  // namespace sptefuzz
