// core/trace.h: what an execution did, step by step, and its verdict.
//
//   const Result& r = executor.Run(tc, rules, scheduler);
//   if (r.outcome == Outcome::kViolation) {
//     const Violation& v = r.violations[0];   // the primary finding
//     InvariantName(v.invariant);             // "lost-page-dirty"
//   }
//   r.TraceHash();                            // equal for equal traces
#ifndef SPTEFUZZ_CORE_TRACE_H_
#define SPTEFUZZ_CORE_TRACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/invariants.h"
#include "core/labels.h"
#include "core/spte.h"

namespace sptefuzz {

// The kind of shared-memory event a step performed (spec §0.1).
enum class Event : uint8_t {
  kNone,
  kLoad,        // LD(spte)
  kStore,       // ST(spte): plain store
  kXchg,        // XCHG(spte)
  kCasOk,       // CAS(spte) succeeded
  kCasFail,     // CAS(spte) failed
  kAnd,         // atomic fetch-and (clear_bit)
  kOr,          // atomic fetch-or (hardware D-assist, adversarial mode)
  kTlbHit,      // guest access satisfied by the TLB
  kTlbMissLoad, // guest access missed the TLB, page-walk load
  kBitSet,      // BITSET(dirty bitmap)
  kBmXchg,      // BMXCHG(bitmap word)
  kLock,        // mmu_lock acquired
  kUnlock,      // mmu_lock released
  kFlushVcpu,   // one vCPU's TLB flushed by FLUSH_ALL
  kNotifier,    // notifier seq/count read or updated
  kPageDirty,   // host writeback read-and-clear of page dirty
  kSlot,        // memslot with a dirty bitmap installed
  kTlbsDirty,   // kvm->tlbs_dirty++ (sync_page's deferred flush); aux = the new value
  kPmlFlush,    // PML buffers drained into the dirty bitmap (aux: the gfns set in the bitmap)
  kCount
};
const char* EventName(Event e);

// Flags of a TraceStep.
inline constexpr uint16_t kTraceWrite = 1 << 0;       // a guest write completed in this step
inline constexpr uint16_t kTraceRead = 1 << 1;        // a guest read completed in this step
inline constexpr uint16_t kTraceTlbFill = 1 << 2;     // tlb[vcpu][gfn] filled
inline constexpr uint16_t kTraceTlbDrop = 1 << 3;     // tlb[vcpu][gfn] invalidated (fault)
inline constexpr uint16_t kTracePageDirty = 1 << 4;   // PAGE_DIRTY(pfn) set (kvm_set_pfn_dirty)
inline constexpr uint16_t kTracePageAccessed = 1 << 5;
inline constexpr uint16_t kTraceBitmap = 1 << 6;      // dirty bitmap bit set
inline constexpr uint16_t kTraceFault = 1 << 7;       // the access faults to KVM after this step
inline constexpr uint16_t kTraceTlbDirty = 1 << 8;    // tlb[vcpu][gfn].d set by a D-assist
inline constexpr uint16_t kTraceEmulated = 1 << 9;    // the write was emulated by KVM
inline constexpr uint16_t kTracePml = 1 << 10;        // the CPU appended gfn to vcpu's PML buffer (D 0->1)

struct TraceStep {
  uint32_t step = 0;       // 1-based
  uint8_t thread = 0;
  Label label = Label::kH1;
  Event event = Event::kNone;
  uint8_t gfn = 0xff;      // the gfn (spte, bitmap bit, page) the step touched, 0xff if none
  uint8_t vcpu = 0xff;     // for TLB events and flushes: which vCPU's TLB
  uint16_t flags = 0;
  uint32_t aux = 0;        // event-specific: bitmap word for BMXCHG, tlb w/d bits, page-dirty value
  Spte before = 0;         // spte[gfn] before the step
  Spte after = 0;          // spte[gfn] after the step
};

struct Violation {
  Invariant invariant = Invariant::kCount;
  uint32_t step = 0;                   // detected at this step (0: at the end of the run)
  std::string explanation;             // one line naming threads and labels
  std::vector<uint32_t> cause_steps;   // earlier steps that caused it
};

enum class Outcome : uint8_t {
  kOk,         // every thread finished, every invariant held
  kViolation,  // an invariant was violated
  kStepLimit,  // the step limit was reached first (see ExecOptions::step_limit)
  kAborted,    // the scheduler abandoned the run (kAbortRun; DFS: a schedule already covered)
};
const char* OutcomeName(Outcome o);

struct Result {
  Outcome outcome = Outcome::kOk;
  std::vector<Violation> violations;   // all found at the failing step; [0] is primary
  std::vector<TraceStep> trace;
  std::vector<uint8_t> schedule;       // the thread picked at every step
  uint32_t steps = 0;
  // Model::StateDigest() at the end of a run without a violation, when
  // ExecOptions::digest_final_state asks for it; 0 otherwise.
  uint64_t final_state = 0;
  // FNV-1a over the trace and the verdict: equal runs give equal hashes.
  uint64_t TraceHash() const;
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_TRACE_H_
