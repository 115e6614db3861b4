#include "core/testcase.h"

#include "absl/strings/str_cat.h"

namespace sptefuzz {
namespace {
constexpr const char* kOpNames[] = {"read", "write", "fault", "zap", "wb", "age", "wp-pt", "enable-log", "harvest", "clear-young", "change-pte", "sync-drop", "sync-ro", "zap-range", "zap-atomic", "remap"};
static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == static_cast<int>(OpKind::kCount));
}  // namespace

bool IsVcpuOp(OpKind k) {
  return k == OpKind::kRead || k == OpKind::kWrite || k == OpKind::kFault || k == OpKind::kSyncDrop ||
         k == OpKind::kSyncRo || k == OpKind::kRemap;
}
bool IndirectAllowsOp(OpKind k) {
  // zap-atomic: kvm_mmu_zap_collapsible_sptes() only looks at direct shadow
  // pages (the collapsible check needs a direct sp), so an indirect slot is
  // never its target; refused rather than modeled as a no-op.
  return k != OpKind::kWpPt && k != OpKind::kSyncDrop && k != OpKind::kSyncRo && k != OpKind::kZapRange &&
         k != OpKind::kZapAtomic;
}
bool OpUsesGfn(OpKind k) { return k != OpKind::kEnableLog && k != OpKind::kHarvest; }
const char* OpKindName(OpKind k) { return kOpNames[static_cast<int>(k)]; }
std::optional<OpKind> ParseOpKind(absl::string_view name) {
  for (int i = 0; i < static_cast<int>(OpKind::kCount); ++i) {
    if (name == kOpNames[i]) return static_cast<OpKind>(i);
  }
  return std::nullopt;
}

absl::Status ValidateTestCase(const TestCase& tc) {
  const Config& c = tc.config;
  if (c.vcpus < 1 || c.vcpus > kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrCat("vcpus=", c.vcpus, ": expected 1..", kMaxVcpus));
  }
  if (c.gfns < 1 || c.gfns > kMaxGfns) {
    return absl::InvalidArgumentError(absl::StrCat("gfns=", c.gfns, ": expected 1..", kMaxGfns));
  }
  if (c.pml && !c.ad) {
    return absl::InvalidArgumentError("pml=on needs ad=on (PML logs the CPU's EPT D-bit updates)");
  }
  if (c.indirect && (!c.ad || c.pml || c.large)) {
    return absl::InvalidArgumentError(
        "indirect=on needs ad=on, pml=off and large=off (shadow paging: legacy sptes with A/D, no PML, 4K leaves)");
  }
  if (c.indirect) {
    for (const ThreadSpec& th : tc.threads) {
      for (const Op& op : th.ops) {
        if (!IndirectAllowsOp(op.kind)) {
          return absl::InvalidArgumentError(absl::StrCat("op ", OpKindName(op.kind),
                                                         " is not modeled with indirect=on (it names a gfn through an rmap)"));
        }
      }
    }
  }
  if (c.large) {
    // One large leaf in slot 0 covers every gfn (spec §0.2). It is created
    // by a fault with logging off (mapping_level / kvm_mmu_hugepage_adjust
    // force 4K pages on a slot with a dirty bitmap), W and MMU_W together
    // (set_spte): a read-only but MMU-writable large leaf is what dirty
    // logging leaves behind once RO large sptes are kept (c126d94f2c90), and
    // 3.6 never creates one, so the model reaches it through the ops.
    const Spte l = c.init_spte[0];
    if (c.gfns < 2) return absl::InvalidArgumentError("large=on needs gfns=2..4 (the large leaf covers them all)");
    if (c.logging) {
      return absl::InvalidArgumentError(
          "large=on needs logging=off (a fault on a slot that logs maps 4K pages; enable logging with an op)");
    }
    if (!IsShadowPresentPte(l) || !IsLargePte(l)) {
      return absl::InvalidArgumentError("large=on: spte g0 must be the present large leaf (flag L)");
    }
    if (IsMmuWritableSpte(l) != IsWritablePte(l)) {
      return absl::InvalidArgumentError("large=on: the large leaf g0 has W and MW together or neither");
    }
    for (int g = 1; g < kMaxGfns; ++g) {
      if (c.init_spte[g] != 0) {
        return absl::InvalidArgumentError(absl::StrCat("large=on: spte g", g, " must be empty (the large leaf g0 maps g", g, ")"));
      }
    }
  }
  const uint8_t unlogged = LoggedBitmapBits(c) & ~c.init_bitmap;
  for (int g = 0; g < kMaxGfns; ++g) {
    Spte s = c.init_spte[g];
    if (g >= c.gfns && s != 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, " is set but gfns=", c.gfns));
    }
    if ((s & kSpteFrozen) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, ": an initial spte cannot be FROZEN"));
    }
    if (s != 0 && (s & kSptePresent) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("spte g", g, " = ", SpteToString(s), ": a non-present spte must be 0"));
    }
    if (!c.ad && (s & (kSpteA | kSpteD)) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, " has A or D but ad=off"));
    }
    if ((s & kSpteAccTrk) != 0 && (c.ad || (s & kSpteW) != 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spte g", g, " is access-tracked (AT): expected ad=off and no W"));
    }
    if ((s & kSpteW) != 0 && (s & kSpteMmuW) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, " has W without MW (invariant I8a)"));
    }
    if ((s & kSpteMmuW) != 0 && (s & kSpteHostW) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, " has MW without HW (invariant I8b)"));
    }
    if ((s & kSpteLarge) != 0 && !(c.large && g == 0)) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, ": only g0 can be a large leaf (L), with config large=on"));
    }
    if (SptePfn(s) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("spte g", g, ": the pfn is implied (gfn g maps page g)"));
    }
    // A start state with logging on and a writable spte whose gfn is not in
    // the bitmap has already lost a write (LoggedBitmapBits; the fuzz codec
    // repairs it by setting the bits).
    if ((unlogged >> g) & 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("spte g", g, " is writable while dirty logging is on at the start, so g", g,
                       " must be set in the initial dirty bitmap (a writable spte under logging has logged its gfn)"));
    }
    if (g >= c.gfns && (c.init_bitmap >> g) & 1) {
      return absl::InvalidArgumentError(absl::StrCat("dirty bitmap bit g", g, " is set but gfns=", c.gfns));
    }
  }
  for (int v = 0; v < kMaxVcpus; ++v) {
    for (int g = 0; g < kMaxGfns; ++g) {
      const TlbEntry& e = c.init_tlb[v][g];
      if (!e.valid) {
        if (e.w || e.d) return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, ": w/d on an invalid entry"));
        continue;
      }
      if (v >= c.vcpus || g >= c.gfns) {
        return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, " is outside vcpus=", c.vcpus, " gfns=", c.gfns));
      }
      Spte s = c.init_spte[InitLeafOf(c, g)];
      // A TLB entry can only cache what the spte allows now: a stale entry at
      // the start would be a bug planted by the test, not found by it.
      if (!IsHardwarePresent(s)) {
        return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, ": spte g", InitLeafOf(c, g), " is not present"));
      }
      if (e.w && !IsWritablePte(s)) {
        return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, " is writable but spte g", InitLeafOf(c, g), " has no W"));
      }
      if (c.ad && (e.d && (s & kSpteD) == 0)) {
        return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, " is dirty but spte g", InitLeafOf(c, g), " has no D"));
      }
      if (c.ad && (s & kSpteA) == 0) {
        return absl::InvalidArgumentError(absl::StrCat("tlb v", v, " g", g, ": spte g", InitLeafOf(c, g), " has no A"));
      }
    }
  }
  if (tc.threads.empty() || tc.threads.size() > kMaxThreads) {
    return absl::InvalidArgumentError(absl::StrCat(tc.threads.size(), " threads: expected 1..", kMaxThreads));
  }
  bool vcpu_seen[kMaxVcpus] = {};
  for (size_t t = 0; t < tc.threads.size(); ++t) {
    const ThreadSpec& th = tc.threads[t];
    if (th.kind == ThreadKind::kVcpu) {
      if (th.vcpu >= c.vcpus) {
        return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": vcpu", int{th.vcpu}, " but vcpus=", c.vcpus));
      }
      if (vcpu_seen[th.vcpu]) {
        return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": vcpu", int{th.vcpu}, " already has a thread"));
      }
      vcpu_seen[th.vcpu] = true;
    }
    if (th.ops.size() > kMaxOpsPerThread) {
      return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": ", th.ops.size(), " ops, expected at most ", kMaxOpsPerThread));
    }
    for (const Op& op : th.ops) {
      if (op.kind >= OpKind::kCount) return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": bad op"));
      if (IsVcpuOp(op.kind) != (th.kind == ThreadKind::kVcpu)) {
        return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": op '", OpKindName(op.kind), "' is a ",
                                                       IsVcpuOp(op.kind) ? "vCPU" : "kernel", " op but the thread is a ",
                                                       th.kind == ThreadKind::kVcpu ? "vCPU" : "kernel", " thread"));
      }
      if (OpUsesGfn(op.kind) && op.gfn >= c.gfns) {
        return absl::InvalidArgumentError(absl::StrCat("thread ", t, ": op '", OpKindName(op.kind), " g", int{op.gfn},
                                                       "' but gfns=", c.gfns));
      }
    }
  }
  if (tc.schedule.size() > kMaxSegments) {
    return absl::InvalidArgumentError(absl::StrCat(tc.schedule.size(), " schedule segments: expected at most ", kMaxSegments));
  }
  for (const Segment& s : tc.schedule) {
    if (s.thread >= tc.threads.size()) {
      return absl::InvalidArgumentError(absl::StrCat("schedule names thread ", int{s.thread}, " but there are ",
                                                     tc.threads.size(), " threads"));
    }
    if (s.kind != SegmentKind::kToEnd && s.count == 0) {
      return absl::InvalidArgumentError("schedule segment with a count of 0: expected at least 1");
    }
  }
  return absl::OkStatus();
}

std::vector<Segment> SegmentsFromSteps(const std::vector<uint8_t>& steps) {
  std::vector<Segment> out;
  for (uint8_t t : steps) {
    if (!out.empty() && out.back().thread == t && out.back().count < 0xffff) {
      ++out.back().count;
    } else {
      out.push_back({t, SegmentKind::kSteps, Label::kH1, 1});
    }
  }
  return out;
}

uint8_t LoggedBitmapBits(const Config& c) {
  // kvm_mmu_slot_remove_write_access() (3.6) and its successors write-protect
  // the slot when logging is enabled.
  uint8_t bits = 0;
  if (!c.logging) return 0;
  for (int g = 0; g < c.gfns; ++g) {
    if (IsWritablePte(c.init_spte[g])) bits |= static_cast<uint8_t>(1u << g);
  }
  return bits;
}

}  // namespace sptefuzz
