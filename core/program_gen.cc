#include "core/program_gen.h"

#include <algorithm>

#include "core/check.h"

namespace sptefuzz {
namespace {

// Initial spte shapes seen in the scenarios of spec §7.
Spte InitialSpte(SplitMix64& rng, bool ad) {
  constexpr Spte kBase = kSptePresent | kSpteHostW | kSpteMmuW;
  Spte s = 0;
  switch (rng.Below(6)) {
    case 0:
      return 0;                                  // not mapped yet
    case 1:
      s = kBase | kSpteA;                        // read-only after a harvest (S1, S2)
      break;
    case 2:
      s = kBase | kSpteA | kSpteW;               // writable, clean
      break;
    case 3:
      s = kBase | kSpteA | kSpteW | kSpteD;      // writable, dirty
      break;
    case 4:
      s = kBase | kSpteA | kSpteD;               // read-only, dirty
      break;
    default:
      s = kBase;                                 // read-only, not accessed
      break;
  }
  if (!ad) s &= ~(kSpteA | kSpteD);
  return s;
}

// A large leaf as a fault with logging off creates it (set_spte: W and
// MMU_W together, or neither when the host page is read-only).
Spte InitialLargeSpte(SplitMix64& rng, bool ad) {
  constexpr Spte kBase = kSptePresent | kSpteLarge | kSpteHostW;
  Spte s = 0;
  switch (rng.Below(3)) {
    case 0:
      s = kBase | kSpteA | kSpteW | kSpteMmuW;             // writable, clean
      break;
    case 1:
      s = kBase | kSpteA | kSpteW | kSpteMmuW | kSpteD;    // writable, dirty
      break;
    default:
      s = kSptePresent | kSpteLarge | kSpteA;              // read-only host page
      break;
  }
  if (!ad) s &= ~(kSpteA | kSpteD);
  return s;
}

OpKind KernelOp(SplitMix64& rng) {
  // clear_young (aging without a flush) matters for A/D-disabled sptes from
  // 4.12 on (B8): access tracking hides a writable TLB entry. change_pte
  // (KSM) makes a host page read-only (B14). zap-range yields mmu_lock in
  // the middle of a multi-root zap (B12). zap-atomic zaps under the read
  // lock (FROZEN_SPTE) beside faults that hold it too.
  static constexpr OpKind kOps[] = {OpKind::kWriteback, OpKind::kWriteback, OpKind::kZap,    OpKind::kAge,
                                    OpKind::kWpPt,      OpKind::kWpPt,      OpKind::kHarvest, OpKind::kHarvest,
                                    OpKind::kHarvest,   OpKind::kEnableLog, OpKind::kClearYoung,
                                    OpKind::kChangePte, OpKind::kZapRange, OpKind::kZapAtomic};
  return kOps[rng.Below(sizeof(kOps) / sizeof(kOps[0]))];
}

OpKind VcpuOp(SplitMix64& rng) {
  // sync-drop / sync-ro: the vCPU syncs an unsync shadow page whose guest
  // PTE for g changed (B9) or became read-only (B10); shadow MMU only.
  static constexpr OpKind kOps[] = {OpKind::kWrite, OpKind::kWrite,    OpKind::kWrite, OpKind::kRead,
                                    OpKind::kFault, OpKind::kFault,    OpKind::kSyncDrop, OpKind::kSyncRo};
  return kOps[rng.Below(sizeof(kOps) / sizeof(kOps[0]))];
}

}  // namespace

TestCase RandomTestCase(SplitMix64& rng, const GenOptions& opts) {
  TestCase tc;
  Config& c = tc.config;
  c.vcpus = 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(std::min(opts.max_vcpus, kMaxVcpus))));
  c.gfns = rng.Below(3) == 0 ? 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(std::min(opts.max_gfns, kMaxGfns)))) : 1;
  c.ad = rng.Below(5) != 0;
  c.logging = rng.Below(2) == 0;
  // PML (spec §3.6) under a third of the A/D-enabled configurations: dirty
  // logging by D bits and per-vCPU logs instead of write protection.
  c.pml = c.ad && rng.Below(3) == 0;
  c.dassist = opts.allow_adversarial_dassist && rng.Below(4) == 0 ? DAssist::kAdversarial : DAssist::kStrict;
  // Half of the configurations that can have one start with a large leaf
  // over every gfn (B4). The draw is made only for those, so the programs
  // of every other configuration are what they were before large leaves.
  c.large = c.gfns >= 2 && !c.logging && rng.Below(2) == 0;
  for (int g = 0; g < c.gfns; ++g) {
    if (!c.large) {
      c.init_spte[g] = InitialSpte(rng, c.ad);
    } else if (g == 0) {
      c.init_spte[g] = InitialLargeSpte(rng, c.ad);
    }
    const Spte s = c.init_spte[InitLeafOf(c, g)];
    // Under logging, a writable spte was made writable by a path that logged it.
    if (c.logging && (IsWritablePte(s) || rng.Below(3) == 0)) c.init_bitmap |= static_cast<uint8_t>(1u << g);
    for (int v = 0; v < c.vcpus; ++v) {
      if (!IsHardwarePresent(s) || (c.ad && !(s & kSpteA)) || rng.Below(3) != 0) continue;
      TlbEntry& e = c.init_tlb[v][g];
      e.valid = true;
      e.w = IsWritablePte(s) && rng.Below(4) != 0;
      e.d = c.ad ? (e.w && (s & kSpteD) && rng.Below(4) != 0) : false;
    }
  }
  // vCPU threads: one per vCPU (sometimes fewer), then kernel threads, in a
  // random order so that thread numbers do not imply roles.
  std::vector<ThreadSpec> threads;
  const int nv = c.vcpus;
  for (int v = 0; v < nv; ++v) {
    ThreadSpec t;
    t.kind = ThreadKind::kVcpu;
    t.vcpu = static_cast<uint8_t>(v);
    const int nops = 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(opts.max_ops)));
    for (int i = 0; i < nops; ++i) t.ops.push_back({VcpuOp(rng), static_cast<uint8_t>(rng.Below(c.gfns))});
    threads.push_back(std::move(t));
  }
  const int nk = 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(opts.max_kernel_threads)));
  for (int k = 0; k < nk; ++k) {
    ThreadSpec t;
    t.kind = ThreadKind::kKernel;
    const int nops = 1 + static_cast<int>(rng.Below(static_cast<uint32_t>(opts.max_ops)));
    for (int i = 0; i < nops; ++i) t.ops.push_back({KernelOp(rng), static_cast<uint8_t>(rng.Below(c.gfns))});
    for (Op& op : t.ops) {
      if (!OpUsesGfn(op.kind)) op.gfn = 0;
    }
    threads.push_back(std::move(t));
  }
  // Half of the configurations that can be an indirect shadow page (B3) are
  // one, and then a third of the vCPU ops become remap. Drawn after the
  // program, and only for those configurations.
  bool indirect_ok = c.ad && !c.pml && !c.large;
  for (const ThreadSpec& t : threads) {
    for (const Op& op : t.ops) indirect_ok = indirect_ok && IndirectAllowsOp(op.kind);
  }
  if (indirect_ok && rng.Below(2) == 0) {
    c.indirect = true;
    // Half of them start from what kvm_mmu_pte_write's prefetch leaves once
    // dirty logging write-protected it: P|HW|MW, no A (speculative), no TLB
    // entry (S3's starting point).
    if (rng.Below(2) == 0) {
      for (int g = 0; g < c.gfns; ++g) {
        c.init_spte[g] = kSptePresent | kSpteHostW | kSpteMmuW;
        for (int v = 0; v < kMaxVcpus; ++v) c.init_tlb[v][g] = TlbEntry{};
      }
    }
    for (ThreadSpec& t : threads) {
      if (t.kind != ThreadKind::kVcpu) continue;
      for (Op& op : t.ops) {
        if (rng.Below(3) == 0) op.kind = OpKind::kRemap;
      }
    }
  }
  for (size_t i = threads.size(); i > 1; --i) std::swap(threads[i - 1], threads[rng.Below(static_cast<uint32_t>(i))]);
  tc.threads = std::move(threads);
  SPTEFUZZ_CHECK(ValidateTestCase(tc).ok());
  return tc;
}

}  // namespace sptefuzz
