// core/testcase.h: what one execution runs: configuration, initial state,
// each virtual thread's operations, and the schedule.
//
// A TestCase is the common currency of the project: fuzz bytes, repro text
// and `explore`'s random programs all become one, and the Executor runs it.
//
//   TestCase tc;
//   tc.config.vcpus = 1; tc.config.gfns = 1; tc.config.logging = true;
//   tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
//   tc.threads = {{ThreadKind::kKernel, 0, {{OpKind::kWriteback, 0}}},
//                 {ThreadKind::kVcpu, 0, {{OpKind::kWrite, 0}}}};
//   tc.schedule = {{0, SegmentKind::kThrough, Label::kZ1, 1}, {1, SegmentKind::kToEnd}};
#ifndef SPTEFUZZ_CORE_TESTCASE_H_
#define SPTEFUZZ_CORE_TESTCASE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/labels.h"
#include "core/rules.h"
#include "core/spte.h"

namespace sptefuzz {

inline constexpr int kMaxVcpus = 3;
inline constexpr int kMaxGfns = 4;
inline constexpr int kMaxThreads = 6;
inline constexpr int kMaxOpsPerThread = 8;
inline constexpr int kMaxSegments = 64;

struct TlbEntry {
  bool valid = false;
  bool w = false;
  bool d = false;
  bool operator==(const TlbEntry&) const = default;
};

struct Config {
  int vcpus = 1;
  int gfns = 1;
  bool ad = true;           // AD_ENABLED: hardware A/D bits in sptes
  bool logging = false;     // dirty logging already enabled when the run starts
  // PML (enable_pml): the CPU appends a gfn to the vCPU's PML buffer when it
  // sets D in an spte, and dirty logging clears D instead of W (spec §3.1,
  // §3.6). Needs ad (PML logs EPT D-bit updates) and a kernel with PML
  // support (Rules::pml_support); without it the setting has no effect.
  bool pml = false;
  DAssist dassist = DAssist::kStrict;
  // The slot's gfns g0..g(gfns-1) lie in one 2M-aligned region backed by a
  // huge host page, and at the start one large (2M) leaf maps all of them:
  // init_spte[0] holds it, with the LARGE flag (spec §0.2, B4). Other slots
  // stay empty while the large leaf is present (Model::LeafOf). Only the
  // shadow (rmap) MMU models large leaves: under the TDP MMU the flag is
  // ignored and g0 starts as a 4K leaf (Model::Reset).
  bool large = false;
  // The spte slots g0..g(gfns-1) belong to one INDIRECT shadow page
  // (shadow paging: it shadows a guest page table, and the gfn of each slot
  // comes from the guest PTE, sp->gfns[]), not to a direct one (spec B3).
  // Slot g maps gfn g at the start; op remap repoints it to its alias gfn
  // g+kMaxGfns (g4..g7), backed by the same host page (pfn g: page reuse,
  // spec S3), and back. Shadow MMU only: the TDP MMU ignores the flag.
  // Needs ad=on (legacy sptes always have A/D), pml=off (PML is an EPT
  // feature), large=off, and none of the ops wp-pt, sync-drop, sync-ro,
  // zap-range (they name gfns through rmaps the model does not keep per
  // alias gfn).
  bool indirect = false;
  std::array<Spte, kMaxGfns> init_spte{};
  std::array<std::array<TlbEntry, kMaxGfns>, kMaxVcpus> init_tlb{};
  uint8_t init_bitmap = 0;  // bit g: gfn g is set in the dirty bitmap at start
  bool operator==(const Config&) const = default;
};

enum class ThreadKind : uint8_t { kVcpu, kKernel };

enum class OpKind : uint8_t {
  // vCPU (guest) operations
  kRead,       // guest read of gfn (H1..H5, faults handled by the vCPU thread)
  kWrite,      // guest write of gfn
  kFault,      // a write fault whose error code says not-present: straight to the slow path, then the write
  // kernel / userspace operations
  kZap,        // MMU-notifier invalidate_range_start + _end of gfn's page
  kWriteback,  // host writeback of gfn's page: invalidate, test-and-clear page dirty, end (spec §3.11)
  kAge,        // clear_flush_young of gfn's page
  kWpPt,       // gfn becomes a shadowed guest page table: account_shadowed + rmap_write_protect
  kEnableLog,  // KVM_SET_USER_MEMORY_REGION with LOG_DIRTY_PAGES
  kHarvest,    // KVM_GET_DIRTY_LOG
  kClearYoung, // MMU-notifier clear_young of gfn's page: aging without a TLB flush
  kChangePte,  // MMU-notifier change_pte: g's host page replaced by a read-only one (KSM merge)
  // vCPU operations added later (kept after the kernel ones so that enum
  // values, and the codec's op tables, of older inputs do not move)
  kSyncDrop,   // the guest changed the PTE that maps g in an unsync shadow page; the vCPU syncs it
               // (CR3 load -> mmu_sync_roots -> kvm_sync_page -> FNAME(sync_page) drops the spte)
  kSyncRo,     // the guest made that PTE read-only; FNAME(sync_page) rewrites the spte read-only (set_spte)
  // kernel operations added later (appended so that older inputs keep their meaning)
  kZapRange,   // kvm_zap_gfn_range(g, gfns): zap g..the last gfn under the write lock, may yield (spec B12)
  kZapAtomic,  // kvm_mmu_zap_collapsible_sptes() for g after dirty logging is off: TDP MMU zap under the
               // read lock (tdp_mmu_zap_spte_atomic, FROZEN_SPTE; Rules::zap_atomic), rmap zap under the write lock
  // vCPU operation (spec B3, config indirect=on): the guest repoints the PTE
  // behind spte slot g to the other gfn of that slot (same host page); the
  // write to its write-protected page table is emulated and reaches
  // kvm_mmu_pte_write(), which zaps the slot. Without indirect=on the
  // guest's page tables are not shadowed and KVM never sees the write.
  kRemap,
  kCount
};

struct Op {
  OpKind kind = OpKind::kRead;
  uint8_t gfn = 0;  // ignored by kEnableLog and kHarvest
  bool operator==(const Op&) const = default;
};

struct ThreadSpec {
  ThreadKind kind = ThreadKind::kVcpu;
  uint8_t vcpu = 0;  // for kVcpu threads: which vCPU
  std::vector<Op> ops;
  bool operator==(const ThreadSpec&) const = default;
};

enum class SegmentKind : uint8_t {
  kSteps,    // run `thread` for `count` steps
  kThrough,  // run `thread` until it has executed the `count`-th occurrence of `label`
  kToEnd,    // run `thread` until it finishes
};

// A segment ends early when its thread blocks or finishes, and a kThrough or
// kToEnd segment also when its thread yields in a spin-wait (a retry that
// needs another thread to progress, e.g. S4). After the last
// segment the default policy runs: keep the current thread while it can run,
// otherwise the lowest-numbered thread that can.
struct Segment {
  uint8_t thread = 0;
  SegmentKind kind = SegmentKind::kToEnd;
  Label label = Label::kH1;
  uint16_t count = 1;
  bool operator==(const Segment&) const = default;
};

struct TestCase {
  Config config;
  std::vector<ThreadSpec> threads;
  std::vector<Segment> schedule;
  bool operator==(const TestCase&) const = default;
};

bool IsVcpuOp(OpKind k);
bool OpUsesGfn(OpKind k);
// Whether config indirect=on allows op k (see Config::indirect).
bool IndirectAllowsOp(OpKind k);
const char* OpKindName(OpKind k);
std::optional<OpKind> ParseOpKind(absl::string_view name);

// Checks the limits and the consistency the model relies on (one thread per
// vCPU, vCPU ops only on vCPU threads, gfns in range, an initial TLB entry
// only where the initial spte allows it, ...). The message names what is
// wrong and what was expected.
absl::Status ValidateTestCase(const TestCase& tc);

// The dirty bitmap bits a start state must have: with logging on, every gfn
// whose spte is writable (enabling logging write-protects every spte, and
// whatever made one writable since then logged its gfn: fast_page_fault's
// mark_page_dirty_in_slot, the fault path's make_spte caller).
uint8_t LoggedBitmapBits(const Config& c);

// The slot that maps gfn g at the start: 0 for every gfn under a large
// leaf (config large=on), else g.
inline int InitLeafOf(const Config& c, int g) { return c.large ? 0 : g; }

// Run-length compression of a per-step thread sequence into kSteps segments.
std::vector<Segment> SegmentsFromSteps(const std::vector<uint8_t>& steps);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_TESTCASE_H_
