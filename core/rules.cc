#include "core/rules.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sptefuzz {

bool SpteHasVolatileBits(const Rules& rules, Spte s, bool ad_enabled) {
  const bool present = IsShadowPresentPte(s);
  const bool a = (s & kSpteA) != 0;
  const bool d = (s & kSpteD) != 0;
  const bool w = IsWritablePte(s);
  switch (rules.volatile_rule) {
    case VolatileRule::kPre36:
      // v3.5 spte_has_volatile_bits(): no A/D -> never; not present -> never;
      // A set and (read-only or already dirty) -> hardware has nothing left to set.
      return ad_enabled && present && !(a && (!w || d));
    case VolatileRule::kAvi:
      // Avi Kivity, fast-PF v5 review (seed/): replace the early return above by
      // one that only fires when both A and D are set ("intended" reading).
      return ad_enabled && present && !(a && d);
    case VolatileRule::kAviLiteral:
      // The same suggestion with the polarity as typed in the mail:
      // "if (~spte & (accessed|dirty)) return false".
      return ad_enabled && present && (a && d);
    case VolatileRule::kV36:
      // 3.6 spte_has_volatile_bits() (c7ba5b48cc8d): an spte the fast path may
      // make writable (spte_is_locklessly_modifiable) is always volatile, checked
      // before every early return.
      if (IsHostWritable(s) && IsMmuWritableSpte(s)) return true;
      return ad_enabled && present && (!a || (w && !d));
    case VolatileRule::kV412:
      // 4.12 spte_has_volatile_bits() (f160c7b7bb32): an access-tracked spte can
      // be restored by the fast path, so it is volatile too.
      if (!present) return false;
      if ((IsHostWritable(s) && IsMmuWritableSpte(s)) || IsAccessTrackSpte(s)) return true;
      return ad_enabled && (!a || (w && !d));
    case VolatileRule::kV518:
      // 706c9c55e5a3: only a read-only MMU-writable spte can gain W locklessly.
      if (!present) return false;
      if ((!w && IsMmuWritableSpte(s)) || IsAccessTrackSpte(s)) return true;
      return ad_enabled && (!a || (w && !d));
    case VolatileRule::kV613:
      // spte_needs_atomic_update(): a lost A is tolerated, a lost W or D is not.
      if (!present) return false;
      if ((!w && IsMmuWritableSpte(s)) || IsAccessTrackSpte(s)) return true;
      return ad_enabled && w && !d;
    case VolatileRule::kV615:
      // "Always update A/D-disable SPTEs atomically": lockless aging may clear
      // R/W/X of any A/D-disabled spte at any time.
      if (!present) return false;
      if (!w && IsMmuWritableSpte(s)) return true;
      return !ad_enabled || (w && !d);
  }
  return true;
}

bool UpdateNeedsFlush(const Rules& rules, Spte old, Spte n, bool ad_enabled) {
  const bool lost_w = IsWritablePte(old) && !IsWritablePte(n);
  const bool lockless_w = IsHostWritable(old) && IsMmuWritableSpte(old);
  switch (rules.flush_rule) {
    case FlushRule::kSnapshotW:
    case FlushRule::kOldW:
      return lost_w;
    case FlushRule::kOldHostMmuW:
      return lockless_w && !IsWritablePte(n);
    case FlushRule::kV41:
      return (lockless_w && !IsWritablePte(n)) ||
             (ad_enabled && (((old & kSpteA) && !(n & kSpteA)) || ((old & kSpteD) && !(n & kSpteD))));
    case FlushRule::kV412:
      return (lockless_w && !IsWritablePte(n)) ||
             (IsAccessedSpte(old, ad_enabled) && !IsAccessedSpte(n, ad_enabled)) ||
             (IsDirtySpte(old, ad_enabled) && !IsDirtySpte(n, ad_enabled));
    case FlushRule::kV613:
      return IsMmuWritableSpte(old) && !IsMmuWritableSpte(n);
  }
  return true;
}

bool MakeSpteSetsDirty(const Rules& rules, Spte old) {
  switch (rules.make_spte_d) {
    case MakeSpteD::kNever:
      return false;
    case MakeSpteD::kIfWritable:
      return true;
    case MakeSpteD::kSkipIfOldW:
      // 8b8f9d753b84: "goto out" past the D set when the old spte is a
      // writable leaf (every present spte of the model is a leaf).
      return !(IsShadowPresentPte(old) && IsWritablePte(old));
  }
  return true;
}

Spte MarkSpteForAccessTrack(Spte s) {
  if (IsAccessTrackSpte(s)) return s;
  Spte n = s & ~(kSpteR | kSpteW | kSpteX | kSpteA);
  if (s & kSpteR) n |= kSpteSavedR;
  if (s & kSpteX) n |= kSpteSavedX;
  return n | kSpteAccTrk;
}

Spte RestoreAccTrackSpte(Spte s) {
  Spte n = s & ~(kSpteAccTrk | kSpteSavedR | kSpteSavedX);
  if (s & kSpteSavedR) n |= kSpteR;
  if (s & kSpteSavedX) n |= kSpteX;
  return n;
}

bool FastPfMayMakeWritable(const Rules& rules, Spte s) {
  switch (rules.fast_pf_gate) {
    case FastPfGate::kDisabled:
      return false;
    case FastPfGate::kHostAndMmuW:
      // 3.6 spte_is_locklessly_modifiable()
      return IsHostWritable(s) && IsMmuWritableSpte(s);
    case FastPfGate::kMmuW:
      // 706c9c55e5a3 is_mmu_writable_spte(), sound only given I8b
      return IsMmuWritableSpte(s);
  }
  return false;
}

bool FastPfMayFixLarge(const Rules& rules, bool logging) {
  switch (rules.fast_pf_large) {
    case FastPfLarge::kAllow:
      return true;
    case FastPfLarge::k4kOnly:
      return false;  // c126d94f2c90: "sp->role.level > PT_PAGE_TABLE_LEVEL" -> slow path
    case FastPfLarge::kNotWhileLogging:
      return !logging;  // 2021: "... && kvm_slot_dirty_track_enabled(slot)"
  }
  return false;
}

namespace {

Rules Pre36Rules() {
  Rules r;
  r.volatile_rule = VolatileRule::kPre36;
  r.flush_rule = FlushRule::kSnapshotW;
  r.update_rule = UpdateRule::kPre36;
  r.fast_pf_gate = FastPfGate::kDisabled;
  r.wp_rule = WpRule::kSkipIfNotW;
  return r;
}

Rules V5Rules() {
  Rules r = Pre36Rules();
  r.fast_pf_gate = FastPfGate::kHostAndMmuW;
  return r;
}

Rules AviRules(VolatileRule v) {
  Rules r = V5Rules();
  r.volatile_rule = v;
  return r;
}

Rules V36Rules() { return Rules{}; }

// 3.15: the harvest flushes after spin_unlock (198c74f43f0f) and the update
// helper's flush keys on "old was lockless-writable" (spte.h's comment on
// is_writable_pte); enabling logging flushes after unlock, only if an spte
// was write-protected.
Rules V315Rules() {
  Rules r = V36Rules();
  r.flush_rule = FlushRule::kOldHostMmuW;
  r.harvest_flush = HarvestFlush::kAfterUnlock;
  r.enable_log_flush = EnableLogFlush::kAfterUnlockIfChanged;
  // c126d94f2c90 "KVM: MMU: lazily drop large spte" (2014; the spec dates
  // V315 to ~3.15-3.16): RO large sptes are kept, and the fast path leaves
  // large leaves to the slow path.
  r.large_wp = LargeWp::kKeepRo;
  r.fast_pf_large = FastPfLarge::k4kOnly;
  return r;
}

// 4.1: the PML series (843e4330573c "KVM: VMX: Page Modification Logging
// (PML) support"; 9b51a63024bd "KVM: MMU: Explicitly set D-bit for
// writable spte"): with PML, dirty logging clears D, and set_spte creates
// writable sptes dirty so that their first write is not logged again.
Rules V41Rules() {
  Rules r = V315Rules();
  r.flush_rule = FlushRule::kV41;
  r.pml_support = true;
  r.make_spte_d = MakeSpteD::kIfWritable;
  return r;
}

// 4.12: lockless access tracking for EPT without A/D bits (f160c7b7bb32 and
// its series): aging marks sptes access-tracked, the fast path restores them.
Rules V412Rules() {
  Rules r = V41Rules();
  r.volatile_rule = VolatileRule::kV412;
  r.flush_rule = FlushRule::kV412;
  r.update_rule = UpdateRule::kV412;
  r.fast_pf = FastPfRule::kModern;
  r.age_ad_off = AgeAdOff::kAccessTrack;
  r.clear_young_notifier = true;
  return r;
}

// 5.10..5.17 with the TDP MMU (2f2fad0897cb; rwlock from 5.12, da7120b02a2d).
Rules V510Rules() {
  Rules r = V412Rules();
  r.mmu = MmuKind::kTdp;
  r.tdp_setter = TdpSetter::kPlain;
  r.tdp_wp_gfn = TdpWpGfn::kSkipIfNotW;
  // 5.10's zap_gfn_range yields only right after a zap, through
  // tdp_mmu_iter_flush_cond_resched(), which flushes before
  // cond_resched_lock(); 5.10.y/5.11.y got the later yield rework together
  // with its fix a835429cda91 (stable backport, April 2021). No release has B12.
  r.zap_yield_flush = ZapYieldFlush::kFlushBeforeYield;
  return r;
}

// 5.18: the kvm-tdp-mmu-atomicity-fix merge (706c9c55e5a3, 54eb3ef56f36,
// ba3a6120a4e7), write-protection of PTs fixed (7c8a4742c4ab, f082d86ea685,
// 5f16bcac6e28), enabling dirty logging always flushes (b64d740ea7dd).
Rules V518Rules() {
  Rules r = V510Rules();
  r.volatile_rule = VolatileRule::kV518;
  r.fast_pf_gate = FastPfGate::kMmuW;
  r.tdp_setter = TdpSetter::kXchgIfVolatile;
  r.tdp_wp_gfn = TdpWpGfn::kClearWAndMmuW;
  r.enable_log_flush = EnableLogFlush::kAfterUnlockAlways;
  r.check_mmu_w_implies_host_w = true;
  r.change_pte = ChangePte::kClearMmuW;
  // Junaid Shahid, "KVM: x86/mmu: ... bail out of fast PF on huge pages only
  // when dirty logging is enabled" (posted November 2021; merge release
  // unverified, before 5.18). Moot under the TDP MMU presets (large=on is
  // modeled for the shadow MMU only) but kept for mmu=shadow overrides.
  r.fast_pf_large = FastPfLarge::kNotWhileLogging;
  // 8b8f9d753b84 "KVM: X86: Don't check unsync if the original spte is
  // writible" (5.16): make_spte skips D for a writable old leaf (B11, latent:
  // the harvest flushes whenever the bitmap had bits).
  r.make_spte_d = MakeSpteD::kSkipIfOldW;
  return r;
}

// 6.13: the 2024 A/D cleanup (081976992f43, b7ed46b201a4, 856cf4a60cff, ...),
// clear-dirty by atomic AND (89c313f20c1e, 6.5), no flush on aging.
Rules V613Rules() {
  Rules r = V518Rules();
  r.volatile_rule = VolatileRule::kV613;
  r.flush_rule = FlushRule::kV613;
  r.tdp_setter = TdpSetter::kAndIfVolatile;
  r.age_flush = false;
  r.page_dirty_at_origin = true;
  r.change_pte = ChangePte::kRemoved;
  // The fault path of the same series: cc7ed3358e41 (a writable spte is
  // always created dirty), 1a175082b190 (flush when a fault clears
  // MMU-writable of a present leaf), and 386d69f9f29b (6.13-rc fix: a fault
  // whose access the old leaf already allows is spurious).
  r.make_spte_d = MakeSpteD::kIfWritable;
  r.tdp_fault_flush = TdpFaultFlush::kMmuWCleared;
  r.tdp_fault_spurious = TdpFaultSpurious::kAccessAllowed;
  // 35ef80eb29ab (6.13): the collapsible-spte zap no longer freezes.
  r.zap_atomic = ZapAtomic::kNoFreeze;
  return r;
}

// 6.15: "Always update A/D-disable SPTEs atomically" (lockless aging series).
Rules V615Rules() {
  Rules r = V613Rules();
  r.volatile_rule = VolatileRule::kV615;
  r.tdp_age = TdpAge::kLockless;
  return r;
}

// A note on sync_page (ops sync-drop, sync-ro). Every shadow-paging kernel
// from a4ee1ca4a36e (2011) to f81602958c11 (posted September 2021, sent to
// stable) deferred sync_page's flush through kvm->tlbs_dirty, so 3.6,
// 3.15, 4.1 and 4.12 as shipped contain B9. Their presets nevertheless keep
// the remote flush (sync-flush=remote, the knob's default): they are the
// clean baselines that the buggy presets name as their fix, and B9 is its
// own preset (b9-sync-page-tlbs-dirty = linux-3.6 with sync-flush=tlbs-dirty).
// The TDP MMU presets have no unsync shadow pages: sync ops do nothing there.
// B10's fix (2010-2011) predates every preset, which all track the dirty state.
std::vector<RulesPreset> MakePresets() {
  std::vector<RulesPreset> p;
  p.push_back({"pre-3.6", "Linux v3.5 (no lockless fast page fault)",
               "every spte change under mmu_lock; volatile bits per the v3.5 predicate; "
               "slow-path flush decided from a snapshot",
               "", {}, Pre36Rules()});
  p.push_back({"v5-patch", "fast page fault v5 posting (kvm list, May 2012)",
               "pre-3.6 rules plus the lockless fast page fault: the lock holders' volatile "
               "predicate and flush check do not know about it",
               "B1 B2",
               // B2 breaks I3 or I10 (spec §6): explore also meets it as I10 when
               // sync_page's set_spte decides its flush from the snapshot.
               {Invariant::kLostPageDirty, Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite,
                Invariant::kResurrectedBits, Invariant::kFlushPlacement},
               V5Rules(), "linux-3.6"});
  p.push_back({"avi-proposal", "Avi Kivity's review of v5 (seed/ mail), intended reading",
               "v5 with spte_has_volatile_bits() returning false only when A and D are both set; "
               "the snapshot-based flush check is unchanged",
               "B2 (and the case Avi names: a shadowed page's MMU_W clear races the fast path)",
               {Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite, Invariant::kResurrectedBits,
                Invariant::kFlushPlacement},
               AviRules(VolatileRule::kAvi), "linux-3.6"});
  p.push_back({"avi-proposal-literal", "Avi Kivity's review of v5 (seed/ mail), polarity as typed",
               "v5 with spte_has_volatile_bits() returning false when A or D is clear",
               "B1 B2",
               // B2 breaks I3 or I10 (spec §6): explore also meets it as I10 when
               // sync_page's set_spte decides its flush from the snapshot.
               {Invariant::kLostPageDirty, Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite,
                Invariant::kResurrectedBits, Invariant::kFlushPlacement},
               AviRules(VolatileRule::kAviLiteral), "linux-3.6"});
  p.push_back({"linux-3.6", "Linux 3.6, c7ba5b48cc8d \"KVM: MMU: fast path of handling guest page fault\"",
               "fast page fault merged: locklessly-modifiable sptes are always volatile, the flush "
               "decision comes from mmu_spte_update's xchg, pt_protect clears MMU_W",
               "", {}, V36Rules()});
  p.push_back({"linux-3.15", "Linux 3.15, 198c74f43f0f \"KVM: MMU: flush tlb out of mmu lock when write-protect the sptes\"",
               "dirty-log flushes move after spin_unlock; mmu_spte_update flushes when the old spte was "
               "host- and MMU-writable (it may still be cached writable)",
               "", {}, V315Rules()});
  p.push_back({"linux-4.1", "Linux 4.1, the PML series (843e4330573c, 9b51a63024bd; 2015)",
               "3.15 plus: mmu_spte_update also flushes when it clears A or D; PML support (config pml=on: "
               "dirty logging clears D, the CPU logs D 0->1 per vCPU); writable sptes are created dirty",
               "", {}, V41Rules()});
  p.push_back({"linux-4.12", "Linux 4.12, f160c7b7bb32 \"kvm: x86: lockless access tracking\" and its series",
               "EPT without A/D: aging marks sptes access-tracked (clear_young does not flush), the fast "
               "path restores them; enabling dirty logging flushes only if an spte changed",
               "B8; and (found by explore, not in the spec) mmu_spte_age's dirty capture from a stale read "
               "racing the fast path (see corpus/regressions/linux-4.12-explore-seed3-age-dirty-race.repro)",
               {Invariant::kStaleTlbAfterDirtyLog, Invariant::kLostDirtyLog, Invariant::kLostPageDirty},
               V412Rules(), "linux-5.18"});
  p.push_back({"linux-5.10", "Linux 5.10-5.17 TDP MMU, 2f2fad0897cb (rwlock from 5.12, da7120b02a2d)",
               "the TDP MMU: faults under the read lock with cmpxchg; write-lock paths (zap, aging, "
               "clear-dirty, write_protect_gfn) store plainly; write_protect_gfn skips read-only sptes",
               "B6 B7 B8",
               {Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite, Invariant::kLostPageDirty,
                Invariant::kResurrectedBits, Invariant::kStaleTlbAfterDirtyLog, Invariant::kLostDirtyLog,
                Invariant::kFlushPlacement},
               V510Rules(), "linux-5.18"});
  p.push_back({"linux-5.18", "Linux 5.18, merge \"kvm-tdp-mmu-atomicity-fix\" (ba3a6120a4e7, 706c9c55e5a3) + 7c8a4742c4ab + b64d740ea7dd",
               "TDP MMU write-lock paths xchg volatile sptes; write_protect_gfn clears MMU-writable; the "
               "fast path gates on MMU-writable alone (I8b now holds); enabling logging always flushes; "
               "make_spte skips D when the old spte was writable (8b8f9d753b84), masked by the harvest's flush",
               "", {}, V518Rules()});
  p.push_back({"linux-6.13", "Linux 6.13, the 2024 A/D cleanup series (081976992f43, b7ed46b201a4, cc7ed3358e41)",
               "flush only when MMU-writable is cleared; A ignored by the atomicity predicate; clear-dirty "
               "by atomic AND (89c313f20c1e); no TLB flush on aging; writable sptes always created dirty "
               "(cc7ed3358e41); TDP faults flush when clearing MMU-writable (1a175082b190) and are spurious "
               "when the old leaf allows the access (386d69f9f29b)",
               "", {}, V613Rules()});
  p.push_back({"linux-6.15", "Linux 6.15, lockless aging series (\"KVM: x86/mmu: Always update A/D-disable SPTEs atomically\")",
               "the TDP MMU ages without mmu_lock (atomic A clear, cmpxchg to access-tracked); every "
               "A/D-disabled spte needs an atomic update",
               "", {}, V615Rules()});
  // Bugs that no version preset contains on its own (spec §6).
  {
    Rules r = V36Rules();
    r.harvest_flush = HarvestFlush::kAfterUnlock;
    p.push_back({"b5-harvest-flush-after-unlock",
                 "mutation: 3.15's harvest flush placement (198c74f43f0f) with 3.6's W(old) flush rule",
                 "page-table write protection finds an spte the harvest made read-only and skips the flush "
                 "while a vCPU still caches it writable",
                 "B5", {Invariant::kFlushPlacement, Invariant::kStaleTlbAfterPtProtect}, r, "linux-3.15"});
  }
  {
    // B14: the 5.18 fast-path gate (MMU_W alone) with the change_pte notifier
    // as it was before f082d86ea685, and no I8b check (5f16bcac6e28 came with the fix).
    Rules r = V518Rules();
    r.change_pte = ChangePte::kKeepMmuW;
    r.check_mmu_w_implies_host_w = false;
    p.push_back({"b14-mmu-w-gate-change-pte-keeps-mmu-w",
                 "mutation: 706c9c55e5a3's MMU_W-only fast-path gate without f082d86ea685",
                 "change_pte (KSM) leaves a host-read-only spte MMU-writable; the fast path makes it writable",
                 "B14", {Invariant::kIllegalFastPathWrite, Invariant::kStaleTlbAfterPtProtect}, r, "linux-5.18"});
  }
  {
    // B11 (spec §6, §7 S11): the TDP MMU fault path of 5.16 .. 6.12 on top
    // of 6.15, with the harvest's flush made conditional on an observed
    // spte change (the mutation that turns the latent bug into a lost log).
    Rules r = V615Rules();
    r.make_spte_d = MakeSpteD::kSkipIfOldW;
    r.tdp_fault_flush = TdpFaultFlush::kNonLeaf;
    r.tdp_fault_spurious = TdpFaultSpurious::kSameSpte;
    // The PML-only form of the mutation: flushing only on a W clear in
    // write-protect mode would also bring back B8's pattern (knob value
    // harvest-flush=if-changed), which is not this preset's bug.
    r.harvest_flush = HarvestFlush::kAfterUnlockIfDCleared;
    p.push_back({"b11-make-spte-skips-d-conditional-harvest-flush",
                 "mutation: 8b8f9d753b84's make_spte (D skipped over a writable old spte, 5.16..6.12, fixed by "
                 "cc7ed3358e41) with the PML harvest's flush conditional on a cleared D bit (spec S11)",
                 "a racing TDP fault rebuilds a W=1,D=1 spte as W=1,D=0 without a flush; with PML the harvest "
                 "finds no D to clear, skips the flush, and writes through the D=1 TLB entry are never logged",
                 "B11", {Invariant::kStaleTlbAfterDirtyLog, Invariant::kLostDirtyLog}, r, "linux-6.15"});
  }
  {
    // B12 (spec §6, §7 S12): the gfn-range zap of the 5.12 release candidates on top of
    // 6.15: zap_gfn_range() starts every root with flush_needed=false, so a
    // yield while walking the second root drops mmu_lock with the first
    // root's zaps unflushed.
    Rules r = V615Rules();
    r.zap_yield_flush = ZapYieldFlush::kForgetAcrossRoots;
    p.push_back({"b12-zap-range-yield-forgets-flush",
                 "1af4a96025b3 \"KVM: x86/mmu: Yield in TDU MMU iter even if no SPTES changed\" (5.12 merge window) before "
                 "a835429cda91 \"KVM: x86/mmu: Ensure TLBs are flushed when yielding during GFN range zap\" (a 5.12-rc fix)",
                 "kvm_zap_gfn_range zaps a leaf in one root, then yields mmu_lock while walking the next root without "
                 "the first root's pending flush; another lock holder finds the gfn unmapped and skips its flush",
                 "B12", {Invariant::kFlushPlacement, Invariant::kStaleTlbAfterPtProtect}, r, "linux-6.15"});
  }
  {
    // Mutation of the read-lock collapsible-spte zap (op zap-atomic, spec
    // §3.10): 35ef80eb29ab's batched zap with its flush moved after
    // read_unlock. 35ef80eb29ab's rule is "flush before dropping mmu_lock,
    // to synchronize with mmu_notifiers"; without it an invalidation or a
    // page-table write protection takes the write lock, finds the gfn
    // already zapped, skips its flush, and a vCPU keeps writing through the
    // stale TLB entry.
    Rules r = V615Rules();
    r.zap_atomic = ZapAtomic::kNoFreezeFlushAfterUnlock;
    p.push_back({"m-zap-atomic-flush-after-unlock",
                 "mutation: 35ef80eb29ab \"Batch TLB flushes when zapping collapsible TDP MMU SPTEs\" with the flush "
                 "after read_unlock",
                 "the read-lock zap of a collapsible leaf drops mmu_lock before its TLB flush; a write-lock holder "
                 "(an invalidation, page-table write protection) finds the leaf gone and skips its own flush",
                 "", {Invariant::kLostPageDirty, Invariant::kStaleTlbAfterPtProtect, Invariant::kZapIncomplete}, r,
                 "linux-6.15"});
  }
  {
    // B13: lockless aging with the 6.13 atomicity predicate, under which a
    // writable A/D-disabled spte is not volatile.
    Rules r = V615Rules();
    r.volatile_rule = VolatileRule::kV613;
    p.push_back({"b13-lockless-aging-v6.13-predicate",
                 "anticipatory: 6.15 lockless aging without \"Always update A/D-disable SPTEs atomically\"",
                 "a write-lock holder's plain store computed from an earlier snapshot undoes the access tracking "
                 "that lockless aging applied in between",
                 "B13", {Invariant::kResurrectedBits}, r, "linux-6.15"});
  }
  {
    // B4 (spec §6, §7 S4): 3.15's rules with the fast path of the first
    // "KVM: MMU: lazily drop large spte" (2013): RO large leaves are kept,
    // and fast_page_fault() still fixes them, logging only the base gfn.
    Rules r = V315Rules();
    r.fast_pf_large = FastPfLarge::kAllow;
    p.push_back({"b4-fast-pf-large-spte-logs-base-gfn",
                 "\"KVM: MMU: lazily drop large spte\" as first merged (2013), reverted by 6b73a9606; re-applied "
                 "as c126d94f2c90 with the fast path limited to 4K leaves",
                 "dirty logging keeps a large leaf read-only but MMU-writable; a write fault on any gfn it covers "
                 "makes it writable in the fast path, which marks only the base gfn dirty; the harvest "
                 "write-protects 4K rmaps only, so writes to the other gfns are never logged (config large=on)",
                 "B4", {Invariant::kLostDirtyLog}, r, "linux-3.15"});
  }
  {
    // B3 (spec §6, §7 S3): 3.6 with the lockless fast path allowed on
    // indirect shadow pages, the hazard of the 2012 design review
    // (locking.rst, "the mapping from gfn to pfn").
    Rules r = V36Rules();
    r.fast_pf_indirect = FastPfIndirect::kAllow;
    p.push_back({"b3-fast-pf-indirect-sp-aba",
                 "2012 fast page fault design review (locking.rst \"The mapping from gfn to pfn\"); 3.6 "
                 "c7ba5b48cc8d calls fast_page_fault() from the direct-map handlers only",
                 "the fast path also fixes sptes of indirect shadow pages (config indirect=on): it reads the gfn "
                 "from sp->gfns[] before its cmpxchg; the guest repoints the PTE, kvm_mmu_pte_write zaps the "
                 "slot, a fault refills it with the same value for another gfn backed by the same page, the "
                 "cmpxchg succeeds and the old gfn is logged while writes land in the new one",
                 "B3", {Invariant::kIllegalFastPathWrite, Invariant::kLostDirtyLog}, r, "linux-3.6"});
  }
  {
    // B9: 3.6 as shipped in this respect (a4ee1ca4a36e .. f81602958c11).
    Rules r = V36Rules();
    r.sync_flush = SyncFlush::kTlbsDirty;
    p.push_back({"b9-sync-page-tlbs-dirty",
                 "a4ee1ca4a36e \"KVM: MMU: delay flush all tlbs on sync_page path\" (2011) in 3.6, before "
                 "f81602958c11 \"KVM: X86: Fix missed remote tlb flush in rmap_write_protect()\" (2021)",
                 "sync_page drops an spte whose guest PTE changed and only bumps kvm->tlbs_dirty; a later "
                 "page-table write protection of the gfn finds no rmap, reports no flush, and a vCPU keeps its "
                 "writable translation",
                 "B9", {Invariant::kStaleTlbAfterPtProtect}, r, "linux-3.6"});
  }
  {
    // B10: sync_page's read-only rewrite without the dirty transfer.
    Rules r = V36Rules();
    r.sync_tracks_dirty = false;
    p.push_back({"b10-sync-page-dirty-lost",
                 "mutation: 3.6 without 2010's \"KVM: MMU: fix page dirty tracking lost while sync page\" "
                 "(Xiao Guangrong; 9ed5520dd3c9 per a Tizen mirror)",
                 "sync_page rewrites a written (dirty) spte read-only without marking the page dirty; the later "
                 "zap sees a clean spte and the writeback finds the page clean",
                 "B10", {Invariant::kLostPageDirty}, r, "linux-3.6"});
  }
  return p;
}

// The knob table: every knob is a uint8_t-backed field with named values.
struct Knob {
  const char* name;
  std::vector<const char*> values;  // index == enum value (bools: off, on)
  uint8_t (*get)(const Rules&);
  void (*set)(Rules&, uint8_t);
  bool check = false;  // switches an oracle or plants a test mutation: not a kernel rule
};

#define SPTEFUZZ_ENUM_KNOB(field, type)                                           \
  [](const Rules& r) { return static_cast<uint8_t>(r.field); },                   \
      [](Rules& r, uint8_t v) { r.field = static_cast<type>(v); }
#define SPTEFUZZ_BOOL_KNOB(field)                                                 \
  [](const Rules& r) { return static_cast<uint8_t>(r.field ? 1 : 0); },           \
      [](Rules& r, uint8_t v) { r.field = v != 0; }

const std::vector<Knob>& Knobs() {
  static const std::vector<Knob> k = {
      {"volatile", {"pre-3.6", "avi", "avi-literal", "v3.6", "v4.12", "v5.18", "v6.13", "v6.15"}, SPTEFUZZ_ENUM_KNOB(volatile_rule, VolatileRule)},
      {"flush", {"snapshot-w", "old-w", "old-host-mmu-w", "v4.1", "v4.12", "v6.13"}, SPTEFUZZ_ENUM_KNOB(flush_rule, FlushRule)},
      {"update", {"pre-3.6", "v3.6", "v4.12"}, SPTEFUZZ_ENUM_KNOB(update_rule, UpdateRule)},
      {"fast-pf-gate", {"off", "host-and-mmu-w", "mmu-w"}, SPTEFUZZ_ENUM_KNOB(fast_pf_gate, FastPfGate)},
      {"wp", {"skip-if-not-w", "pt-protect"}, SPTEFUZZ_ENUM_KNOB(wp_rule, WpRule)},
      {"harvest-flush", {"inside-lock", "after-unlock", "never", "if-changed", "if-d-cleared"},
       SPTEFUZZ_ENUM_KNOB(harvest_flush, HarvestFlush)},
      {"age-flush", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(age_flush)},
      {"strict-a", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(strict_a), true},
      {"check-mmu-w-implies-host-w", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(check_mmu_w_implies_host_w), true},
      {"fast-pf", {"v3.6", "v4.12"}, SPTEFUZZ_ENUM_KNOB(fast_pf, FastPfRule)},
      {"enable-log-flush", {"inside-lock", "if-changed", "always"},
       SPTEFUZZ_ENUM_KNOB(enable_log_flush, EnableLogFlush)},
      {"age-ad-off", {"zap", "access-track"}, SPTEFUZZ_ENUM_KNOB(age_ad_off, AgeAdOff)},
      {"mmu", {"shadow", "tdp"}, SPTEFUZZ_ENUM_KNOB(mmu, MmuKind)},
      {"tdp-setter", {"plain", "xchg-if-volatile", "and-if-volatile"}, SPTEFUZZ_ENUM_KNOB(tdp_setter, TdpSetter)},
      {"tdp-wp-gfn", {"skip-if-not-w", "clear-w-and-mmu-w"}, SPTEFUZZ_ENUM_KNOB(tdp_wp_gfn, TdpWpGfn)},
      {"clear-young", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(clear_young_notifier)},
      {"tdp-age", {"write-lock", "lockless"}, SPTEFUZZ_ENUM_KNOB(tdp_age, TdpAge)},
      {"dirty-at-origin", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(page_dirty_at_origin)},
      {"change-pte", {"keep-mmu-w", "clear-mmu-w", "removed"}, SPTEFUZZ_ENUM_KNOB(change_pte, ChangePte)},
      {"sync-flush", {"remote", "tlbs-dirty"}, SPTEFUZZ_ENUM_KNOB(sync_flush, SyncFlush)},
      {"sync-dirty", {"lost", "tracked"}, SPTEFUZZ_BOOL_KNOB(sync_tracks_dirty)},
      {"pml-support", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(pml_support)},
      {"make-spte-d", {"never", "if-writable", "skip-if-old-w"}, SPTEFUZZ_ENUM_KNOB(make_spte_d, MakeSpteD)},
      {"tdp-fault-flush", {"non-leaf", "mmu-w-cleared"}, SPTEFUZZ_ENUM_KNOB(tdp_fault_flush, TdpFaultFlush)},
      {"tdp-fault-spurious", {"same-spte", "access-allowed"},
       SPTEFUZZ_ENUM_KNOB(tdp_fault_spurious, TdpFaultSpurious)},
      {"fast-pf-large", {"allow", "4k-only", "not-while-logging"}, SPTEFUZZ_ENUM_KNOB(fast_pf_large, FastPfLarge)},
      {"large-wp", {"drop", "keep-ro"}, SPTEFUZZ_ENUM_KNOB(large_wp, LargeWp)},
      {"zap-yield-flush", {"forget-across-roots", "flush-before-yield"},
       SPTEFUZZ_ENUM_KNOB(zap_yield_flush, ZapYieldFlush)},
      {"zap-atomic", {"freeze", "no-freeze", "no-freeze-flush-after-unlock"},
       SPTEFUZZ_ENUM_KNOB(zap_atomic, ZapAtomic)},
      {"fast-pf-indirect", {"allow", "direct-only"}, SPTEFUZZ_ENUM_KNOB(fast_pf_indirect, FastPfIndirect)},
      {"plant", {"none", "fast-pf-no-mark-dirty", "fault-ignores-notifier", "slow-path-w-no-mmu-w",
                 "age-peeks-rmap-unlocked", "fault-overwrites-frozen"},
       SPTEFUZZ_ENUM_KNOB(plant, Plant), true},
  };
  return k;
}

}  // namespace

const std::vector<RulesPreset>& AllPresets() {
  static const std::vector<RulesPreset> presets = MakePresets();
  return presets;
}

const RulesPreset* FindPreset(absl::string_view name) {
  for (const RulesPreset& p : AllPresets()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

const RulesPreset& DefaultPreset() { return *FindPreset("linux-6.15"); }

bool IsCheckKnob(absl::string_view knob) {
  for (const Knob& k : Knobs()) {
    if (knob == k.name) return k.check;
  }
  return false;
}

absl::Status SetKnob(Rules& rules, absl::string_view knob, absl::string_view value) {
  for (const Knob& k : Knobs()) {
    if (knob != k.name) continue;
    for (size_t i = 0; i < k.values.size(); ++i) {
      if (value == k.values[i]) {
        k.set(rules, static_cast<uint8_t>(i));
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(absl::StrCat("knob '", knob, "' has no value '", value,
                                                   "': expected one of ", absl::StrJoin(k.values, ", ")));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown knob '", knob, "': ", KnobHelp()));
}

std::vector<std::pair<std::string, std::string>> KnobValues(const Rules& rules) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Knob& k : Knobs()) out.emplace_back(k.name, k.values[k.get(rules)]);
  return out;
}

std::vector<std::pair<std::string, std::string>> KnobDiff(const Rules& rules, const Rules& base) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Knob& k : Knobs()) {
    if (k.get(rules) != k.get(base)) out.emplace_back(k.name, k.values[k.get(rules)]);
  }
  return out;
}

std::string KnobHelp() {
  std::string out = "knobs are";
  for (const Knob& k : Knobs()) absl::StrAppend(&out, " ", k.name, "=", absl::StrJoin(k.values, "|"));
  return out;
}

}  // namespace sptefuzz
