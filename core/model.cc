// The runtime loop, the events of spec §0.1 and the oracles of spec §4.
// The actors (spec §3) are in actors.cc.
#include "core/model.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/check.h"

namespace sptefuzz {

namespace {
constexpr Spte kWriteBits = kSpteW | kSpteMmuW;
}  // namespace

Model::Model() {
  result_.trace.reserve(8192);
  result_.schedule.reserve(8192);
  // A checkpoint copies [StateBegin, StateEnd) as bytes: nothing that owns
  // memory, nor TSan's fibers, may lie inside.
  auto outside = [this](const void* p, size_t n) {
    const std::byte* b = static_cast<const std::byte*>(p);
    return b + n <= StateBegin() || b >= StateEnd();
  };
  SPTEFUZZ_CHECK(StateBegin() < StateEnd());
  SPTEFUZZ_CHECK(outside(&result_, sizeof(result_)) && outside(&arena_, sizeof(arena_)) &&
                 outside(&fibers_, sizeof(fibers_)) && outside(&native_log_, sizeof(native_log_)) &&
                 outside(&fail_mu_, sizeof(fail_mu_)) && outside(&rules_, sizeof(rules_)) &&
                 outside(&opts_, sizeof(opts_)) && outside(&tc_, sizeof(tc_)) &&
                 outside(&config_epoch_, sizeof(config_epoch_)));
}

bool Model::SaveCheckpoint(RunCheckpoint* c, const SchedView& v) const {
  if (kTsanBuild || native_ || opts_.record_trace || Failed()) return false;
  if (!arena_.CopyOut(&c->frames)) return false;
  c->state.assign(StateBegin(), StateEnd());
  c->schedule.assign(result_.schedule.begin(), result_.schedule.end());
  c->epoch = config_epoch_;
  c->current = v.current;
  c->live = v.live;
  return true;
}

const Result& Model::Resume(const RunCheckpoint& c, Scheduler& sched) {
  SPTEFUZZ_CHECK(c.epoch == config_epoch_ && c.state.size() == static_cast<size_t>(StateEnd() - StateBegin()));
  std::memcpy(StateBegin(), c.state.data(), c.state.size());
  arena_.CopyIn(c.frames);
  ClearResult();
  result_.schedule.assign(c.schedule.begin(), c.schedule.end());
  sched_ = &sched;
  ArenaScope scope(&arena_);
  return RunLoop(sched, c.current, c.live);
}

// ---------------------------------------------------------------------------
// Runtime

void Model::Reset(const TestCase& tc, const Rules& rules, const ExecOptions& opts) {
  if (tc_ != &tc || !(rules_ == rules) || !(opts_ == opts)) ++config_epoch_;
  tc_ = &tc;
  rules_ = rules;
  opts_ = opts;
  const Config& c = tc.config;
  ad_ = c.ad;
  pml_ = c.pml && c.ad && rules.pml_support;
  vcpus_ = c.vcpus;
  gfns_ = c.gfns;
  // Large leaves are modeled for the shadow (rmap) MMU only: under the TDP
  // MMU large=on is ignored and g0 starts as a 4K leaf.
  large_ = c.large && rules.mmu == MmuKind::kShadow;
  // Indirect shadow pages exist only under the shadow MMU (shadow paging);
  // under the TDP MMU the guest's page tables are not shadowed, so remap is
  // invisible to KVM. (Native mode turns the flag off too, NativeRunner::Run.)
  indirect_ = c.indirect && rules.mmu == MmuKind::kShadow;
  for (int g = 0; g < kMaxGfns; ++g) slot_gfn_[g] = static_cast<uint8_t>(g);
  for (int g = 0; g < kMaxGfns; ++g) spte_[g].store(c.init_spte[g], std::memory_order_relaxed);
  if (!large_) spte_[0].store(c.init_spte[0] & ~kSpteLarge, std::memory_order_relaxed);
  for (int v = 0; v < kMaxVcpus; ++v) {
    for (int g = 0; g < kMaxGfns; ++g) {
      const TlbEntry& e = c.init_tlb[v][g];
      tlb_[v][g] = TlbSlot{e.valid, e.w, e.d, 0, 0, 0};
      // large=on ignored (TDP MMU): only g0 is mapped, so the entries that
      // cached the large leaf for the other gfns are gone too.
      if (c.large && !large_ && g != 0) tlb_[v][g] = TlbSlot{};
    }
    pml_buf_[v].store(0, std::memory_order_relaxed);
  }
  bitmap_.store(c.init_bitmap, std::memory_order_relaxed);
  logging_.store(c.logging, std::memory_order_relaxed);
  for (int g = 0; g < kMaxGfns; ++g) {
    page_dirty_[g].store(false, std::memory_order_relaxed);
    page_accessed_[g].store(false, std::memory_order_relaxed);
  }
  if (rules.page_dirty_at_origin) {
    // An MMU-writable spte was created writable, and its page dirtied then;
    // a writeback since would have zapped it.
    for (int g = 0; g < kMaxGfns; ++g) page_dirty_[g] = IsMmuWritableSpte(c.init_spte[InitLeafOf(c, g)]);
  }
  for (int g = 0; g < kMaxGfns; ++g) rmap_[g].v = IsShadowPresentPte(spte_[g]);
  shadowed_ = {};
  for (auto& h : host_ro_) h = false;
  for (int v = 0; v < kMaxVcpus; ++v) {
    in_lockless_walk_[v].store(false, std::memory_order_relaxed);
    flush_req_[v].store(false, std::memory_order_relaxed);
    vcpu_busy_[v].store(false, std::memory_order_relaxed);
  }
  mmu_lock_holder_ = -1;
  mmu_readers_ = 0;
  slots_lock_holder_ = -1;
  mmu_rw_.store(0, std::memory_order_relaxed);
  for (std::atomic<bool>& l : native_page_lock_) l.store(false, std::memory_order_relaxed);
  slots_spin_.store(false, std::memory_order_relaxed);
  notifier_seq_.store(0, std::memory_order_relaxed);
  tlbs_dirty_.store(0, std::memory_order_relaxed);
  native_ = false;
  failed_.store(false, std::memory_order_relaxed);
  notifier_count_.v = 0;
  now_ = 0;
  at_end_ = false;
  last_write_ = {};
  last_gfn_write_ = {};
  last_walk_ = {};
  spte_changed_at_ = {};
  log_enabled_at_ = c.logging ? 0 : UINT32_MAX;
  reported_until_ = {};
  wb_cleared_at_ = {};
  inv_returned_at_ = {};
  inv_window_ = {};
  wp_done_ = {};
  frozen_owner_.fill(-1);
  pt_protected_ = {};
  pt_protected_at_ = {};
  n_hold_clears_ = 0;
  dlog_done_at_ = {};
  dlog_reported_ = 0;
  dlog_processed_ = 0;
  ClearResult();
  arena_.Reset();
}

void Model::ClearResult() {
  result_.outcome = Outcome::kOk;
  result_.violations.clear();
  result_.trace.clear();
  result_.schedule.clear();
  result_.steps = 0;
  result_.final_state = 0;
}

void Model::JoinUnfinished(uint32_t live) {
  // Threads cut off by a finding or the step limit never finish; join them
  // (for TSan) so the next execution's accesses are ordered after theirs.
  if (!kTsanBuild) return;
  for (uint32_t rest = live; rest != 0; rest &= rest - 1) {
    fibers_.Enter(__builtin_ctz(rest), /*sync=*/false);
    fibers_.Leave(/*sync=*/true);
  }
}

uint64_t Model::GuardedLoad(VThread& t, GuardedCell& c, const char* what) {
  if (!HoldsMmuLock(t)) {
    Fail(Invariant::kLockDiscipline, absl::StrCat(ThreadName(t.index), " read ", what, " at ", LabelName(Rec().label),
                                                  " without holding mmu_lock"));
  }
  if (native_) return c.v;  // real threads are not TSan-ignored
  [[maybe_unused]] TsanVisible visible;
  return c.v;
}

void Model::GuardedStore(VThread& t, GuardedCell& c, uint64_t v, const char* what) {
  if (mmu_lock_holder_ != t.index) {
    Fail(Invariant::kLockDiscipline, absl::StrCat(ThreadName(t.index), " wrote ", what, " at ", LabelName(Rec().label),
                                                  " without holding mmu_lock"));
  }
  if (native_) {
    c.v = v;
    return;
  }
  [[maybe_unused]] TsanVisible visible;
  c.v = v;
}

void Model::BeginStep(VThread& t, Label l) {
  if (native_) {
    native_scratch_ = TraceStep{};
    native_scratch_.thread = t.index;
    native_scratch_.label = l;
    return;
  }
  ++now_;
  t.yielded = false;
  last_label_ = l;
  if (opts_.record_trace) {
    rec_ = &result_.trace.emplace_back();  // capacity reserved: no reallocation below the step limit
  } else {
    scratch_ = TraceStep{};
    rec_ = &scratch_;
  }
  TraceStep& r = *rec_;
  r.step = now_;
  r.thread = t.index;
  r.label = l;
}

const Result& Model::Run(const TestCase& tc, const Rules& rules, Scheduler& sched, const ExecOptions& opts) {
  Reset(tc, rules, opts);
  sched_ = &sched;
  ArenaScope scope(&arena_);
  nthreads_ = static_cast<int>(tc.threads.size());
  blocked_.fill(0);
  blocked_[static_cast<int>(Block::kNone)] = (1u << nthreads_) - 1;
  for (int i = 0; i < nthreads_; ++i) {
    VThread& t = threads_[i];
    t = VThread{};
    t.kind = tc.threads[i].kind;
    t.vcpu = tc.threads[i].vcpu;
    t.index = static_cast<uint8_t>(i);
    Task body = ThreadBody(t, tc.threads[i]);
    // Run to the first scheduling point (no shared-memory event happens
    // before it: everything before the first co_await At() is local). The
    // first switch into the fiber synchronizes: it models thread start.
    fibers_.Enter(i, /*sync=*/true);
    body.handle().resume();
    fibers_.Leave(/*sync=*/t.done);
  }
  sched.Begin(tc);
  uint32_t live = 0;  // threads not done
  for (int i = 0; i < nthreads_; ++i) live |= static_cast<uint32_t>(!threads_[i].done) << i;
  return RunLoop(sched, /*current=*/-1, live);
}

const Result& Model::RunLoop(Scheduler& sched, int current, uint32_t live) {
  SchedView view;
  view.threads = nthreads_;
  view.pending = pending_.data();
  view.pending_op = pending_op_.data();
  view.pending_arg = pending_arg_.data();
  for (;;) {
    // Which threads can take their next step. Only lock waits and flush IPIs
    // block; everything else is always enabled.
    const bool mmu_free = mmu_lock_holder_ < 0 && mmu_readers_ == 0;
    const bool slots_free = slots_lock_holder_ < 0;
    auto if_free = [this](bool free, Block b) { return free ? blocked_[static_cast<int>(b)] : 0u; };
    uint32_t enabled = blocked_[static_cast<int>(Block::kNone)] | if_free(mmu_free, Block::kMmuLock) |
                       if_free(slots_free, Block::kSlotsLock) | if_free(mmu_free && slots_free, Block::kMmuAndSlots) |
                       if_free(mmu_lock_holder_ < 0, Block::kMmuRead);
    // A flush IPI waits for its target vCPU's lockless walk to end.
    for (uint32_t rest = blocked_[static_cast<int>(Block::kFlushVcpu)] & live; rest != 0; rest &= rest - 1) {
      const int i = __builtin_ctz(rest);
      enabled |= static_cast<uint32_t>(!in_lockless_walk_[threads_[i].block_arg]) << i;
    }
    enabled &= live;
    if (live == 0) break;
    if (enabled == 0) {
      std::string who;
      for (int i = 0; i < nthreads_; ++i) {
        if (!threads_[i].done) absl::StrAppend(&who, who.empty() ? "" : ", ", ThreadName(i), " at ", LabelName(threads_[i].pending));
      }
      Fail(Invariant::kDeadlock, absl::StrCat("no thread can run: ", who, " wait forever"));
      break;
    }
    if (now_ >= opts_.step_limit) {
      JoinUnfinished(live);
      result_.outcome = Outcome::kStepLimit;
      result_.steps = now_;
      return result_;
    }
    view.enabled = enabled;
    view.live = live;
    view.current = current;
    view.current_yielded = current >= 0 && threads_[current].yielded;
    view.step = now_;
    const int pick = sched.Pick(view);
    if (pick == kAbortRun) {
      JoinUnfinished(live);
      result_.outcome = Outcome::kAborted;
      result_.steps = now_;
      return result_;
    }
    SPTEFUZZ_CHECK(pick >= 0 && pick < nthreads_ && ((enabled >> pick) & 1));
    result_.schedule.push_back(static_cast<uint8_t>(pick));
    current = pick;
    fibers_.Enter(pick, /*sync=*/false);
    threads_[pick].resume.resume();
    // A finished thread's last switch out synchronizes: thread join.
    fibers_.Leave(/*sync=*/threads_[pick].done);
    if (threads_[pick].done) live &= ~(1u << pick);
    sched.Observe(pick, last_label_);
    if (Failed()) break;
  }
  JoinUnfinished(live);
  if (!Failed()) FinalChecks();
  result_.outcome = Failed() ? Outcome::kViolation : Outcome::kOk;
  result_.steps = now_;
  if (opts_.digest_final_state && !Failed()) result_.final_state = StateDigest();
  return result_;
}

uint64_t Model::StateDigest() const {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  };
  for (int g = 0; g < kMaxGfns; ++g) {
    mix(spte_[g]);
    mix(uint64_t{page_dirty_[g]} | uint64_t{page_accessed_[g]} << 1 | uint64_t{host_ro_[g]} << 2 |
        uint64_t{wp_done_[g]} << 3 | uint64_t{pt_protected_[g]} << 4 | uint64_t{inv_window_[g]} << 5 |
        uint64_t{last_write_[g] != 0} << 6 | uint64_t{last_walk_[g] != 0} << 7 | uint64_t{wb_cleared_at_[g] != 0} << 8);
    mix(rmap_[g].v << 32 | shadowed_[g].v << 16 | uint64_t{slot_gfn_[g]} << 8 | static_cast<uint8_t>(frozen_owner_[g]));
    for (int v = 0; v < kMaxVcpus; ++v) {
      const TlbSlot& e = tlb_[v][g];
      mix(uint64_t{e.valid} | uint64_t{e.w} << 1 | uint64_t{e.d} << 2 | uint64_t(v) << 8 | uint64_t(g) << 16);
    }
  }
  for (int g = 0; g < 2 * kMaxGfns; ++g) {
    mix(uint64_t{last_gfn_write_[g] != 0} | uint64_t{reported_until_[g] != 0} << 1);
  }
  for (int v = 0; v < kMaxVcpus; ++v) mix(pml_buf_[v].load(std::memory_order_relaxed));
  mix(bitmap_.load(std::memory_order_relaxed) | uint64_t{logging_.load(std::memory_order_relaxed)} << 8 |
      uint64_t{log_enabled_at_ != UINT32_MAX} << 9);
  mix(notifier_count_.v << 32 | notifier_seq_.load(std::memory_order_relaxed));
  mix(tlbs_dirty_.load(std::memory_order_relaxed));
  mix(static_cast<uint64_t>(mmu_lock_holder_ + 1) | uint64_t{mmu_readers_} << 8 |
      static_cast<uint64_t>(slots_lock_holder_ + 1) << 40);
  return h;
}

// ---------------------------------------------------------------------------
// Events. Each runs inside the step BeginStep() opened.

Spte Model::EvLoad(VThread& t, int g) {
  TraceStep& r = Rec();
  r.event = Event::kLoad;
  r.gfn = static_cast<uint8_t>(g);
  r.before = r.after = spte_[g];
  return spte_[g];
}

void Model::EvStore(VThread& t, int g, Spte n, Spte snapshot) {
  if (native_) {
    spte_[g].store(n, std::memory_order_release);  // WRITE_ONCE
    return;
  }
  const Spte m = spte_[g].load(std::memory_order_relaxed);
  TraceStep& r = Rec();
  r.event = Event::kStore;
  r.gfn = static_cast<uint8_t>(g);
  r.before = m;
  r.after = n;
  r.aux = static_cast<uint32_t>(snapshot);
  spte_[g].store(n, std::memory_order_relaxed);
  // I9: a plain store computed from `snapshot` must not undo a change that
  // another thread made to the spte since (a lost update). A zap (storing a
  // non-present value) removes everything on purpose; what it loses is
  // judged by I2 through the A/D transfer instead.
  if (IsShadowPresentPte(n) && m != snapshot) {
    const Spte relevant = kSpteW | kSpteD | kSpteR | kSpteX | kSpteAccTrk | kSpteMmuW | kSpteHostW;
    const Spte concurrent = m ^ snapshot;
    const Spte undone = concurrent & ~(snapshot ^ n) & relevant;
    // Under STRICT_A (I5, opt-in) an A set by hardware and lost by the store
    // without PAGE_ACCESSED is a lost access.
    if (rules_.strict_a && (concurrent & ~(snapshot ^ n) & kSpteA) != 0 && (m & kSpteA) && !(n & kSpteA)) {
      Fail(Invariant::kLostAccessed,
           absl::StrCat(ThreadName(t.index), " stored {", SpteToString(n), "} into spte g", g, " at ", LabelName(r.label),
                        ", computed from {", SpteToString(snapshot), "}, and dropped the A bit set at ",
                        StepRef(spte_changed_at_[g]), " without marking the page accessed"),
           {spte_changed_at_[g]});
    }
    if (undone != 0) {
      Fail(Invariant::kResurrectedBits,
           absl::StrCat(ThreadName(t.index), " stored {", SpteToString(n), "} into spte g", g, " at ", LabelName(r.label),
                        ", computed from {", SpteToString(snapshot), "}, but memory held {", SpteToString(m),
                        "}: the concurrent change of {", SpteToString(undone), "} made at ", StepRef(spte_changed_at_[g]),
                        " is lost"),
           {spte_changed_at_[g]});
    }
  }
  OnSpteChange(t, g, m, n);
}

Spte Model::EvXchg(VThread& t, int g, Spte n) {
  if (native_) return spte_[g].exchange(n);
  const Spte m = spte_[g].load(std::memory_order_relaxed);
  TraceStep& r = Rec();
  r.event = Event::kXchg;
  r.gfn = static_cast<uint8_t>(g);
  r.before = m;
  r.after = n;
  spte_[g].store(n, std::memory_order_relaxed);
  OnSpteChange(t, g, m, n);
  return m;
}

Spte Model::EvCas(VThread& t, int g, Spte expected, Spte n) {
  if (native_) {
    Spte e = expected;
    spte_[g].compare_exchange_strong(e, n);  // cmpxchg64: e becomes the value seen
    return e;
  }
  const Spte m = spte_[g].load(std::memory_order_relaxed);
  TraceStep& r = Rec();
  r.gfn = static_cast<uint8_t>(g);
  r.before = m;
  if (m == expected) {
    r.event = Event::kCasOk;
    spte_[g].store(n, std::memory_order_relaxed);
    r.after = n;
    OnSpteChange(t, g, m, n);
  } else {
    r.event = Event::kCasFail;
    r.after = m;
  }
  return m;
}

Spte Model::EvAnd(VThread& t, int g, Spte mask) {
  if (native_) return spte_[g].fetch_and(mask);
  const Spte m = spte_[g].load(std::memory_order_relaxed);
  TraceStep& r = Rec();
  r.event = Event::kAnd;
  r.gfn = static_cast<uint8_t>(g);
  r.before = m;
  r.after = m & mask;
  spte_[g].store(m & mask, std::memory_order_relaxed);
  OnSpteChange(t, g, m, m & mask);
  return m;
}

void Model::EvMarkPageDirty(VThread& t, int g, int gfn) {
  // mark_page_dirty_in_slot(): test_and_set_bit_le() on the slot's bitmap,
  // only when the slot has one (dirty logging on).
  if (gfn < 0) gfn = GfnOf(g);
  TraceStep& r = Rec();
  r.event = Event::kBitSet;
  r.gfn = static_cast<uint8_t>(g);
  // An alias gfn (config indirect=on) is shown after the slot's name.
  if (gfn != g) r.aux = static_cast<uint32_t>(gfn + 1);
  r.before = r.after = spte_[g];
  if (logging_.load(std::memory_order_acquire)) {
    FetchOr(bitmap_, 1u << gfn);
    r.flags |= kTraceBitmap;
  }
}

void Model::EvReadLock(VThread& t) {
  if (native_) NativeMmuLock(/*write=*/false);
  SPTEFUZZ_CHECK(mmu_lock_holder_ < 0);
  FetchOr(mmu_readers_, 1u << t.index);
  TsanAcquire(&mmu_lock_sync_);
  Rec().event = Event::kLock;
}

void Model::EvReadUnlock(VThread& t) {
  SPTEFUZZ_CHECK((mmu_readers_ >> t.index) & 1);
  FetchAnd(mmu_readers_, ~(1u << t.index));
  TsanRelease(&mmu_lock_sync_);
  Rec().event = Event::kUnlock;
  if (native_) mmu_rw_.fetch_sub(1, std::memory_order_release);
}

void Model::EvLock(VThread& t) {
  if (native_) NativeMmuLock(/*write=*/true);
  SPTEFUZZ_CHECK(mmu_lock_holder_ < 0 && mmu_readers_ == 0);
  mmu_lock_holder_ = t.index;
  TsanAcquire(&mmu_lock_sync_);
  n_hold_clears_ = 0;
  Rec().event = Event::kLock;
}

void Model::EvUnlock(VThread& t) {
  SPTEFUZZ_CHECK(mmu_lock_holder_ == t.index);
  mmu_lock_holder_ = -1;
  TsanRelease(&mmu_lock_sync_);
  Rec().event = Event::kUnlock;
  if (native_) {
    mmu_rw_.store(0, std::memory_order_release);
    return;  // oracles run at the end of a native round
  }
  // I10 (flush placement, spec §3.2 rule 1): a present leaf zapped, or an
  // spte made non-writable, under this lock hold must not be reachable
  // through any TLB once the lock is dropped. Judged on the TLB state itself:
  // the entry must have been filled before the clear and still be there.
  for (int i = 0; i < n_hold_clears_ && !Failed(); ++i) {
    const HoldClear& c = hold_clears_[i];
    for (int v = 0; v < vcpus_; ++v) {
      const TlbSlot& e = tlb_[v][c.g];
      if (e.valid && e.fill_time < c.at && (c.zap || e.w)) {
        Fail(Invariant::kFlushPlacement,
             absl::StrCat(ThreadName(t.index), " released mmu_lock at ", LabelName(Rec().label), " after ",
                          c.zap ? "zapping" : "write-protecting", " spte g", int{c.g}, " at ", StepRef(c.at),
                          " without a TLB flush: vcpu", v, " still caches a ", e.w ? "writable" : "",
                          " translation of g", int{c.g}, " filled at ", StepRef(e.fill_step)),
             {c.at, e.fill_step});
        break;
      }
    }
  }
  n_hold_clears_ = 0;
}

void Model::EvFlushVcpu(VThread& t, int v) {
  if (native_) {
    NativeFlushVcpu(v);
    return;
  }
  TraceStep& r = Rec();
  r.event = Event::kFlushVcpu;
  r.vcpu = static_cast<uint8_t>(v);
  DropTlb(v);
}

void Model::SetPageDirty(int g) {
  page_dirty_[g] = true;
  Rec().flags |= kTracePageDirty;
}

void Model::SetPageAccessed(int g) {
  page_accessed_[g] = true;
  Rec().flags |= kTracePageAccessed;
}

void Model::FillTlb(VThread& t, int g, bool w, bool d) {
  TlbSlot& e = tlb_[t.vcpu][g];
  e = TlbSlot{true, w, d, now_, now_, d ? now_ : 0};
  TraceStep& r = Rec();
  r.flags |= kTraceTlbFill;
  r.vcpu = t.vcpu;
  r.aux = (w ? 1u : 0u) | (d ? 2u : 0u);
}

void Model::PmlAppend(VThread& t, int g) {
  if (!pml_) return;
  // The PML index is per vCPU and only this vCPU's hardware writes entries:
  // the append is part of the step that set D.
  FetchOr(pml_buf_[t.vcpu], 1u << g);
  if (native_) return;
  TraceStep& r = Rec();
  r.flags |= kTracePml;
  r.vcpu = t.vcpu;
}

uint8_t Model::PmlDrain(int v) {
  // vmx_flush_pml_buffer(): kvm_vcpu_mark_page_dirty() for every entry, then
  // the index is reset. mark_page_dirty_in_slot() logs only into a slot
  // with a dirty bitmap.
  const uint8_t logged = Exchange(pml_buf_[v], 0);
  if (logged == 0 || !logging_.load(std::memory_order_acquire)) return 0;
  FetchOr(bitmap_, logged);
  return logged;
}

void Model::RecordGuestRead(VThread& t, int g) {
  if (native_) return;
  Rec().flags |= kTraceRead;
  Rec().vcpu = t.vcpu;
}

void Model::RecordGuestWrite(VThread& t, int g) {
  if (native_) {
    NativeLog(t, NativeEvent::kWrite, g);
    return;
  }
  TraceStep& r = Rec();
  r.flags |= kTraceWrite;
  r.vcpu = t.vcpu;
  last_write_[g] = now_;
  // The data lands in the gfn the slot maps now (indirect sp: sp->gfns[]).
  last_gfn_write_[GfnOf(g)] = now_;
  // I3: no guest write may complete through hardware on a write-protected
  // guest page table.
  if (pt_protected_[g]) {
    Fail(Invariant::kStaleTlbAfterPtProtect,
         absl::StrCat(ThreadName(t.index), " wrote g", g, " at ", LabelName(r.label), " although g", g,
                      " became a write-protected page table when mmu_lock was released at ", StepRef(pt_protected_at_[g])),
         {pt_protected_at_[g]});
  }
  // I7: no write to a page between invalidate_range_start's return and _end.
  if (inv_window_[g]) {
    Fail(Invariant::kZapIncomplete,
         absl::StrCat(ThreadName(t.index), " wrote g", g, " at ", LabelName(r.label),
                      " after invalidate_range_start returned at ", StepRef(inv_returned_at_[g]),
                      " and before invalidate_range_end"),
         {inv_returned_at_[g]});
  }
}

void Model::CheckFastPathWrite(VThread& t, int g, Spte o, uint8_t protected_before, int marks) {
  if (native_) return;  // per-step oracles are off in native mode
  // I6: a lockless W set (fast_pf_fix_direct_spte / the modern fast path's
  // cmpxchg) needs a host- and MMU-writable spte whose gfns are not
  // write-protected guest page tables. (Spec I6's "a 4K leaf or logging
  // off" is judged by its consequence, I1, rather than restated here: the
  // oracle would otherwise be the fix of B4 itself.)
  uint8_t shadowed = 0;
  for (uint8_t m = protected_before; m != 0; m &= m - 1) {
    if (shadowed_[__builtin_ctz(m)].v) shadowed |= static_cast<uint8_t>(m & -m);
  }
  if (!(IsHostWritable(o) && IsMmuWritableSpte(o))) {
    Fail(Invariant::kIllegalFastPathWrite,
         absl::StrCat(ThreadName(t.index), " made spte g", g, " writable at F3 from {", SpteToString(o),
                      "}, which is not both host- and MMU-writable"),
         {spte_changed_at_[g]});
  } else if (marks != GfnOf(g)) {
    // Spec I6: "followed by F4 for the gfn the spte maps at the time of the
    // CAS". The gfn was read from the indirect sp before the CAS, and the
    // slot has since been zapped and refilled for another gfn (B3's ABA).
    Fail(Invariant::kIllegalFastPathWrite,
         absl::StrCat(ThreadName(t.index), " made spte g", g, " writable at F3 from {", SpteToString(o),
                      "}, but the slot now maps gfn g", GfnOf(g), " while the fast path read gfn g", marks,
                      " from the indirect shadow page before its cmpxchg and will log that one"),
         {spte_changed_at_[g]});
  } else if (shadowed != 0) {
    const int h = __builtin_ctz(shadowed);
    Fail(Invariant::kIllegalFastPathWrite,
         absl::StrCat(ThreadName(t.index), " made spte g", g, " writable at F3 after g", h,
                      " was write-protected as a guest page table (MMU-writable was left set)"),
         {spte_changed_at_[g]});
  }
}

// wp_done_ of the gfns in `gfns` (bit g), for CheckFastPathWrite.
uint8_t Model::WpDoneMask(uint8_t gfns) const {
  uint8_t out = 0;
  for (uint8_t m = gfns; m != 0; m &= m - 1) {
    if (wp_done_[__builtin_ctz(m)]) out |= static_cast<uint8_t>(m & -m);
  }
  return out;
}

void Model::OnSpteChange(VThread& t, int g, Spte old, Spte now) {
  if (old == now || native_) return;
  const uint32_t prev_change = spte_changed_at_[g];
  spte_changed_at_[g] = now_;
  // I8 (spec §1.4): bit invariants after every step.
  if (IsShadowPresentPte(now)) {
    if (IsWritablePte(now) && !IsMmuWritableSpte(now)) {
      Fail(Invariant::kSpteBits, absl::StrCat("spte g", g, " became {", SpteToString(now), "} at ", LabelName(Rec().label),
                                              " by ", ThreadName(t.index), ": W without MMU-writable (I8a)"));
    }
    if (rules_.check_mmu_w_implies_host_w && IsMmuWritableSpte(now) && !IsHostWritable(now)) {
      Fail(Invariant::kSpteBits, absl::StrCat("spte g", g, " became {", SpteToString(now), "} at ", LabelName(Rec().label),
                                              " by ", ThreadName(t.index), ": MMU-writable without host-writable (I8b)"));
    }
    if (IsAccessTrackSpte(now) && (IsWritablePte(now) || ad_)) {
      Fail(Invariant::kSpteBits, absl::StrCat("spte g", g, " became {", SpteToString(now), "} at ", LabelName(Rec().label),
                                              " by ", ThreadName(t.index), ": access-tracked with W or with A/D enabled (I8c)"));
    }
  }
  // I8e (spec §1.4): FROZEN is written only by the thread that installed it
  // (__tdp_mmu_set_spte_atomic() refuses a FROZEN snapshot; the write lock
  // excludes its holder). The CPU is not bound by KVM's protocol: an A/D
  // assist through a stale TLB entry may OR bits into it (DAssist::kAdversarial).
  // Lockless aging (6.15, kvm_tdp_mmu_age_spte) clears A with an atomic AND
  // of whatever the spte holds by then; FROZEN_SPTE has carried no A/D bits
  // since 6.13, so that AND leaves it alone. Only an adversarial assist puts
  // an A there, and clearing it keeps the value FROZEN: not a replacement.
  const bool hardware = Rec().label == Label::kH2 || Rec().label == Label::kH2Cas || Rec().label == Label::kH4Cas;
  const bool clears_a_only = IsFrozenSpte(now) && (old ^ now) == kSpteA && (old & kSpteA) != 0;
  if (IsFrozenSpte(old) && !hardware && !clears_a_only && frozen_owner_[g] != t.index) {
    Fail(Invariant::kSpteBits, absl::StrCat("spte g", g, " was FROZEN by ",
                                            frozen_owner_[g] < 0 ? std::string("nobody") : ThreadName(frozen_owner_[g]), " and became {",
                                            SpteToString(now), "} at ", LabelName(Rec().label), " by ",
                                            ThreadName(t.index), ": only the freezing thread may replace it (I8e)"),
         {prev_change});
  }
  if (IsFrozenSpte(now) && !IsFrozenSpte(old)) frozen_owner_[g] = static_cast<int8_t>(t.index);
  if (!IsFrozenSpte(now)) frozen_owner_[g] = -1;
  // I3: once g is a write-protected page table, nothing may make it writable
  // again (W, or MMU-writable in a form the fast path would make writable)
  // until it is unshadowed. (An MMU_W without HOST_W, as change_pte leaves
  // it before f082d86ea685, is harmless under 3.6's HOST_W && MMU_W gate:
  // pt_protect skips it too.)
  auto lockless_writable = [&](Spte s) { return IsWritablePte(s) || FastPfMayMakeWritable(rules_, s); };
  // A large leaf in slot 0 maps every gfn (config large=on): the per-gfn
  // oracles below judge each gfn the old or the new value maps.
  const int slot = g;
  const uint8_t covered = LeafGfns(slot, old) | LeafGfns(slot, now);
  for (uint8_t m = covered; m != 0 && !Failed(); m &= m - 1) {
    const int h = __builtin_ctz(m);
    if (pt_protected_[h] && IsShadowPresentPte(now) && lockless_writable(now) &&
        (!IsShadowPresentPte(old) || !lockless_writable(old) || (old & kWriteBits) != (now & kWriteBits))) {
      Fail(Invariant::kStaleTlbAfterPtProtect,
           absl::StrCat(ThreadName(t.index), " made spte g", slot, " {", SpteToString(now), "} at ", LabelName(Rec().label),
                        " although g", h, " became a write-protected page table when mmu_lock was released at ",
                        StepRef(pt_protected_at_[h])),
           {pt_protected_at_[h], prev_change});
    }
    // I7: no spte for the page may be installed between range_start's return
    // and range_end (the fault path must retry, S4).
    if (inv_window_[h] && IsShadowPresentPte(now) && !IsShadowPresentPte(old)) {
      Fail(Invariant::kZapIncomplete,
           absl::StrCat(ThreadName(t.index), " installed spte g", slot, " at ", LabelName(Rec().label),
                        " after invalidate_range_start returned at ", StepRef(inv_returned_at_[h]),
                        " and before invalidate_range_end"),
           {inv_returned_at_[h]});
    }
  }
  // I10 bookkeeping: what the lock holder zapped or write-protected.
  if (mmu_lock_holder_ == t.index) {
    const bool zap = IsShadowPresentPte(old) && !IsShadowPresentPte(now);
    // Rule 1 of spec §3.2 covers zaps and MMU-writable clears only; a W-only
    // clear (dirty logging) may be flushed after the unlock and is judged by
    // I4 at the ioctl's return.
    const bool wp = IsShadowPresentPte(now) && (old & kSpteMmuW) != 0 && (now & kSpteMmuW) == 0;
    for (uint8_t m = covered; (zap || wp) && m != 0; m &= m - 1) {
      if (n_hold_clears_ >= static_cast<int>(hold_clears_.size())) break;
      hold_clears_[n_hold_clears_++] = HoldClear{static_cast<uint8_t>(__builtin_ctz(m)), zap, now_};
    }
  }
}

// ---------------------------------------------------------------------------
// Oracles

void Model::Fail(Invariant inv, std::string why, std::vector<uint32_t> causes) {
  std::unique_lock<std::mutex> lock(fail_mu_, std::defer_lock);
  if (native_) lock.lock();
  // Only the findings of the first failing step are kept (the run stops
  // there); end-of-run findings carry step 0.
  const uint32_t step = at_end_ ? 0 : now_;
  if (!result_.violations.empty() && result_.violations[0].step != step) return;
  for (const Violation& v : result_.violations) {
    if (v.invariant == inv) return;
  }
  std::vector<uint32_t> c;
  for (uint32_t s : causes) {
    if (s != 0 && s != step) c.push_back(s);
  }
  result_.violations.push_back(Violation{inv, step, std::move(why), std::move(c)});
  failed_.store(true, std::memory_order_release);
}

std::string Model::ThreadName(int t) const {
  const VThread& th = threads_[t];
  if (th.kind == ThreadKind::kVcpu) return absl::StrCat("thread ", t, " (vcpu", int{th.vcpu}, ")");
  return absl::StrCat("thread ", t, " (kvm)");
}

std::string Model::StepRef(uint32_t step) const {
  if (step == 0) return "the start";
  if (step > result_.trace.size()) return absl::StrCat("step ", step);
  const TraceStep& s = result_.trace[step - 1];
  return absl::StrCat("step ", step, " (", ThreadName(s.thread), " ", LabelName(s.label), ")");
}

void Model::CheckDirtyLogReturn(VThread& t) {
  if (native_) return;
  // I4: when a dirty-log ioctl returns, no vCPU may still cache a writable
  // translation of a gfn it processed that was filled before the ioctl was
  // done with that gfn (a later fill comes from an spte made writable again
  // by a path that logs, which is fine). With PML the ioctl clears D, not W:
  // what must be gone is a dirty (d=1) entry, through which writes set no D
  // and leave no PML entry; a clean writable entry logs its first write
  // through the D-assist.
  for (int g = 0; g < gfns_ && !Failed(); ++g) {
    if (!((dlog_processed_ >> g) & 1)) continue;
    for (int v = 0; v < vcpus_; ++v) {
      const TlbSlot& e = tlb_[v][g];
      // (A read-only entry takes no write whatever its d: the write faults.
      // A large leaf is write-protected, not cleaned, by enabling logging
      // with PML, and may leave such an entry behind.)
      if (pml_ && e.valid && e.w && e.d && e.dirty_time <= dlog_done_at_[g]) {
        Fail(Invariant::kStaleTlbAfterDirtyLog,
             absl::StrCat(ThreadName(t.index), "'s dirty-log ioctl returned at ", LabelName(Rec().label),
                          " but vcpu", v, " still caches a dirty translation of g", g, " (d=1 since ",
                          StepRef(e.dirty_time), "), older than the ioctl's D clearing of g", g, " at ",
                          StepRef(dlog_done_at_[g]), ": writes through it set no D and leave no PML entry"),
             {e.fill_step, dlog_done_at_[g]});
        break;
      }
      if (!pml_ && e.valid && e.w && e.fill_time <= dlog_done_at_[g]) {
        Fail(Invariant::kStaleTlbAfterDirtyLog,
             absl::StrCat(ThreadName(t.index), "'s dirty-log ioctl returned at ", LabelName(Rec().label),
                          " but vcpu", v, " still caches a writable translation of g", g, " filled at ",
                          StepRef(e.fill_step), ", before the ioctl write-protected g at ", StepRef(dlog_done_at_[g])),
             {e.fill_step, dlog_done_at_[g]});
        break;
      }
    }
  }
}

void Model::FinalChecks() {
  at_end_ = true;
  // The run is quiescent: every thread finished. A final harvest reports the
  // bitmap (I1) and a final writeback zaps every spte (I2).
  if (log_enabled_at_ != UINT32_MAX) {
    // I1' (PML): the final harvest kicks every vCPU first, so what the PML
    // buffers still hold is reported too.
    uint8_t pml = 0;
    for (int v = 0; v < vcpus_; ++v) pml |= pml_buf_[v].load(std::memory_order_relaxed);
    for (int i = 0; i < 2 * gfns_ && !Failed(); ++i) {
      // gfns g0.., then their aliases g4.. (written only with indirect=on).
      const int g = i < gfns_ ? i : kMaxGfns + i - gfns_;
      const uint32_t w = last_gfn_write_[g];
      if (w == 0 || w <= log_enabled_at_) continue;
      if (w <= reported_until_[g] || (((bitmap_ | pml) >> g) & 1)) continue;
      Fail(Invariant::kLostDirtyLog,
           absl::StrCat("g", g, " was written at ", StepRef(w), " after dirty logging was enabled",
                        log_enabled_at_ == 0 ? " at the start" : absl::StrCat(" at ", StepRef(log_enabled_at_)),
                        ", but no harvest that returned after the write reported it, and the final bitmap is clear",
                        pml_ ? " (and so are the PML buffers)" : ""),
           {w});
    }
  }
  for (int g = 0; g < gfns_ && !Failed(); ++g) {
    const uint32_t w = last_write_[g];
    if (w == 0 || w <= wb_cleared_at_[g]) continue;
    const int leaf = LeafOf(g);  // a large leaf's D covers every gfn it maps
    const Spte s = spte_[leaf];
    if (page_dirty_[g] || SpteHoldsDirtyState(leaf, s)) continue;
    Fail(Invariant::kLostPageDirty,
         absl::StrCat("g", g, " was written at ", StepRef(w), " but at the end of the run its page is clean and spte g", leaf,
                      " {", SpteToString(s), "} holds no dirty state: a final writeback would lose the data"),
         {w, spte_changed_at_[leaf]});
  }
}

}  // namespace sptefuzz
