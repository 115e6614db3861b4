// core/model.h: the shared state of spec §2, the events of §0.1, the actors
// of §3 (as coroutines) and the oracles of §4. Internal to core/: users run
// test cases through Executor (core/executor.h).
//
// Model code reads like the kernel with every scheduling point visible:
//
//   Spte o = co_await At(t, Label::kZ1, [&] { return EvLoad(t, g); });
//
// The lambda is the event; it runs when the scheduler picks thread t.
#ifndef SPTEFUZZ_CORE_MODEL_H_
#define SPTEFUZZ_CORE_MODEL_H_

#include <array>
#include <atomic>
#include <coroutine>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/rules.h"
#include "core/scheduler.h"
#include "core/task.h"
#include "core/tsan.h"
#include "core/testcase.h"
#include "core/trace.h"

namespace sptefuzz {

struct ExecOptions {
  // Policy: an execution that reaches this many steps stops with
  // Outcome::kStepLimit. It is not a finding: with bounded operations every
  // thread finishes under the default policy, so only a scheduler that
  // starves a thread (or a spin-wait the model failed to mark as a yield)
  // gets there; end-of-run oracles are skipped because the run is not
  // quiescent. The limit is far above any real run (about 40-150 steps).
  uint32_t step_limit = 4000;
  // Fill Result::final_state with Model::StateDigest() when the run ends
  // without a violation (tests of partial-order reduction compare it).
  bool digest_final_state = false;
  // Record Result::trace. Without it a run is cheaper and its Result has
  // the schedule and the verdict only (the DFS re-runs a finding with it).
  bool record_trace = true;
  bool operator==(const ExecOptions&) const = default;
};

// What an MMU-notifier invalidation does to g's host page table entry
// between invalidate_range_start() and _end() (Model::Invalidate).
enum class HostPteChange : uint8_t {
  kNone,       // reclaim, writeback, munmap: the host mapping is not replaced here
  kKsmMerge,   // KSM replace_page(): a read-only KSM page replaces g's page
  kCowBreak,   // wp_page_copy(): a writable private copy replaces the read-only page
};

// What a thread waits for before its next step can run.
enum class Block : uint8_t {
  kNone,
  kMmuLock,       // mmu_lock (spinlock) must be free
  kSlotsLock,     // slots_lock must be free
  kMmuAndSlots,   // both (KVM_GET_DIRTY_LOG takes slots_lock then mmu_lock)
  kFlushVcpu,     // FLUSH_ALL's IPI waits while the target vCPU is in a lockless walk
  kMmuRead,       // mmu_lock taken for read (TDP MMU rwlock): no writer may hold it
};
inline constexpr int kBlockKinds = 6;

struct VThread {
  std::coroutine_handle<> resume;
  Label pending = Label::kH1;
  Block block = Block::kNone;
  uint8_t block_arg = 0;   // kFlushVcpu: the vCPU
  bool done = false;
  bool yielded = false;    // spin-wait retry: let others run
  bool emulated = false;   // the current write was emulated by the slow path
  ThreadKind kind = ThreadKind::kVcpu;
  uint8_t vcpu = 0;
  uint8_t index = 0;
};

// An atomic whose plain reads and writes are relaxed. READ_ONCE/WRITE_ONCE
// style accesses and the executor's bookkeeping must not create
// happens-before edges: TSan would then miss the races the kernel's memory
// model allows (only the lock, and fully ordered RMWs, order accesses).
template <class T>
struct Relaxed : std::atomic<T> {
  using std::atomic<T>::atomic;
  operator T() const noexcept { return this->load(std::memory_order_relaxed); }
  Relaxed& operator=(T v) noexcept {
    this->store(v, std::memory_order_relaxed);
    return *this;
  }
};

// One cell of state the kernel guards with mmu_lock (see Model::rmap_).
struct alignas(8) GuardedCell {
  uint64_t v = 0;
};

struct TlbSlot {
  bool valid = false, w = false, d = false;
  uint32_t fill_time = 0;
  uint32_t fill_step = 0;
  uint32_t dirty_time = 0;  // when d became 1 (fill or D-assist): I4 in PML mode
};

// One oracle-relevant event of a native-mode round, logged by the thread
// that performed it with a timestamp from a shared clock (spec §4's history).
struct NativeEvent {
  enum Kind : uint8_t { kWrite, kWbRead, kInvReturn, kInvEnd, kProtected, kHarvestReturn, kLogEnabled };
  uint64_t time;
  Kind kind;
  uint8_t thread;
  uint8_t gfn;
  uint8_t value;  // kWbRead: page was dirty; kHarvestReturn: reported gfn mask
};

// A run stopped between two steps, to be continued later (Model::Resume):
// the bytes of the model's run state and of its coroutine frames, which
// are copied back to the same addresses. The exhaustive search (core/dfs.h)
// continues from one instead of re-executing the schedule's prefix.
struct RunCheckpoint {
  std::vector<std::byte> state;     // Model's run state ([Model::StateBegin, StateEnd))
  std::vector<std::byte> frames;    // the arena's frames
  std::vector<uint8_t> schedule;    // the picks so far
  uint64_t epoch = 0;               // Model::config_epoch_ of the run (checked on Resume)
  int current = -1;                 // the run loop's own state: the last thread run
  uint32_t live = 0;                // and the threads not finished
};

class Model {
 public:
  Model();
  friend class NativeRunner;  // native mode (core/native.h) drives the actors on OS threads
  // Runs one execution. The returned reference is valid until the next Run.
  const Result& Run(const TestCase& tc, const Rules& rules, Scheduler& sched, const ExecOptions& opts);
  size_t arena_chunks() const { return arena_.chunks(); }
  // Called from Scheduler::Pick (before the step `v` describes): saves the
  // run as it stands. False, and *c unusable, where it cannot: a TSan build
  // (TSan's fiber state is not ours to copy), a run that records its
  // trace, or one whose frames outgrew the arena's first chunk.
  bool SaveCheckpoint(RunCheckpoint* c, const SchedView& v) const;
  // Continues the run `c` saved, from the Pick it was saved in: `sched`
  // is asked that Pick again. Every Run since the save must have been of
  // the same test case object, unchanged (its frames point into it), with
  // the same rules and options (checked, but for the test case's content);
  // the result is the one an uninterrupted run with the same picks gives.
  const Result& Resume(const RunCheckpoint& c, Scheduler& sched);

 private:
  // ---- runtime ----
  template <class F>
  struct StepAwaiter {
    Model* m;
    VThread* t;
    Label label;
    Block block;
    uint8_t block_arg;
    F f;
    // In native mode a step never suspends: the event runs at once on the
    // calling OS thread (blocking steps wait for real inside the event).
    bool await_ready() const noexcept { return m->native_; }
    void await_suspend(std::coroutine_handle<> h) noexcept {
      t->resume = h;
      t->pending = label;
      m->pending_[t->index] = label;
      m->pending_arg_[t->index] = block_arg;
      const uint32_t bit = 1u << t->index;
      m->blocked_[static_cast<int>(t->block)] &= ~bit;
      m->blocked_[static_cast<int>(block)] |= bit;
      t->block = block;
      t->block_arg = block_arg;
    }
    // noinline: clang-14's CoroSplit pass segfaults ("While splitting
    // coroutine @...SlowPageFault...") at -O2 when this is inlined into the
    // model's coroutines. The cost is one call per step.
    __attribute__((noinline)) decltype(auto) await_resume() {
      m->BeginStep(*t, label);
      return f();
    }
  };
  // One scheduling point: `f` is the shared-memory event of the step.
  template <class F>
  StepAwaiter<F> At(VThread& t, Label l, F f, Block b = Block::kNone, uint8_t arg = 0) {
    return StepAwaiter<F>{this, &t, l, b, arg, f};
  }

  // Read-modify-writes and stores of the shared state. In native mode OS
  // threads race on them, and under TSan their ordering is part of what
  // TSan sees: there they are the atomic operations they model. In the
  // deterministic modes one virtual thread runs at a time, so a relaxed
  // load and store do the same without a locked instruction (about 20
  // cycles, on every read_lock, dirty mark and PML append).
  bool RealAtomics() const { return native_ || kTsanBuild; }
  // Replaces a's value v by next(v) and returns v: a compare-and-swap loop
  // (a locked read-modify-write) where RealAtomics(), a load and a store
  // otherwise.
  template <class T, class F>
  T Rmw(std::atomic<T>& a, F next) {
    T old = a.load(std::memory_order_relaxed);
    if (RealAtomics()) {
      while (!a.compare_exchange_weak(old, next(old))) {
      }
    } else {
      a.store(next(old), std::memory_order_relaxed);
    }
    return old;
  }
  template <class T, class U>
  T FetchOr(std::atomic<T>& a, U v) {
    return Rmw(a, [v](T o) { return static_cast<T>(o | static_cast<T>(v)); });
  }
  template <class T, class U>
  T FetchAnd(std::atomic<T>& a, U v) {
    return Rmw(a, [v](T o) { return static_cast<T>(o & static_cast<T>(v)); });
  }
  template <class T, class U>
  T FetchAdd(std::atomic<T>& a, U v) {
    return Rmw(a, [v](T o) { return static_cast<T>(o + static_cast<T>(v)); });
  }
  template <class T, class U>
  T Exchange(std::atomic<T>& a, U v) {
    return Rmw(a, [v](T) { return static_cast<T>(v); });
  }
  template <class T, class U>
  void Store(std::atomic<T>& a, U v) {
    a.store(static_cast<T>(v), RealAtomics() ? std::memory_order_seq_cst : std::memory_order_relaxed);
  }

  void Reset(const TestCase& tc, const Rules& rules, const ExecOptions& opts);
  // Empties result_ for a run that starts (Reset) or continues (Resume).
  void ClearResult();
  // The scheduling loop of Run and Resume, from the state of a run whose
  // last step was thread `current`'s, with threads `live` not finished.
  const Result& RunLoop(Scheduler& sched, int current, uint32_t live);
  // The run state a checkpoint copies: the members from spte_ to
  // last_label_ (shared state, oracle history, native-mode flags, virtual
  // threads). Every member that owns memory or is not ours to copy
  // (result_, arena_, fibers_, native_log_, fail_mu_) and the run's
  // configuration are declared before it; the constructor checks.
  std::byte* StateBegin() { return reinterpret_cast<std::byte*>(&spte_); }
  std::byte* StateEnd() { return reinterpret_cast<std::byte*>(&last_label_ + 1); }
  const std::byte* StateBegin() const { return reinterpret_cast<const std::byte*>(&spte_); }
  const std::byte* StateEnd() const { return reinterpret_cast<const std::byte*>(&last_label_ + 1); }
  void BeginStep(VThread& t, Label l);
  void JoinUnfinished(uint32_t live);
  TraceStep& Rec() { return native_ ? native_scratch_ : *rec_; }
  void FinalChecks();
  // A hash of the shared state that decides what any future step or oracle
  // does, without the step numbers the oracles keep (which differ between
  // two orders of the same independent steps): sptes, TLB entries, bitmap,
  // PML buffers, page flags, what mmu_lock guards, locks, notifier state,
  // and which windows and histories are open.
  uint64_t StateDigest() const;
  // I2 at the end of a run (FinalChecks, NativeFinalChecks): whether the
  // value `s` of slot `leaf` still holds dirty state that a zap would move
  // to the page (mmu_spte_clear_track_bits, 3.6). The TDP MMU has no rmap:
  // its zap walks the paging structure. From 4.12 the zap transfers
  // is_dirty_spte(): W when A/D are off.
  bool SpteHoldsDirtyState(int leaf, Spte s) const {
    const bool linked = rules_.mmu == MmuKind::kTdp || rmap_[leaf].v != 0;
    const bool dirty_bits = rules_.update_rule == UpdateRule::kV412 ? IsDirtySpte(s, ad_) : (!ad_ || (s & kSpteD) != 0);
    return linked && IsShadowPresentPte(s) && dirty_bits;
  }

  // ---- events (each runs inside one step) ----
  Spte EvLoad(VThread& t, int g);
  void EvStore(VThread& t, int g, Spte n, Spte snapshot);
  Spte EvXchg(VThread& t, int g, Spte n);
  Spte EvCas(VThread& t, int g, Spte expected, Spte n);
  Spte EvAnd(VThread& t, int g, Spte mask);
  // mark_page_dirty: BITSET of `gfn` (default: the gfn spte slot g maps,
  // Model::GfnOf) if the memslot logs.
  void EvMarkPageDirty(VThread& t, int g, int gfn = -1);
  void EvLock(VThread& t);
  void EvUnlock(VThread& t);
  void EvReadLock(VThread& t);    // read_lock(&kvm->mmu_lock) (5.12+ rwlock)
  void EvReadUnlock(VThread& t);
  bool HoldsMmuLock(const VThread& t) const {
    return mmu_lock_holder_ == t.index || ((mmu_readers_ >> t.index) & 1) != 0;
  }
  // Empties vCPU v's TLB (a flush it has honoured).
  void DropTlb(int v) {
    for (int g = 0; g < gfns_; ++g) tlb_[v][g] = TlbSlot{};
  }
  void EvFlushVcpu(VThread& t, int v);
  uint64_t GuardedLoad(VThread& t, GuardedCell& c, const char* what);
  void GuardedStore(VThread& t, GuardedCell& c, uint64_t v, const char* what);
  void SetPageDirty(int g);
  void SetPageAccessed(int g);
  // ---- large leaves (config large=on, shadow MMU; spec B4) ----
  // The spte slot that maps gfn g now: slot 0 while it holds a present large
  // leaf (the 2M entry of the walk is a leaf), else g's own 4K slot. Read by
  // lockless walkers inside a step; under mmu_lock it is stable (a large
  // leaf is only installed or zapped by lock holders, and the lockless
  // writers, the fast path and the CPU, only add W, A and D).
  int LeafOf(int g) const {
    return large_ && g != 0 && IsShadowPresentPte(spte_[0]) && IsLargePte(spte_[0]) ? 0 : g;
  }
  // The gfns that the value `leaf` of spte slot `slot` maps (bit g).
  uint8_t LeafGfns(int slot, Spte leaf) const {
    return large_ && slot == 0 && IsLargePte(leaf) ? static_cast<uint8_t>((1u << gfns_) - 1)
                                                   : static_cast<uint8_t>(1u << slot);
  }
  // g's 4K rmap holds an spte (rmap_add at level 1): the walk that
  // kvm_mmu_write_protect_pt_masked() and __rmap_clear_dirty() do per gfn.
  bool Has4kRmap(VThread& t, int g) {
    return GuardedLoad(t, rmap_[g], "the rmap") != 0 && !(large_ && g == 0 && IsLargePte(spte_[0]));
  }
  // kvm_set_pfn_dirty()/kvm_set_pfn_accessed() with the pfn of a leaf:
  // for a large leaf that is the head page of the compound (THP/hugetlbfs)
  // page, whose flags cover every 4K page of it, so every gfn it maps.
  void SetLeafPageDirty(int slot, Spte leaf) {
    for (uint8_t m = LeafGfns(slot, leaf); m != 0; m &= m - 1) SetPageDirty(__builtin_ctz(m));
  }
  void SetLeafPageAccessed(int slot, Spte leaf) {
    for (uint8_t m = LeafGfns(slot, leaf); m != 0; m &= m - 1) SetPageAccessed(__builtin_ctz(m));
  }
  // ---- indirect shadow pages (config indirect=on, shadow MMU; spec B3) ----
  // The gfn that spte slot `slot` maps: sp->gfns[slot] of the indirect sp
  // (kvm_mmu_page_get_gfn), slot or its alias slot+kMaxGfns (op remap); a
  // direct sp's gfn is sp->gfn + index, i.e. the slot. The host page (pfn)
  // behind a slot never changes (page reuse, spec S3): page flags, host
  // writeback and notifiers stay per slot. Written only under mmu_lock
  // (kvm_mmu_pte_write), read locklessly by the fast path (the B3 mutation).
  int GfnOf(int slot) const { return indirect_ ? int{slot_gfn_[slot]} : slot; }
  // The slot whose spte maps gfn `gfn` now (the gfn's rmap), -1 if none.
  int SlotOfGfn(int gfn) const {
    if (!indirect_) return gfn;
    const int s = gfn % kMaxGfns;
    return slot_gfn_[s] == gfn ? s : -1;
  }
  // The spte changed from `old` to `now`; runs the per-step oracles.
  void OnSpteChange(VThread& t, int g, Spte old, Spte now);
  void RecordGuestWrite(VThread& t, int g);
  // I6 after a fast-path CAS made spte g writable from `o`.
  // `protected_before`: the gfns the spte maps whose page-table write
  // protection had processed it before the CAS (wp_done_, bit g).
  // `marks`: the gfn F4 will mark dirty (read at F2, before the CAS).
  void CheckFastPathWrite(VThread& t, int g, Spte o, uint8_t protected_before, int marks);
  uint8_t WpDoneMask(uint8_t gfns) const;
  void RecordGuestRead(VThread& t, int g);
  void FillTlb(VThread& t, int g, bool w, bool d);
  // PML (spec §3.1): the CPU set D of spte g (0 -> 1) for vCPU t: append g to
  // its PML buffer. No-op unless PML is on.
  void PmlAppend(VThread& t, int g);
  // vmx_flush_pml_buffer() of vCPU v: mark every logged gfn dirty in the
  // slot (mark_page_dirty) and empty the buffer. Returns the gfns marked.
  uint8_t PmlDrain(int v);

  // ---- actors ----
  Task ThreadBody(VThread& t, const ThreadSpec& spec);
  Task GuestAccess(VThread& t, int g, bool write, bool fault_first);
  // tdp_page_fault() / nonpaging_map() is inlined into GuestAccess (one
  // frame and one resume fewer per fault): whether the fast path is tried,
  // and the fast and slow handlers of these rules (not coroutines: they
  // return the handler's task).
  bool PageFaultCanBeFast(bool write, bool present) const;
  Task FastPathFault(VThread& t, int g, bool write, bool* slow);
  Task SlowPathFault(VThread& t, int g, bool write);
  Task FastPageFault(VThread& t, int g, bool* slow);
  Task SlowPageFault(VThread& t, int g, bool write);
  Task MmuSpteUpdate(VThread& t, int g, Spte n, bool* flush, bool track = true);
  Task MmuSpteClearTrackBits(VThread& t, int g, Spte* old_out = nullptr);
  Task SpteWriteProtect(VThread& t, int g, bool pt_protect, bool* flush);
  Task FlushAll(VThread& t);
  Task Invalidate(VThread& t, int g, bool writeback, HostPteChange host = HostPteChange::kNone);
  // Picks the aging handler and returns its task (not a coroutine itself).
  Task Age(VThread& t, int g, bool clear_young);
  Task AgeLocked(VThread& t, int g, bool clear_young);
  Task WriteProtectPageTable(VThread& t, int g);
  Task EnableDirtyLog(VThread& t);
  Task GetDirtyLog(VThread& t);
  Task VmExitFlushPml(VThread& t);  // PX: the VM exit of a fault drains the PML buffer
  // Whether VmExitFlushPml (vmx_flush_pml_buffer() on the VM exit) has a
  // step to take: PML in effect and the buffer not empty. Callers test it
  // first: most VM exits have nothing to drain, and a coroutine call costs
  // a frame and two indirect jumps.
  bool PmlToDrain(const VThread& t) const { return pml_ && pml_buf_[t.vcpu].load(std::memory_order_relaxed) != 0; }
  Task SpteClearDirty(VThread& t, int g, bool* flush);  // spte_clear_dirty(): D1 + UPD-U
  // ---- post-3.6 actors (actors_modern.cc) ----
  Task ModernFastPageFault(VThread& t, int g, bool write, bool* slow);
  Task TdpPageFault(VThread& t, int g, bool write);
  // The TDP MMU write-lock setter, __tdp_mmu_set_spte(): replaces `snap` by
  // `n` (n == snap & ~clear when clear != 0). It is one step (TW), so it is
  // not a coroutine: the caller co_awaits the returned step, which yields
  // the value it replaced (one frame and one resume fewer per call).
  struct TdpSetSpteEvent {
    enum class How : uint8_t { kStore, kAnd, kXchg };
    Model* m;
    VThread* t;
    int g;
    Spte snap, n, clear;
    How how;
    Spte operator()() const;
  };
  StepAwaiter<TdpSetSpteEvent> TdpSetSpte(VThread& t, int g, Spte snap, Spte n, Spte clear);
  Task TdpZapLeaf(VThread& t, int g);
  Task TdpWriteProtectGfn(VThread& t, int g, bool* flush);
  Task TdpAgeGfn(VThread& t, int g, bool* young);
  Task TdpAgeLockless(VThread& t, int g);
  Task ChangePteNotifier(VThread& t, int g);
  Task FaultinPfn(VThread& t, int g, bool* host_writable);  // the COW break (see FaultinPfnHasSteps)
  // kvm_faultin_pfn()'s common case, hva_to_pfn_fast() without a COW break:
  // no step, so no coroutine. Sets *host_writable and returns false; true
  // when FaultinPfn must run (a write fault on a read-only KSM page).
  bool FaultinPfnHasSteps(int g, bool write, bool* host_writable) const {
    if (write && host_ro_[g]) return true;
    *host_writable = !host_ro_[g];
    return false;
  }
  Task ShadowAgeAccessTrack(VThread& t, int g, bool* young);
  // wrprot_gfn_range() (bit W) / clear_dirty_gfn_range() (bit D, PML).
  Task TdpWrprotForLog(VThread& t, int g, Spte bit, bool* changed);
  void TrackDroppedSpte(int g, Spte old, Spte n);  // A/D transfer of a changed leaf
  // kvm_zap_gfn_range(g, gfns) (op zap-range, spec B12): zaps g..the last
  // gfn under the write lock, yielding it between gfns and between roots.
  Task ZapGfnRange(VThread& t, int g);
  // The yield of tdp_mmu_iter_cond_resched() / slot_handle_level_range():
  // flush first if `flush`, then drop mmu_lock and take it again.
  Task ZapRangeYield(VThread& t, bool flush);
  // kvm_mmu_zap_collapsible_sptes() for g (op zap-atomic): the TDP MMU's
  // read-lock zap (tdp_mmu_zap_spte_atomic with FROZEN_SPTE, or 6.13's
  // batched form, Rules::zap_atomic), the rmap MMU's write-lock zap.
  Task ZapCollapsible(VThread& t, int g);
  // Op remap (config indirect=on): kvm_mmu_pte_write() after the guest
  // repointed the PTE behind slot g (spec B3, S3).
  Task Remap(VThread& t, int g);
  // ---- unsync shadow pages (actors_sync.cc) ----
  // kvm_sync_page() -> FNAME(sync_page) for the spte of g: with `drop` the
  // guest PTE changed (drop_spte), else it became read-only (set_spte).
  Task SyncPage(VThread& t, int g, bool drop);
  // The zap of g this lock hold made is left to kvm->tlbs_dirty (I10 accepts it).
  void DeferHoldClears(int g);

  // ---- native mode ----
  void NativeLockAcquire(std::atomic<bool>& lock);
  void NativeMmuLock(bool write);
  void ReleaseSlotsLock();
  void NativeFlushVcpu(int v);
  void NativeVcpuEnter(VThread& t);   // guest entry: honour a pending flush request
  void NativeLog(VThread& t, NativeEvent::Kind k, int g, uint8_t value = 0);
  void NativeFinalChecks();

 public:
  // Test hook (native mode): called between a writeback's test-and-clear and
  // its log stamp, to widen that window. Null outside tests.
  static inline void (*native_wb_pause_for_test)(int thread) = nullptr;

 private:

  // ---- oracle helpers ----
  void Fail(Invariant inv, std::string why, std::vector<uint32_t> causes = {});
  std::string ThreadName(int t) const;
  std::string StepRef(uint32_t step) const;  // "step 7 (thread 1 (vcpu0) H4.cas)"
  void CheckDirtyLogReturn(VThread& t);      // I4 at the return of a dirty-log ioctl
  bool Failed() const { return failed_.load(std::memory_order_acquire); }

  // ---- configuration of the current execution ----
  // Bumped by Reset whenever the test case object, the rules or the options
  // differ from the previous run's: a checkpoint resumes only in its epoch.
  uint64_t config_epoch_ = 0;
  const TestCase* tc_ = nullptr;
  Rules rules_;
  ExecOptions opts_;
  Scheduler* sched_ = nullptr;
  bool ad_ = true;
  bool pml_ = false;  // PML in effect: config pml=on under a kernel with PML support
  bool large_ = false;  // config large=on under the shadow MMU
  bool indirect_ = false;  // config indirect=on under the shadow MMU, deterministic mode
  int vcpus_ = 1, gfns_ = 1;

  // ---- what a checkpoint does not copy (see StateBegin) ----
  Result result_;
  Arena arena_;
  TsanFiberPool<kMaxThreads> fibers_;
  std::array<std::vector<NativeEvent>, kMaxThreads> native_log_;  // native mode
  std::mutex fail_mu_;                                             // native mode

  // ---- shared state (spec §2); the run state starts here (StateBegin) ----
  // Lock-free state is atomic (sptes, the dirty bitmap, page flags, the
  // lockless-walk mode): the same code runs on real threads in native mode.
  // In the deterministic mode the loads and stores compile to plain moves.
  std::array<Relaxed<Spte>, kMaxGfns> spte_{};
  std::array<std::array<TlbSlot, kMaxGfns>, kMaxVcpus> tlb_{};
  std::atomic<uint8_t> bitmap_{0};
  std::atomic<bool> logging_{false};            // the slot has a dirty bitmap
  std::array<std::atomic<uint8_t>, kMaxVcpus> pml_buf_{};  // pml[v]: gfns logged by the CPU, not yet drained
  std::array<Relaxed<bool>, kMaxGfns> page_dirty_{}, page_accessed_{};
  // State the kernel guards with mmu_lock: plain memory, one 8-byte cell each
  // (TSan shadow cells are per 8 bytes), touched by actors only through
  // GuardedLoad/GuardedStore, which check the lock discipline and are the
  // only accesses TSan sees. Oracles read `.v` directly.
  std::array<GuardedCell, kMaxGfns> rmap_{};     // the rmap knows spte_[g] (rmap_add/rmap_remove)
  std::array<GuardedCell, kMaxGfns> shadowed_{}; // account_shadowed
  // The host page of g is read-only (a KSM page); a write fault breaks COW
  // (hva_to_pfn with FOLL_WRITE, Model::FaultinPfn) and makes it writable.
  // Read by faults without mmu_lock, hence atomic (native mode).
  std::array<Relaxed<bool>, kMaxGfns> host_ro_{};
  std::array<Relaxed<uint8_t>, kMaxGfns> slot_gfn_{};  // see GfnOf
  GuardedCell notifier_count_;                   // mmu_notifier_count
  std::array<std::atomic<bool>, kMaxVcpus> in_lockless_walk_{};
  Relaxed<int> mmu_lock_holder_{-1};
  Relaxed<uint32_t> mmu_readers_{0};  // bit t: thread t holds mmu_lock for read
  Relaxed<int> slots_lock_holder_{-1};
  std::atomic<uint32_t> notifier_seq_{0};  // read locklessly by the fault path (S1), written under the lock
  // kvm->tlbs_dirty (a4ee1ca4a36e .. 5.14): bumped under mmu_lock by
  // sync_page, reset by kvm_flush_remote_tlbs with a cmpxchg of its snapshot.
  std::atomic<uint32_t> tlbs_dirty_{0};
  alignas(8) uint64_t mmu_lock_sync_ = 0;  // TSan sync object of the modeled mmu_lock

  // ---- oracle history ----
  uint32_t now_ = 0;                             // steps so far (the current step's number)
  bool at_end_ = false;                          // FinalChecks() is running
  std::array<uint32_t, kMaxGfns> last_write_{};  // step of the last guest write (0: none)
  std::array<uint32_t, kMaxGfns> last_walk_{};   // step of the last hardware walk (I5)
  std::array<uint32_t, kMaxGfns> spte_changed_at_{};
  uint32_t log_enabled_at_ = UINT32_MAX;         // return of enable-log (I1's e)
  // Per gfn of the dirty log, alias gfns (config indirect=on) included: the
  // last guest write to the gfn (I1; last_write_ is per page, I2) and the
  // latest return of a harvest reporting it.
  std::array<uint32_t, 2 * kMaxGfns> last_gfn_write_{};
  std::array<uint32_t, 2 * kMaxGfns> reported_until_{};
  std::array<uint32_t, kMaxGfns> wb_cleared_at_{};
  std::array<uint32_t, kMaxGfns> inv_returned_at_{};
  std::array<bool, kMaxGfns> inv_window_{};      // between range_start's return and range_end
  // I8e: the thread that made spte g FROZEN (-1: g is not frozen).
  std::array<int8_t, kMaxGfns> frozen_owner_{};
  std::array<bool, kMaxGfns> wp_done_{};         // pt write-protect of g has processed its spte
  std::array<bool, kMaxGfns> pt_protected_{};    // ... and released mmu_lock (I3 window)
  std::array<uint32_t, kMaxGfns> pt_protected_at_{};
  // What the current mmu_lock holder zapped or made non-writable (I10).
  struct HoldClear {
    uint8_t g;
    bool zap;
    uint32_t at;
  };
  std::array<HoldClear, 16> hold_clears_{};
  int n_hold_clears_ = 0;
  // The dirty-log ioctl in progress (I4): when each gfn was processed.
  std::array<uint32_t, kMaxGfns> dlog_done_at_{};
  uint8_t dlog_reported_ = 0;
  uint8_t dlog_processed_ = 0;

  // ---- native mode ----
  bool native_ = false;
  static thread_local TraceStep native_scratch_;
  TraceStep scratch_;          // the current step's record when no trace is kept
  TraceStep* rec_ = &scratch_;  // the current step's record (Rec())
  std::atomic<int> mmu_rw_{0};  // the real mmu_lock: -1 writer, n > 0 readers
  std::atomic<bool> slots_spin_{false};
  // The host's page lock of each gfn, held across a writeback's test-and-clear
  // and its log stamp (Invalidate's WB step).
  std::array<std::atomic<bool>, kMaxGfns> native_page_lock_{};
  std::array<std::atomic<bool>, kMaxVcpus> flush_req_{}, vcpu_busy_{};
  std::atomic<uint64_t> clock_{0};

  // ---- runtime ----
  std::array<VThread, kMaxThreads> threads_{};
  std::array<Label, kMaxThreads> pending_{};  // threads_[i].pending, contiguous for SchedView
  std::array<uint8_t, kMaxThreads> pending_op_{};  // the op of each thread's pending step (SchedView)
  std::array<uint8_t, kMaxThreads> pending_arg_{};  // its block argument (SchedView::pending_arg)
  // blocked_[b]: bit t set iff threads_[t].block == b (RunLoop's enabled
  // set without a look at every thread).
  std::array<uint32_t, kBlockKinds> blocked_{};
  int nthreads_ = 0;
  std::atomic<bool> failed_{false};  // result_.violations is non-empty
  Label last_label_ = Label::kH1;  // the run state ends here (StateEnd)
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_MODEL_H_
