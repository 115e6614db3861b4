#include "core/native.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace sptefuzz {

thread_local TraceStep Model::native_scratch_;

namespace {
inline void CpuRelax() { __builtin_ia32_pause(); }

// Spin, then yield: more OS threads than cores must still make progress.
template <class Pred>
void SpinUntil(Pred done) {
  for (int i = 0; !done(); ++i) {
    if (i < 256) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}
}  // namespace

// spin_lock(): test-and-test-and-set.
void Model::NativeLockAcquire(std::atomic<bool>& lock) {
  for (;;) {
    if (!lock.exchange(true, std::memory_order_acquire)) return;
    SpinUntil([&] { return !lock.load(std::memory_order_relaxed); });
  }
}

// spin_lock()/write_lock()/read_lock() of the real mmu_lock (an rwlock;
// the spinlock of older kernels is the write side).
void Model::NativeMmuLock(bool write) {
  for (;;) {
    int cur = mmu_rw_.load(std::memory_order_relaxed);
    if (write ? cur == 0 : cur >= 0) {
      if (mmu_rw_.compare_exchange_weak(cur, write ? -1 : cur + 1, std::memory_order_acquire)) return;
      continue;
    }
    SpinUntil([&] {
      const int c = mmu_rw_.load(std::memory_order_relaxed);
      return write ? c == 0 : c >= 0;
    });
  }
}

void Model::ReleaseSlotsLock() {
  slots_lock_holder_.store(-1, std::memory_order_relaxed);
  if (native_) slots_spin_.store(false, std::memory_order_release);
}

// kvm_flush_remote_tlbs() for one vCPU: make the request, then "IPI and
// wait" while the vCPU is in guest mode (in an access) or in a lockless walk.
// The vCPU drops its TLB at its next guest entry (NativeVcpuEnter).
void Model::NativeFlushVcpu(int v) {
  flush_req_[v].store(true, std::memory_order_seq_cst);
  SpinUntil([&] {
    return !vcpu_busy_[v].load(std::memory_order_seq_cst) && !in_lockless_walk_[v].load(std::memory_order_seq_cst);
  });
}

// Guest entry (H0): mark the vCPU in guest mode, then honour a pending flush
// request. The store/load pair is Dekker-style with NativeFlushVcpu: either
// the flusher sees the vCPU busy and waits, or the vCPU sees the request.
void Model::NativeVcpuEnter(VThread& t) {
  vcpu_busy_[t.vcpu].store(true, std::memory_order_seq_cst);
  if (flush_req_[t.vcpu].exchange(false, std::memory_order_seq_cst)) {
    DropTlb(t.vcpu);
  }
}

void Model::NativeLog(VThread& t, NativeEvent::Kind k, int g, uint8_t value) {
  native_log_[t.index].push_back(NativeEvent{clock_.fetch_add(1) + 1, k, t.index, static_cast<uint8_t>(g), value});
}

// The invariants that a native round can judge from its event log and the
// final state (spec §4: I1, I2, I3, I7 from the history; I8 on the final
// sptes). Per-step oracles need a global step order and are off.
void Model::NativeFinalChecks() {
  std::vector<NativeEvent> ev;
  for (int i = 0; i < nthreads_; ++i) ev.insert(ev.end(), native_log_[i].begin(), native_log_[i].end());
  std::sort(ev.begin(), ev.end(), [](const NativeEvent& a, const NativeEvent& b) { return a.time < b.time; });
  auto name = [&](int t) { return ThreadName(t); };
  std::array<uint64_t, kMaxGfns> last_write{}, wb_clear{}, inv_ret{}, protected_at{}, reported_until{};
  std::array<uint8_t, kMaxGfns> last_writer{};
  std::array<bool, kMaxGfns> in_window{};
  uint64_t log_enabled = tc_->config.logging ? 0 : UINT64_MAX;
  for (const NativeEvent& e : ev) {
    const int g = e.gfn;
    switch (e.kind) {
      case NativeEvent::kWrite:
        if (protected_at[g] != 0) {
          Fail(Invariant::kStaleTlbAfterPtProtect,
               absl::StrCat(name(e.thread), " wrote g", g, " after g", g, " became a write-protected page table"));
        }
        if (in_window[g]) {
          Fail(Invariant::kZapIncomplete, absl::StrCat(name(e.thread), " wrote g", g,
                                                       " between invalidate_range_start's return and _end"));
        }
        last_write[g] = e.time;
        last_writer[g] = e.thread;
        break;
      case NativeEvent::kInvReturn:
        inv_ret[g] = e.time;
        in_window[g] = true;
        break;
      case NativeEvent::kInvEnd:
        in_window[g] = false;
        break;
      case NativeEvent::kWbRead:
        if (!e.value && last_write[g] != 0 && last_write[g] > wb_clear[g] && last_write[g] <= inv_ret[g]) {
          Fail(Invariant::kLostPageDirty,
               absl::StrCat(name(e.thread), " wrote back g", g, " and found the page clean, but ", name(last_writer[g]),
                            " wrote g", g, " before the invalidation returned"));
        }
        wb_clear[g] = e.time;
        break;
      case NativeEvent::kProtected:
        protected_at[g] = e.time;
        break;
      case NativeEvent::kHarvestReturn:
        for (int x = 0; x < gfns_; ++x) {
          if ((e.value >> x) & 1) reported_until[x] = e.time;
        }
        break;
      case NativeEvent::kLogEnabled:
        if (log_enabled == UINT64_MAX) log_enabled = e.time;
        break;
    }
    if (Failed()) return;
  }
  // I1' (PML): the final harvest would kick the vCPUs and drain their buffers.
  uint8_t bitmap = bitmap_.load();
  for (int v = 0; v < vcpus_; ++v) bitmap |= pml_buf_[v].load();
  for (int g = 0; g < gfns_ && !Failed(); ++g) {
    const uint64_t w = last_write[g];
    if (log_enabled != UINT64_MAX && w != 0 && w > log_enabled && w > reported_until[g] && !((bitmap >> g) & 1)) {
      Fail(Invariant::kLostDirtyLog, absl::StrCat(name(last_writer[g]), " wrote g", g,
                                                  " after dirty logging was enabled, but no harvest reported it"));
    }
    const int leaf = LeafOf(g);  // a large leaf's D covers every gfn it maps
    const Spte s = spte_[leaf].load();
    const bool spte_dirty = SpteHoldsDirtyState(leaf, s);
    if (!Failed() && w != 0 && w > wb_clear[g] && !page_dirty_[g].load() && !spte_dirty) {
      Fail(Invariant::kLostPageDirty, absl::StrCat(name(last_writer[g]), " wrote g", g, " but at the end of the round its page is clean and spte g",
                                                   g, " {", SpteToString(s), "} holds no dirty state"));
    }
    if (!Failed() && IsShadowPresentPte(s) && IsWritablePte(s) && !IsMmuWritableSpte(s)) {
      Fail(Invariant::kSpteBits, absl::StrCat("spte g", g, " ended as {", SpteToString(s), "}: W without MMU-writable"));
    }
  }
}

// ---------------------------------------------------------------------------

NativeRunner::NativeRunner() : model_(std::make_unique<Model>()) {
  for (int i = 0; i < kMaxThreads; ++i) workers_.emplace_back([this, i] { Worker(i); });
}

NativeRunner::~NativeRunner() {
  stop_.store(true);
  round_.fetch_add(1);
  for (std::thread& w : workers_) w.join();
}

void NativeRunner::Worker(int index) {
  Arena arena;
  ArenaScope scope(&arena);
  uint64_t seen = 0;
  for (;;) {
    SpinUntil([&] { return round_.load(std::memory_order_acquire) != seen; });
    seen = round_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    if (index < active_.load(std::memory_order_acquire)) {
      arena.Reset();
      Model& m = *model_;
      VThread& t = m.threads_[index];
      // The whole body runs in one resume: no step suspends in native mode.
      Task body = m.ThreadBody(t, m.tc_->threads[index]);
      body.handle().resume();
      SPTEFUZZ_CHECK(t.done);
    }
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

const Result& NativeRunner::Run(const TestCase& tc, const Rules& rules) {
  Model& m = *model_;
  m.Reset(tc, rules, ExecOptions{});
  m.native_ = true;
  // Native mode models direct shadow pages only: its oracles log per slot.
  // With indirect=on, remap is then the no-op of a direct map (R0).
  m.indirect_ = false;
  m.clock_.store(0);
  m.nthreads_ = static_cast<int>(tc.threads.size());
  for (int i = 0; i < m.nthreads_; ++i) {
    VThread& t = m.threads_[i];
    t = VThread{};
    t.kind = tc.threads[i].kind;
    t.vcpu = tc.threads[i].vcpu;
    t.index = static_cast<uint8_t>(i);
    m.native_log_[i].clear();
  }
  active_.store(m.nthreads_, std::memory_order_release);
  finished_.store(0, std::memory_order_release);
  round_.fetch_add(1, std::memory_order_acq_rel);  // go
  SpinUntil([&] { return finished_.load(std::memory_order_acquire) == kMaxThreads; });
  if (!m.Failed()) m.NativeFinalChecks();
  m.result_.outcome = m.Failed() ? Outcome::kViolation : Outcome::kOk;
  m.result_.steps = 0;
  return m.result_;
}

}  // namespace sptefuzz
