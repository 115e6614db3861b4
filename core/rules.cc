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
  }
  return true;
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
               {Invariant::kLostPageDirty, Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite,
                Invariant::kResurrectedBits},
               V5Rules()});
  p.push_back({"avi-proposal", "Avi Kivity's review of v5 (seed/ mail), intended reading",
               "v5 with spte_has_volatile_bits() returning false only when A and D are both set; "
               "the snapshot-based flush check is unchanged",
               "B2 (and the case Avi names: a shadowed page's MMU_W clear races the fast path)",
               {Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite, Invariant::kResurrectedBits},
               AviRules(VolatileRule::kAvi)});
  p.push_back({"avi-proposal-literal", "Avi Kivity's review of v5 (seed/ mail), polarity as typed",
               "v5 with spte_has_volatile_bits() returning false when A or D is clear",
               "B1 B2",
               {Invariant::kLostPageDirty, Invariant::kStaleTlbAfterPtProtect, Invariant::kIllegalFastPathWrite,
                Invariant::kResurrectedBits},
               AviRules(VolatileRule::kAviLiteral)});
  p.push_back({"linux-3.6", "Linux 3.6, c7ba5b48cc8d \"KVM: MMU: fast path of handling guest page fault\"",
               "fast page fault merged: locklessly-modifiable sptes are always volatile, the flush "
               "decision comes from mmu_spte_update's xchg, pt_protect clears MMU_W",
               "", {}, V36Rules()});
  return p;
}

// The knob table: every knob is a uint8_t-backed field with named values.
struct Knob {
  const char* name;
  std::vector<const char*> values;  // index == enum value (bools: off, on)
  uint8_t (*get)(const Rules&);
  void (*set)(Rules&, uint8_t);
};

#define SPTEFUZZ_ENUM_KNOB(field, type)                                           \
  [](const Rules& r) { return static_cast<uint8_t>(r.field); },                   \
      [](Rules& r, uint8_t v) { r.field = static_cast<type>(v); }
#define SPTEFUZZ_BOOL_KNOB(field)                                                 \
  [](const Rules& r) { return static_cast<uint8_t>(r.field ? 1 : 0); },           \
      [](Rules& r, uint8_t v) { r.field = v != 0; }

const std::vector<Knob>& Knobs() {
  static const std::vector<Knob> k = {
      {"volatile", {"pre-3.6", "avi", "avi-literal", "v3.6"}, SPTEFUZZ_ENUM_KNOB(volatile_rule, VolatileRule)},
      {"flush", {"snapshot-w", "old-w"}, SPTEFUZZ_ENUM_KNOB(flush_rule, FlushRule)},
      {"update", {"pre-3.6", "v3.6"}, SPTEFUZZ_ENUM_KNOB(update_rule, UpdateRule)},
      {"fast-pf-gate", {"off", "host-and-mmu-w", "mmu-w"}, SPTEFUZZ_ENUM_KNOB(fast_pf_gate, FastPfGate)},
      {"wp", {"skip-if-not-w", "pt-protect"}, SPTEFUZZ_ENUM_KNOB(wp_rule, WpRule)},
      {"harvest-flush", {"inside-lock", "after-unlock", "never"}, SPTEFUZZ_ENUM_KNOB(harvest_flush, HarvestFlush)},
      {"age-flush", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(age_flush)},
      {"strict-a", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(strict_a)},
      {"check-mmu-w-implies-host-w", {"off", "on"}, SPTEFUZZ_BOOL_KNOB(check_mmu_w_implies_host_w)},
      {"plant", {"none", "fast-pf-no-mark-dirty", "fault-ignores-notifier", "slow-path-w-no-mmu-w",
                 "age-peeks-rmap-unlocked"},
       SPTEFUZZ_ENUM_KNOB(plant, Plant)},
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

const RulesPreset& DefaultPreset() { return *FindPreset("linux-3.6"); }

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
