// core/dfs_footprint.h: which shared objects a pending step touches, for
// partial-order reduction.
//
// A step's footprint covers its event and the local code that runs after it
// up to the thread's next scheduling point (that code executes atomically
// with the step). It is derived from the step's label, the operation it
// belongs to and the thread's vCPU, and over-approximates what any
// execution of that step can touch: objects are sptes, TLB entries, the
// page flags of a gfn, mmu_lock, what it guards, the notifier state (its
// notifier sequence), slots_lock (with the memslot's logging flag), the
// dirty bitmap, each vCPU's lockless-walk flag (which gates flush IPIs) and
// PML buffer, kvm->tlbs_dirty, the slot's logging flag, and
// the oracles' own history (an oracle's verdict must not depend on the
// order of two steps called independent).
//
//   Footprint a = StepFootprint(tc, /*thread=*/0, Label::kZ1, /*op=*/0);
//   Footprint b = StepFootprint(tc, 1, Label::kH1, 0);
//   if (Independent(a, b)) { ... either order reaches the same state ... }
#ifndef SPTEFUZZ_CORE_DFS_FOOTPRINT_H_
#define SPTEFUZZ_CORE_DFS_FOOTPRINT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/check.h"
#include "core/labels.h"
#include "core/testcase.h"

namespace sptefuzz {

// Bit sets of objects read, written, and updated commutatively (`add`:
// setting a bit or recording "happened since": two adds of the same object
// commute, an add and a read or write do not).
struct Footprint {
  uint64_t read = 0;
  uint64_t write = 0;
  uint64_t add = 0;
  bool operator==(const Footprint&) const = default;
};

// Object bits.
constexpr uint64_t FpSpte(int g) { return 1ull << g; }                  // spte_[g] (+ its change history)
constexpr uint64_t FpHist(int g) { return 1ull << (4 + g); }            // oracle history: last guest write/walk of g
constexpr uint64_t FpTlb(int v, int g) { return 1ull << (8 + v * 4 + g); }
inline constexpr uint64_t kFpMmuLock = 1ull << 20;  // the lock word and the current holder's bookkeeping
inline constexpr uint64_t kFpSlotsLock = 1ull << 21;  // slots_lock, and what its holder keeps (I4's per-ioctl state)
inline constexpr uint64_t kFpBitmap = 1ull << 22;   // the dirty bitmap
constexpr uint64_t FpWalk(int v) { return 1ull << (23 + v); }  // in_lockless_walk_[v]
constexpr uint64_t FpPageFlags(int g) { return 1ull << (26 + g); }  // page dirty/accessed of g
constexpr uint64_t FpWindow(int g) { return 1ull << (30 + g); }  // invalidation / pt-protect windows of g
inline constexpr uint64_t kFpNotifier = 1ull << 34;  // mmu_notifier_seq and _count
inline constexpr uint64_t kFpGuarded = 1ull << 35;   // rmap and shadowed-gfn table (guarded by mmu_lock)
constexpr uint64_t FpHostPte(int g) { return 1ull << (36 + g); }  // host pte of g (read-only KSM page or not)
constexpr uint64_t FpPml(int v) { return 1ull << (40 + v); }  // vCPU v's PML buffer
inline constexpr uint64_t kFpTlbsDirty = 1ull << 43;  // kvm->tlbs_dirty
inline constexpr uint64_t kFpLogging = 1ull << 44;    // the memslot's dirty-logging flag (it has a bitmap)
inline constexpr uint64_t kFpAll = ~0ull;

// Two steps of different threads are independent when neither writes an
// object the other touches and neither adds to an object the other reads:
// executing them in either order gives the same state, and neither enables
// or disables the other.
inline bool Independent(const Footprint& a, const Footprint& b) {
  return (a.write & (b.read | b.write | b.add)) == 0 && (b.write & (a.read | a.add)) == 0 &&
         (a.add & b.read) == 0 && (b.add & a.read) == 0;
}

// The footprint of thread `thread`'s pending step labeled `label`, in the
// operation with index `op` of that thread; `arg` is the step's argument
// (SchedView::pending_arg: the vCPU of a flush step), -1 if unknown.
Footprint StepFootprint(const TestCase& tc, int thread, Label label, int op, int arg = -1);

// StepFootprint() of one test case, memoized by thread, op and label (the
// explorers ask for the same few footprints at every step).
class FootprintMemo {
 public:
  // Sized for this test case's threads and longest op sequence (the
  // exhaustive search builds one per program, 201,240 of them for the
  // 3-op space).
  explicit FootprintMemo(const TestCase& tc)
      : tc_(tc), threads_(tc.threads.size()), ops_(MaxOps(tc)), memo_(threads_ * ops_ * kPerOp), known_(memo_.size(), 0) {
    // A validated test case (ValidateTestCase): an unknown op
    // (kMaxOpsPerThread, DfsExplorer) is past every sequence.
    SPTEFUZZ_CHECK(ops_ <= static_cast<size_t>(kMaxOpsPerThread) && threads_ <= static_cast<size_t>(kMaxThreads));
  }
  const Footprint& Get(int thread, Label label, int op, int arg) {
    static const Footprint kAll{kFpAll, kFpAll, kFpAll};
    // An op index past every sequence: not a step of the program (StepFootprint says all).
    if (op < 0 || static_cast<size_t>(op) >= ops_ || static_cast<size_t>(thread) >= threads_) return kAll;
    if (arg < 0 || arg >= kMaxVcpus) arg = kMaxVcpus;
    const size_t i = (static_cast<size_t>(thread) * ops_ + static_cast<size_t>(op)) * kPerOp +
                     static_cast<size_t>(label) * (kMaxVcpus + 1) + static_cast<size_t>(arg);
    if (!known_[i]) {
      memo_[i] = StepFootprint(tc_, thread, label, op, arg == kMaxVcpus ? -1 : arg);
      known_[i] = 1;
    }
    return memo_[i];
  }

 private:
  static constexpr size_t kPerOp = static_cast<size_t>(kLabelCount) * (kMaxVcpus + 1);
  static size_t MaxOps(const TestCase& tc) {
    size_t n = 1;
    for (const ThreadSpec& t : tc.threads) n = std::max(n, t.ops.size());
    return n;
  }
  const TestCase& tc_;
  size_t threads_, ops_;
  std::vector<Footprint> memo_;
  std::vector<uint8_t> known_;  // bytes, not vector<bool>: read at every node
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_DFS_FOOTPRINT_H_
