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
};

// Who decides that the slow path's spte overwrite needs a TLB flush.
enum class FlushRule : uint8_t {
  kSnapshotW,  // pre-3.6 mmu_set_spte: W(snapshot read before set_spte) && !W(*sptep re-read)
  kOldW,       // 3.6 mmu_spte_update(): W(old, from the xchg when volatile) && !W(new)
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
};

// Where KVM_GET_DIRTY_LOG flushes after write-protecting.
enum class HarvestFlush : uint8_t {
  kInsideLock,   // 3.6: before spin_unlock
  kAfterUnlock,  // 3.15+: after spin_unlock, before returning (198c74f43f0f)
  kNever,        // mutation: no flush at all
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

  bool operator==(const Rules&) const = default;
};

// volatile(s) of spec §5.1 under `rules`.
bool SpteHasVolatileBits(const Rules& rules, Spte s, bool ad_enabled);
// The fast path's write gate (spec §5.3).
bool FastPfMayMakeWritable(const Rules& rules, Spte s);

struct RulesPreset {
  const char* name;
  const char* mirrors;      // kernel version, commit or posting
  const char* description;
  const char* bugs;         // B-ids from the spec, "" if none
  std::vector<Invariant> expected;  // empty: expected clean
  Rules rules;
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
// Names of all knobs and, for each, its accepted values (for error messages and docs).
std::string KnobHelp();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_RULES_H_
