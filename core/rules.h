// core/rules.h: the protocol rules as data (spec §5), and named presets.
//
// Every rule that changed across kernel history is a knob of Rules. A preset
// bundles knobs into a kernel version or a known bug, with the verdict that
// is expected of it. Knobs of different eras may be mixed.
//
//   const RulesPreset* p = FindPreset("linux-3.6");
//   Rules r = p->rules;
//   absl::Status s = SetKnob(r, "volatile", "pre-3.6");  // now B1 is back
//   DescribeKnobs(r);  // "volatile=pre-3.6 flush=old-w ..."
#ifndef SPTEFUZZ_CORE_RULES_H_
#define SPTEFUZZ_CORE_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/invariants.h"
#include "core/spte.h"

namespace sptefuzz {

// spte_has_volatile_bits(): must a lock holder update this spte atomically?
enum class VolatileRule : uint8_t {
  kPre36,       // AD, present, and !(A && (!W || D))  (v3.5 spte_has_volatile_bits)
  kAvi,         // the mail's intended reading: volatile unless A and D are both set
  kAviLiteral,  // the mail's polarity as typed: non-volatile when A or D is clear
  kV36,         // (HOST_W && MMU_W) || (AD && present && (!A || (W && !D)))  (c7ba5b48cc8d)
  // 4.12 (f160c7b7bb32 lockless access tracking): present && ((HOST_W && MMU_W)
  // || ACCTRK || (AD && (!A || (W && !D))))
  kV412,
  // 5.18 (706c9c55e5a3, 54eb3ef56f36): (!W && MMU_W) || ACCTRK || (AD && (!A || (W && !D))),
  // presence checked by the callers
  kV518,
  // 6.13 spte_needs_atomic_update() era: (!W && MMU_W) || ACCTRK || (AD && W && !D);
  // A deliberately ignored (exact commit unverified, spec §5.1)
  kV613,
  // 6.15 "Always update A/D-disable SPTEs atomically": (!W && MMU_W) || !AD || (W && !D)
  kV615,
};

// Who decides that the slow path's spte overwrite needs a TLB flush.
enum class FlushRule : uint8_t {
  kSnapshotW,  // pre-3.6 mmu_set_spte: W(snapshot read before set_spte) && !W(*sptep re-read)
  kOldW,       // 3.6 mmu_spte_update(): W(old, from the xchg when volatile) && !W(new)
  // 3.15 (preceding 198c74f43f0f): (HOST_W && MMU_W)(old) && !W(new): an RO but
  // lockless-writable spte may still be cached writable (a harvest defers its flush)
  kOldHostMmuW,
  // 4.1 (PML series, commit unverified): kOldHostMmuW, or the A or D bit cleared
  kV41,
  // 4.12..6.12: mmu_writable(old) && !W(new), or accessed()/dirty() lost (is_accessed_spte,
  // is_dirty_spte: with A/D off, "not access-tracked" and W)
  kV412,
  // 6.13 (081976992f43, b7ed46b201a4): MMU_W(old) && !MMU_W(new) only
  kV613,
};

// The fast page fault's gate for making an spte writable.
enum class FastPfGate : uint8_t {
  kDisabled,    // no lockless path (<= 3.5)
  kHostAndMmuW, // 3.6 spte_is_locklessly_modifiable(): HOST_W && MMU_W
  kMmuW,        // 5.18+ is_mmu_writable_spte() alone (706c9c55e5a3)
};

// Page-table write protection (rmap_write_protect / spte_write_protect).
enum class WpRule : uint8_t {
  kSkipIfNotW,  // pre-3.6 / v5: only a W spte is touched; MMU_W of an RO spte stays set
  kPtProtect,   // 3.6 pt_protect: also clear MMU_W of an RO spte (c7ba5b48cc8d series)
};

// The body of mmu_spte_update() (UPD-U).
enum class UpdateRule : uint8_t {
  // 3.3/3.4-era mmu_spte_update(): ORs the old D into the new value and uses a
  // plain store when !volatile(old) or when the new value already holds A (and
  // D if the old spte was writable). Read in 3.4-era trees; v3.5 unverified.
  kPre36,
  // 3.6 mmu_spte_update(): plain store iff !volatile(old), else xchg, and the
  // xchg's result is the old value used for the flush and the A/D transfer.
  kV36,
  // 4.12+ mmu_spte_update(): as 3.6, but the A/D transfer uses is_accessed_spte() /
  // is_dirty_spte(), so with A/D off clearing W marks the page dirty (and the zap
  // transfers dirty only if W); the same predicates in mmu_spte_clear_track_bits().
  kV412,
};

// The fast page fault's body (spec §3.3).
enum class FastPfRule : uint8_t {
  kV36,     // 3.6: one cmpxchg, "handled" whatever its outcome; only present+write faults
  kModern,  // 4.12+: retry loop (up to 4 re-walks), access-tracked sptes restored,
            // not-present faults allowed when A/D are off (f160c7b7bb32)
};

// Where (and whether) enabling dirty logging flushes (spec §3.6).
enum class EnableLogFlush : uint8_t {
  kInsideLockAlways,     // 3.6 kvm_mmu_slot_remove_write_access(): unconditional, under mmu_lock
  kAfterUnlockIfChanged, // 3.15..5.17: after unlock, only if some spte was write-protected (B8)
  kAfterUnlockAlways,    // b64d740ea7dd "Always flush TLBs when enabling dirty logging"
};

// What aging does to an spte without A/D bits (spec §3.9).
enum class AgeAdOff : uint8_t {
  kZap,          // 3.6 kvm_age_rmapp(): kvm_unmap_rmapp(), young iff something was zapped
  kAccessTrack,  // 4.12 mmu_spte_age(): mark_spte_for_access_track(), page dirty captured first
};

// Which MMU maps guest memory.
enum class MmuKind : uint8_t {
  kShadow,  // the rmap-based (direct/shadow) MMU, mmu_lock a spinlock (write lock)
  kTdp,     // the TDP MMU (5.10+): mmu_lock an rwlock, faults under the read lock with cmpxchg
};

// The TDP MMU's write-lock setter (__tdp_mmu_set_spte / tdp_mmu_iter_set_spte).
enum class TdpSetter : uint8_t {
  kPlain,           // 2f2fad0897cb (5.10): plain store, bookkeeping from the iterator snapshot (B7)
  kXchgIfVolatile,  // ba3a6120a4e7 (5.18): xchg when the snapshot is a volatile present leaf
  kAndIfVolatile,   // 89c313f20c1e (6.5): bit clears by atomic AND when volatile, other writes xchg
};

// The change_pte MMU notifier (spec §3.8; removed in 2024).
enum class ChangePte : uint8_t {
  kKeepMmuW,   // 3.6 kvm_set_pte_rmapp(): new spte without W and HOST_W, MMU_W kept (B14 with an MMU_W-only gate)
  kClearMmuW,  // f082d86ea685: MMU_W cleared too
  kRemoved,    // 6.9+: no change_pte notifier; the primary MMU invalidates (a zap) instead
};

// How the TDP MMU ages sptes (kvm_tdp_mmu_age_gfn_range).
enum class TdpAge : uint8_t {
  kWriteLock,  // 5.10 .. 6.14: under mmu_lock (write), with the write-lock setter
  kLockless,   // 6.15 lockless aging series: RCU only, atomic clear of A / cmpxchg to access-tracked
};

// The TDP MMU's write_protect_gfn() (page-table write protection).
enum class TdpWpGfn : uint8_t {
  kSkipIfNotW,      // 46044f72c382: skips an spte whose W is clear, MMU_W stays set (B6)
  kClearWAndMmuW,   // 7c8a4742c4ab: skips only if neither W nor MMU_W is set
};

// Where KVM_GET_DIRTY_LOG flushes after write-protecting (or, with PML,
// clearing D).
enum class HarvestFlush : uint8_t {
  kInsideLock,   // 3.6: before spin_unlock
  kAfterUnlock,  // 3.15+: after spin_unlock, before returning (198c74f43f0f); kvm_get_dirty_log_protect()
                 // flushes whenever a bitmap word was non-zero, whatever the sptes looked like
  kNever,        // mutation: no flush at all
  // Mutation (spec §7 S11): after spin_unlock, and only if the per-gfn
  // clears reported a change (a W or D bit cleared; for the rmap walk, the
  // flush verdict of spte_write_protect / spte_clear_dirty). Exposes B11,
  // and in write-protect mode also B8's pattern (aging made an spte
  // read-only without a flush, the harvest finds no W to clear).
  kAfterUnlockIfChanged,
  // The same mutation in PML mode only (a harvest that cleared no D bit
  // does not flush); write-protect mode flushes as kAfterUnlock. Isolates B11.
  kAfterUnlockIfDCleared,
};

// Does the fault path's new leaf get D when it is writable? (make_spte /
// set_spte, spec §3.4; only with A/D enabled, spte_shadow_dirty_mask).
enum class MakeSpteD : uint8_t {
  kNever,         // 3.6 set_spte(): D is left to the hardware
  kIfWritable,    // 9b51a63024bd (4.1, PML series): a writable spte is created dirty (faults pass
                  // can_unsync, so the "!can_unsync && old writable" skip never applies to them);
                  // cc7ed3358e41 (6.13) restores it for every caller
  kSkipIfOldW,    // 8b8f9d753b84 (5.16) .. 6.12: make_spte skips the unsync check and D when the
                  // old spte was a writable leaf: a racing fault rebuilds W=1,D=0 over W=1,D=1 (B11)
};

// When the TDP MMU fault path flushes after replacing a present spte
// (tdp_mmu_map_handle_target_level, spec §3.4).
enum class TdpFaultFlush : uint8_t {
  kNonLeaf,      // 5.10 .. 6.12: only when the old spte was a present non-leaf (never, in the model)
  kMmuWCleared,  // 1a175082b190 (6.13): also when a present leaf loses MMU-writable
};

// When the TDP MMU fault path gives up on a present leaf as spurious.
enum class TdpFaultSpurious : uint8_t {
  kSameSpte,       // 5.10 .. 6.12: only if make_spte() built exactly the old value
  kAccessAllowed,  // 386d69f9f29b (6.13): before make_spte(), if the old leaf already allows the access
};

// How FNAME(sync_page) (shadow paging, unsync shadow pages) gets rid of the
// TLB entries of an spte it drops because the guest changed its PTE.
enum class SyncFlush : uint8_t {
  // Before a4ee1ca4a36e (2011) and from f81602958c11 (2021, "KVM: X86: Fix
  // missed remote tlb flush in rmap_write_protect()") on: a remote flush
  // (kvm_flush_remote_tlbs) before mmu_lock is dropped.
  kRemote,
  // a4ee1ca4a36e "KVM: MMU: delay flush all tlbs on sync_page path": no
  // flush, kvm->tlbs_dirty++; only kvm_flush_remote_tlbs (which resets it)
  // and the MMU-notifier invalidations (which flush when it is non-zero)
  // honour it, rmap_write_protect does not (B9).
  kTlbsDirty,
};

// Whether the fast page fault may make a read-only large leaf writable
// (spec §3.3, §5.3, B4). fast_pf_fix_direct_spte() marks only the gfn of the
// leaf (kvm_mmu_page_get_gfn(): the base gfn of a 2M leaf) dirty, so a
// large fix under dirty logging leaves the other gfns unlogged.
enum class FastPfLarge : uint8_t {
  // 3.6 fast_page_fault() has no level check (no RO but MMU-writable large
  // leaf existed: write protection dropped them), and "KVM: MMU: lazily
  // drop large spte" (2013) kept RO large leaves without adding one: B4,
  // reverted by 6b73a9606.
  kAllow,
  // c126d94f2c90 (the re-applied "lazily drop large spte", 2014):
  // fast_page_fault() leaves a leaf above PT_PAGE_TABLE_LEVEL to the slow path.
  k4kOnly,
  // Junaid Shahid, "bail out of fast PF on huge pages only when dirty logging
  // is enabled" (2021): refused only while kvm_slot_dirty_track_enabled().
  kNotWhileLogging,
};

// Whether the fast page fault runs for a fault on an indirect shadow page
// (shadow paging, config indirect=on; spec §3.3 step 7, B3). The gfn it
// marks dirty comes from the sp (kvm_mmu_page_get_gfn: sp->gfns[] for an
// indirect sp) and is read before the cmpxchg; an indirect slot can be
// zapped and refilled with the same value for another gfn in between (ABA).
enum class FastPfIndirect : uint8_t {
  // Mutation of the 2012 design review (locklessly fixing any shadow page):
  // the lockless path also serves FNAME(page_fault), B3.
  kAllow,
  // 3.6 c7ba5b48cc8d: fast_page_fault() is called only from the direct-map
  // handlers (tdp_page_fault / nonpaging_page_fault), never from
  // FNAME(page_fault); locking.rst "the mapping from gfn to pfn" explains
  // why (a direct sp's gfn is sp->gfn + index, immutable). Every kernel since.
  kDirectOnly,
};
// What spte_write_protect() does to a large leaf it has to protect.
enum class LargeWp : uint8_t {
  // pre-3.6 rmap_write_protect() and 3.6 spte_write_protect(): a large leaf
  // that would be write-protected is dropped instead (__drop_large_spte(),
  // flush reported).
  kDrop,
  // "KVM: MMU: lazily drop large spte" (c126d94f2c90, 2014): the large leaf
  // is only made read-only like a 4K one and stays mapped.
  kKeepRo,
};

// What a TDP MMU gfn-range zap (kvm_zap_gfn_range -> kvm_tdp_mmu_zap_gfn_range
// -> zap_gfn_range per root, can_yield) flushes when tdp_mmu_iter_cond_resched
// drops mmu_lock (spec §3.10, B12). The rmap MMU's walk
// (slot_handle_level_range with lock_flush_tlb / flush_on_yield) always
// flushes what is pending before it yields; the knob is TDP-only.
enum class ZapYieldFlush : uint8_t {
  // 1af4a96025b3 "Yield in TDU MMU iter even if no SPTES changed" (5.12 merge window)
  // .. a835429cda91: each root's walk starts with its own flush_needed=false,
  // so a yield in the next root forgets the zaps of the previous one (B12).
  kForgetAcrossRoots,
  // a835429cda91 "Ensure TLBs are flushed when yielding during GFN range zap"
  // (5.12): the pending flush is passed from root to root and done before the
  // yield. (5.10/5.11 yielded only right after a zap, always flushing first.)
  kFlushBeforeYield,
};

// How a TDP MMU read-lock holder zaps a leaf that could be collapsed into a
// huge page (op zap-atomic: kvm_mmu_zap_collapsible_sptes() after dirty
// logging is disabled; spec §3.10 "Zap under read lock"). The shadow (rmap)
// MMU zaps under the write lock and ignores the knob.
enum class ZapAtomic : uint8_t {
  // tdp_mmu_zap_spte_atomic() (2db6f772b530 "Allow zapping collapsible SPTEs
  // to use MMU read lock", 5.13 .. 6.12): Z1 cmpxchg(snapshot -> FROZEN_SPTE)
  // with handle_changed_spte(), Z3 kvm_flush_remote_tlbs_gfn(), Z4 store the
  // non-present value over FROZEN, all before read_unlock.
  kFreeze,
  // 35ef80eb29ab "Batch TLB flushes when zapping collapsible TDP MMU SPTEs"
  // (6.13; it removed tdp_mmu_zap_spte_atomic()): cmpxchg(snapshot -> the
  // non-present value) with tdp_mmu_set_spte_atomic(), and one flush of the
  // memslot before mmu_lock is dropped. Sound because the mapping of the gfn
  // does not change (a racing fault installs the same pfn).
  kNoFreeze,
  // Mutation: kNoFreeze with the batched flush done after read_unlock.
  kNoFreezeFlushAfterUnlock,
};

// Hardware D-assist on a TLB hit whose entry has D=0 (spec §3.1).
enum class DAssist : uint8_t {
  kStrict,       // re-reads the spte, faults if it is no longer present+writable
  kAdversarial,  // ORs A|D into the spte using the cached entry, no re-check
};

// Test-only mutations that break one invariant on purpose, so that every
// oracle has a test showing it can fail. No preset uses them.
enum class Plant : uint8_t {
  kNone,
  kFastPfNoMarkDirty,     // F4 skipped: a lockless W set is never logged (breaks I1)
  kFaultIgnoresNotifier,  // the slow path skips mmu_notifier_retry (breaks I7)
  kSlowPathWNoMmuW,       // set_spte sets W without MMU-writable (breaks I8a)
  kAgePeeksRmapUnlocked,  // aging reads the rmap before taking mmu_lock (lock-discipline, TSan)
  kFaultOverwritesFrozen, // the TDP fault installs over FROZEN_SPTE instead of retrying (breaks I8e)
};

struct Rules {
  VolatileRule volatile_rule = VolatileRule::kV36;
  FlushRule flush_rule = FlushRule::kOldW;
  UpdateRule update_rule = UpdateRule::kV36;
  FastPfGate fast_pf_gate = FastPfGate::kHostAndMmuW;
  WpRule wp_rule = WpRule::kPtProtect;
  HarvestFlush harvest_flush = HarvestFlush::kInsideLock;
  // clear_flush_young flushes when young (3.6 kvm_mmu_notifier_clear_flush_young).
  bool age_flush = true;
  // I5 and the A part of I9 are checked (STRICT_A, V36 semantics). Opt-in.
  bool strict_a = false;
  // I8b (MMU_W implies HOST_W) is an invariant only from 5f16bcac6e28 on.
  bool check_mmu_w_implies_host_w = false;
  Plant plant = Plant::kNone;
  // Knobs added for the post-3.6 kernels (defaults: the 3.6 behaviour).
  FastPfRule fast_pf = FastPfRule::kV36;
  EnableLogFlush enable_log_flush = EnableLogFlush::kInsideLockAlways;
  AgeAdOff age_ad_off = AgeAdOff::kZap;
  MmuKind mmu = MmuKind::kShadow;
  TdpSetter tdp_setter = TdpSetter::kPlain;
  TdpWpGfn tdp_wp_gfn = TdpWpGfn::kSkipIfNotW;
  // The kvm_mmu_notifier_clear_young() hook exists (4.3+, idle page tracking;
  // commit unverified): aging without a TLB flush. Without it the clear-young
  // op runs clear_flush_young, the only aging notifier of older kernels.
  bool clear_young_notifier = false;
  TdpAge tdp_age = TdpAge::kWriteLock;
  // 0cad68cab113 (6.13) "Mark pages/folios dirty at the origin of make_spte()":
  // the page is marked dirty when a writable spte is created (the zap-time
  // transfer stays modeled too; both only make the page dirtier).
  bool page_dirty_at_origin = false;
  ChangePte change_pte = ChangePte::kKeepMmuW;
  // FNAME(sync_page) dropping an spte (spec §3.7, B9). The kernel presets
  // keep the remote flush; see the note at MakePresets() in rules.cc.
  SyncFlush sync_flush = SyncFlush::kRemote;
  // FNAME(sync_page) rewriting a writable spte read-only transfers its
  // dirty state to the page (mmu_spte_update's tracking; 2010 "KVM: MMU:
  // fix page dirty tracking lost while sync page", spec B10). Off: the
  // rewrite drops it.
  bool sync_tracks_dirty = true;
  // The kernel has PML support (843e4330573c, 4.1): with it, a test case
  // with config pml=on logs dirty pages through the CPU's PML buffers and
  // dirty logging clears D instead of W. Without it, pml=on has no effect
  // (the VMCS never enables PML).
  bool pml_support = false;
  MakeSpteD make_spte_d = MakeSpteD::kNever;
  TdpFaultFlush tdp_fault_flush = TdpFaultFlush::kNonLeaf;
  TdpFaultSpurious tdp_fault_spurious = TdpFaultSpurious::kSameSpte;
  // Large leaves (config large=on, shadow MMU only; spec B4). The dirty-log
  // harvest's write protection walks only 4K rmaps in every modeled kernel
  // (kvm_mmu_write_protect_pt_masked: "during dirty logging we do not have
  // any such mappings"; the 2M pass that KVM_DIRTY_LOG_INITIALLY_SET added
  // in 2020 is for manual-protect mode, not modeled), so it is no knob.
  FastPfLarge fast_pf_large = FastPfLarge::kAllow;
  LargeWp large_wp = LargeWp::kDrop;
  ZapYieldFlush zap_yield_flush = ZapYieldFlush::kFlushBeforeYield;
  ZapAtomic zap_atomic = ZapAtomic::kFreeze;
  FastPfIndirect fast_pf_indirect = FastPfIndirect::kDirectOnly;

  bool operator==(const Rules&) const = default;
};

// volatile(s) of spec §5.1 under `rules`.
bool SpteHasVolatileBits(const Rules& rules, Spte s, bool ad_enabled);
// The fast path's write gate (spec §5.3).
bool FastPfMayMakeWritable(const Rules& rules, Spte s);
// The flush verdict of mmu_spte_update() for old -> new (spec §5.2; not kSnapshotW).
bool UpdateNeedsFlush(const Rules& rules, Spte old, Spte n, bool ad_enabled);
// Whether the fast page fault may make a large leaf writable now, the slot
// logging dirty pages or not (Rules::fast_pf_large).
bool FastPfMayFixLarge(const Rules& rules, bool logging);
// Whether make_spte() / set_spte() sets D on a new writable leaf that
// replaces `old` (Rules::make_spte_d; only meaningful with A/D enabled).
bool MakeSpteSetsDirty(const Rules& rules, Spte old);
// mark_spte_for_access_track(): R/W/X and A cleared, R/X saved, W not saved.
Spte MarkSpteForAccessTrack(Spte s);
// restore_acc_track_spte(): the saved R/X back, access tracking off.
Spte RestoreAccTrackSpte(Spte s);

struct RulesPreset {
  const char* name;
  const char* mirrors;      // kernel version, commit or posting
  const char* description;
  const char* bugs;         // B-ids from the spec, "" if none
  std::vector<Invariant> expected;  // empty: expected clean
  Rules rules;
  // For a buggy preset: the preset (usually a kernel version) that has the fix,
  // under which the same interleavings must pass; "" for clean presets.
  const char* fixed_by = "";
};

const std::vector<RulesPreset>& AllPresets();
const RulesPreset* FindPreset(absl::string_view name);
// The newest faithful kernel preset (the default for fuzzing).
const RulesPreset& DefaultPreset();

// Knob overrides, by name, for repro files and the command line.
absl::Status SetKnob(Rules& rules, absl::string_view knob, absl::string_view value);
// "knob=value" for every knob, in a fixed order.
std::vector<std::pair<std::string, std::string>> KnobValues(const Rules& rules);
// The knobs whose value differs from `base`, as "knob=value" pairs.
std::vector<std::pair<std::string, std::string>> KnobDiff(const Rules& rules, const Rules& base);
// Knobs that switch an oracle on or plant a test mutation (strict-a,
// check-mmu-w-implies-host-w, plant), as opposed to kernel rules.
bool IsCheckKnob(absl::string_view knob);
// Names of all knobs and, for each, its accepted values (for error messages and docs).
std::string KnobHelp();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_RULES_H_
