#include "core/dfs.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace sptefuzz {

DfsExplorer::DfsExplorer(const TestCase& tc, const Rules& rules, DfsOptions opts)
    : tc_(tc), rules_(rules), opts_(opts), fp_(tc) {
  stack_.reserve(512);
}

void DfsExplorer::Begin(const TestCase&) {
  pos_ = 0;
  blocked_ = false;
  chain_ok_ = false;
  fair_.Begin();
}

namespace {

// Whether switching away from thread `cur` now preempts it: it took the
// last step, can take the next, and did not yield in a spin-wait.
bool Preemptible(int cur, uint32_t enabled, bool yielded) { return cur >= 0 && ((enabled >> cur) & 1) && !yielded; }

}  // namespace

bool DfsExplorer::Cost(const Node& n, int t) const {
  return t != n.current && Preemptible(n.current, n.enabled, n.current_yielded);
}

void DfsExplorer::NoteAfter(Node& p, const SchedView& v) {
  // After(b) of p's choice b, seen at the step after it: b can still run
  // and did not yield.
  if (Preemptible(p.chosen, v.enabled, v.current_yielded)) p.after |= static_cast<uint8_t>(1u << p.chosen);
}

void DfsExplorer::MarkPruned(size_t index, bool bound) {
  ++(bound ? bound_cuts_ : fair_cuts_);
  // Marks are prefix-closed: below a marked node every node is marked (a
  // node's mark is reset only when its choice changes, which pops the
  // nodes above it).
  for (size_t i = index; i-- > 0;) {
    bool& mark = bound ? stack_[i].cur_pruned_bound : stack_[i].cur_pruned_fair;
    if (mark) break;
    mark = true;
  }
}

bool DfsExplorer::MaySleep(const Node& p, int a) const {
  if ((p.nosleep_fair >> a) & 1) return false;
  if (!((p.nosleep_bound >> a) & 1)) return true;
  // Its subtree lost schedules to the bound: only if the reordered
  // representative costs no more preemptions (see the class comment).
  const int excess = (Cost(p, a) ? 1 : 0) + ((p.after >> a) & 1) - (Cost(p, p.chosen) ? 1 : 0);
  return excess <= 0;
}

uint32_t DfsExplorer::Costly(const Node& n) const {
  return Preemptible(n.current, n.enabled, n.current_yielded) ? 0xffu & ~(1u << n.current) : 0;
}

uint32_t DfsExplorer::Candidates(const Node& n) const {
  const uint32_t cand = n.allowed & ~n.sleep;
  return n.preemptions >= opts_.preemptions ? cand & ~Costly(n) : cand;
}

int DfsExplorer::NextChoice(const Node& n) const {
  const uint32_t cand = Candidates(n) & ~n.done;
  if (cand == 0) return -1;
  // The current thread (the non-preemptive choice) first, then the others
  // in round-robin order from it.
  if (n.current < 0) return __builtin_ctz(cand);
  const uint32_t from_current = cand & ~((1u << n.current) - 1);
  return __builtin_ctz(from_current != 0 ? from_current : cand);
}

inline int DfsExplorer::ForcedChoice(const SchedView& v, uint32_t allowed, int preemptions) const {
  // The only enabled thread: the fairness rule allows it, and choosing it
  // preempts nobody (if the current thread is enabled, it is this one).
  if ((v.enabled & (v.enabled - 1)) == 0) return __builtin_ctz(v.enabled);
  // At the bound, a running thread that did not yield is the only candidate.
  const int cur = v.current;
  const bool forced = preemptions >= opts_.preemptions && Preemptible(cur, v.enabled, v.current_yielded);
  return forced && ((allowed >> cur) & 1) ? cur : -1;
}

inline int DfsExplorer::Chain(const SchedView& v, uint32_t allowed, int c) {
  ++chained_total_;
  if (chained_++ == 0) {
    // After(b) of the node this chain follows, as a node here would set it.
    NoteAfter(stack_.back(), v);
  }
  // As for a node: the fairness rule and the bound rule threads out.
  const uint32_t unfair = v.enabled & ~allowed;
  const int cur = v.current;
  const bool preempts = Preemptible(cur, v.enabled, v.current_yielded);
  const uint32_t over_bound = chain_pre_ >= opts_.preemptions && preempts ? allowed & ~(1u << cur) : 0;
  if (unfair != 0) MarkPruned(stack_.size(), /*bound=*/false);
  if (over_bound != 0) MarkPruned(stack_.size(), /*bound=*/true);
  fair_.Ran(c, v.threads);
  return c;
}

int DfsExplorer::Pick(const SchedView& v) {
  // Most steps are chained (chain_ok_ holds only for new steps): this path
  // stays small. Without a yield, Allowed() leaves the fairness state as
  // it was, so PickNode() may ask it again.
  if (chain_ok_ && !v.current_yielded) {
    const uint32_t allowed = fair_.Allowed(v);
    const int c = ForcedChoice(v, allowed, chain_pre_);
    if (c >= 0) return Chain(v, allowed, c);
  }
  return PickNode(v);
}

int DfsExplorer::PickNode(const SchedView& v) {
  // The fairness state before this Pick changes it: a checkpoint of a new
  // node keeps it (node i is resumed by asking its Pick again).
  const bool fresh = pos_ == stack_.size();
  FairSpinWaits fair_before;
  if (fresh && opts_.checkpoints) fair_before = fair_;
  const uint32_t allowed = fair_.Allowed(v);
  auto picked = [&](int c) {
    fair_.Ran(c, v.threads);
    return c;
  };
  if (pos_ < stack_.size()) {
    const Node& n = stack_[pos_];
    if (v.step < n.step) {
      // A forced step taken without a node (chain_ok_): the same again.
      const int c = ForcedChoice(v, allowed, n.preemptions);
      SPTEFUZZ_CHECK(c >= 0);
      return picked(c);
    }
    ++pos_;
    // Re-execution must reach the same state: the model is deterministic.
    SPTEFUZZ_CHECK(n.step == v.step && n.enabled == v.enabled && n.current == v.current);
    // The node re-executed last is the one backtracked to (its `done` is
    // not empty): the first new step after it gets a node.
    chain_ok_ = false;
    return picked(n.chosen);
  }
  if (chain_ok_) {
    const int c = ForcedChoice(v, allowed, chain_pre_);
    if (c >= 0) return Chain(v, allowed, c);
  }
  const bool after_chain = chain_ok_ && chained_ != 0;
  Node& n = stack_.emplace_back();
  n.step = v.step;
  n.enabled = static_cast<uint8_t>(v.enabled);
  n.allowed = static_cast<uint8_t>(allowed);
  n.current = static_cast<int8_t>(v.current);
  n.current_yielded = v.current_yielded;
  // The executor's arrays have kMaxThreads entries (SchedView).
  std::memcpy(n.pending.data(), v.pending, sizeof(n.pending));
  if (v.pending_op != nullptr) {
    std::memcpy(n.op.data(), v.pending_op, sizeof(n.op));
  } else {
    n.op.fill(kMaxOpsPerThread);
  }
  if (v.pending_arg != nullptr) std::memcpy(n.arg.data(), v.pending_arg, sizeof(n.arg));
  if (after_chain) {
    // The step before was forced: its sleep set was empty, so this one's
    // is, and it cost no preemption.
    n.preemptions = static_cast<uint8_t>(chain_pre_);
  } else if (stack_.size() > 1) {
    Node& p = stack_[stack_.size() - 2];
    const int b = p.chosen;
    NoteAfter(p, v);
    n.preemptions = static_cast<uint8_t>(p.preemptions + (Cost(p, b) ? 1 : 0));
    if (opts_.por) {
      // Sleep sets: a thread asleep at the parent, or explored there and
      // allowed to sleep (MaySleep), is asleep here if the step taken since
      // is independent of its pending step. `tight`: its sleep rests on the
      // preemption count of the reordered schedule.
      uint32_t cand = p.sleep, tight = p.sleep_tight;
      for (uint32_t rest = p.done & ~(1u << b); rest != 0; rest &= rest - 1) {
        const int a = __builtin_ctz(rest);
        if (!MaySleep(p, a)) continue;
        cand |= 1u << a;
        if ((p.nosleep_bound >> a) & 1) tight |= 1u << a;
      }
      cand &= ~(1u << b);
      if (cand != 0) {
        const Footprint fb = Fp(p, b);
        for (uint32_t rest = cand; rest != 0; rest &= rest - 1) {
          const int q = __builtin_ctz(rest);
          if (Independent(Fp(p, q), fb)) n.sleep |= static_cast<uint8_t>(1u << q);
        }
        // The switch away from b is free here (b blocked, not finished, not
        // yielded). In the reordered schedule the sleeper's step has run
        // already and may have unblocked b (an unlock, a walk's end), which
        // would make this switch a preemption: such a sleeper wakes up.
        n.sleep_tight = static_cast<uint8_t>(n.sleep & tight);
        if (n.sleep_tight != 0 && ((v.live >> b) & 1) && !((v.enabled >> b) & 1) && !v.current_yielded) {
          const Footprint gb = Fp(n, b);
          for (uint32_t rest = n.sleep_tight; rest != 0; rest &= rest - 1) {
            const int q = __builtin_ctz(rest);
            if (!Independent(Fp(n, q), gb)) n.sleep &= static_cast<uint8_t>(~(1u << q));
          }
          n.sleep_tight &= n.sleep;
        }
      }
    }
  }
  // Threads the fairness rule or the bound leave out: the subtrees above
  // lose those schedules.
  const uint32_t unfair = n.enabled & ~n.allowed;
  const uint32_t over_bound = n.preemptions >= opts_.preemptions ? n.allowed & Costly(n) : 0;
  if (unfair != 0) MarkPruned(stack_.size() - 1, /*bound=*/false);
  if (over_bound != 0) MarkPruned(stack_.size() - 1, /*bound=*/true);
  const int c = NextChoice(n);
  if (c < 0) {
    // Every thread that may run is asleep: this schedule is equivalent to
    // one explored before. Finish the run without recording it.
    stack_.pop_back();
    blocked_ = true;
    return kAbortRun;
  }
  n.chosen = static_cast<int8_t>(c);
  // A fresh node (its `done` empty) with an empty sleep set: the steps
  // after it may be chained.
  chain_ok_ = opts_.chain && n.sleep == 0;
  chain_pre_ = n.preemptions + (Cost(n, c) ? 1 : 0);
  chained_ = 0;
  // A node where another choice may follow this one is backtracked to
  // later: keep the run as it stands here, so that the next execution
  // continues from this node instead of re-executing the prefix. (Sleep
  // sets are fixed at creation and `done` only grows, so a node with one
  // candidate now never has another.)
  const uint32_t cand = Candidates(n);
  const size_t index = stack_.size() - 1;
  if (opts_.checkpoints && ex_ != nullptr && (cand & (cand - 1)) != 0 && index < kMaxCheckpointDepth) {
    if (ex_->SaveCheckpoint(index, v)) {
      if (fair_at_.size() <= index) fair_at_.resize(index + 1);
      fair_at_[index] = fair_before;
      stack_[index].has_checkpoint = true;
    }
  }
  ++pos_;
  return picked(c);
}

bool DfsExplorer::Backtrack() {
  while (!stack_.empty()) {
    Node& n = stack_.back();
    n.done |= static_cast<uint8_t>(1u << n.chosen);
    if (n.cur_pruned_bound) n.nosleep_bound |= static_cast<uint8_t>(1u << n.chosen);
    if (n.cur_pruned_fair) n.nosleep_fair |= static_cast<uint8_t>(1u << n.chosen);
    n.cur_pruned_bound = n.cur_pruned_fair = false;
    const int c = NextChoice(n);
    if (c >= 0) {
      n.chosen = static_cast<int8_t>(c);
      return true;
    }
    stack_.pop_back();
  }
  return false;
}

DfsOutcome DfsExplorer::Run(Executor& ex) {
  DfsOutcome out;
  stack_.clear();
  chained_total_ = bound_cuts_ = fair_cuts_ = 0;
  ex_ = &ex;
  // The search needs verdicts, not traces: a finding is run again with one.
  ExecOptions exec = opts_.exec;
  exec.record_trace = false;
  // Where the next execution starts: from scratch (-1) or at the node with
  // this index, from its checkpoint.
  ptrdiff_t resume_at = -1;
  for (;;) {
    if (opts_.max_executions != 0 && out.stats.interleavings + out.stats.sleep_blocked >= opts_.max_executions) break;
    const Result* rp;
    if (resume_at < 0) {
      rp = &ex.Run(tc_, rules_, *this, exec);
    } else {
      // As Begin() does for a run from the start, with the fairness state
      // the node's Pick saw.
      pos_ = static_cast<size_t>(resume_at);
      blocked_ = false;
      chain_ok_ = false;
      fair_ = fair_at_[pos_];
      ++out.stats.resumed;
      out.stats.resumed_steps += stack_[pos_].step;
      rp = &ex.Resume(pos_, *this);
    }
    const Result& r = *rp;
    out.stats.steps += r.steps;
    if (blocked_) {
      ++out.stats.sleep_blocked;
    } else {
      ++out.stats.interleavings;
      if (opts_.on_interleaving) opts_.on_interleaving(r);
      if (r.outcome == Outcome::kStepLimit) ++out.stats.cut;
      if (r.outcome == Outcome::kViolation) {
        const Node& last = stack_.back();
        out.violation_preemptions = last.preemptions + (Cost(last, last.chosen) ? 1 : 0);
        const Invariant found = r.violations[0].invariant;
        ReplayScheduler replay(r.schedule);
        out.violation = ex.Run(tc_, rules_, replay, opts_.exec);
        SPTEFUZZ_CHECK(replay.divergences() == 0 && out.violation->outcome == Outcome::kViolation &&
                       out.violation->violations[0].invariant == found);
        Finish(&out.stats);
        return out;
      }
    }
    if (!Backtrack()) {
      out.stats.exhaustive = true;
      break;
    }
    resume_at = stack_.back().has_checkpoint ? static_cast<ptrdiff_t>(stack_.size() - 1) : -1;
  }
  Finish(&out.stats);
  return out;
}

void DfsExplorer::Finish(DfsStats* stats) {
  stats->chained = chained_total_;
  stats->bound_cut_steps = bound_cuts_;
  stats->fair_cut_steps = fair_cuts_;
  ex_ = nullptr;
}

Config SmallProgramConfig() {
  Config c;
  c.vcpus = 2;
  c.gfns = 1;
  c.ad = true;
  c.logging = true;
  c.init_spte[0] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
  return c;
}

namespace {

// All sequences of 1..max_ops letters of `alphabet`, shortest first.
std::vector<std::vector<Op>> Sequences(const std::vector<OpKind>& alphabet, int max_ops) {
  std::vector<std::vector<Op>> out;
  std::vector<std::vector<Op>> layer = {{}};
  for (int len = 1; len <= max_ops; ++len) {
    std::vector<std::vector<Op>> next;
    for (const auto& s : layer) {
      for (OpKind k : alphabet) {
        auto t = s;
        t.push_back(Op{k, 0});
        next.push_back(std::move(t));
      }
    }
    for (const auto& s : next) out.push_back(s);
    layer = std::move(next);
  }
  return out;
}

}  // namespace

uint64_t ForEachSmallProgram(const SmallProgramSpace& space, const std::function<bool(const TestCase&)>& f) {
  const auto vseqs = Sequences(space.vcpu_ops, space.max_ops);
  const auto kseqs = Sequences(space.kernel_ops, space.max_ops);
  TestCase tc;
  tc.config = space.config;
  tc.config.vcpus = space.vcpus;
  tc.threads.resize(space.vcpus + space.kernel_threads);
  for (int v = 0; v < space.vcpus; ++v) tc.threads[v] = ThreadSpec{ThreadKind::kVcpu, static_cast<uint8_t>(v), {}};
  for (int k = 0; k < space.kernel_threads; ++k) tc.threads[space.vcpus + k] = ThreadSpec{ThreadKind::kKernel, 0, {}};
  const int nv = space.vcpus, nk = space.kernel_threads;
  // Odometer over the vCPU threads' sequence indices (outer) and the kernel
  // threads' (inner), each group non-decreasing: threads of one group are
  // interchangeable, so one order of their programs stands for all.
  std::vector<size_t> vi(nv, 0), ki(nk, 0);
  // Advances a group to its next non-decreasing tuple over [0, n); false
  // when it wraps around to all zeros.
  auto advance = [](std::vector<size_t>& idx, size_t n) {
    int e = static_cast<int>(idx.size()) - 1;
    while (e >= 0 && idx[e] + 1 == n) --e;
    if (e < 0) {
      std::fill(idx.begin(), idx.end(), 0);
      return false;
    }
    ++idx[e];
    for (size_t j = e + 1; j < idx.size(); ++j) idx[j] = idx[e];
    return true;
  };
  uint64_t count = 0;
  for (;;) {
    for (int v = 0; v < nv; ++v) tc.threads[v].ops = vseqs[vi[v]];
    for (int k = 0; k < nk; ++k) tc.threads[nv + k].ops = kseqs[ki[k]];
    ++count;
    if (!f(tc)) return count;
    if (advance(ki, kseqs.size())) continue;
    if (!advance(vi, vseqs.size())) return count;
  }
}

}  // namespace sptefuzz
