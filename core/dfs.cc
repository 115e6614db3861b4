#include "core/dfs.h"

#include "core/check.h"

namespace sptefuzz {

DfsExplorer::DfsExplorer(const TestCase& tc, const Rules& rules, DfsOptions opts)
    : tc_(tc), rules_(rules), opts_(opts) {
  stack_.reserve(512);
}

void DfsExplorer::Begin(const TestCase&) {
  pos_ = 0;
  blocked_ = false;
  fair_wait_ = {};
}

bool DfsExplorer::Cost(const Node& n, int t) const {
  return n.current >= 0 && t != n.current && ((n.enabled >> n.current) & 1) && !n.current_yielded;
}

uint32_t DfsExplorer::Excluded(const Node& n) const {
  uint32_t out = n.enabled & ~n.allowed;
  for (uint32_t rest = n.allowed; rest != 0; rest &= rest - 1) {
    const int t = __builtin_ctz(rest);
    if (n.preemptions + (Cost(n, t) ? 1 : 0) > opts_.preemptions) out |= 1u << t;
  }
  return out;
}

void DfsExplorer::MarkPruned(size_t index) {
  // Marks are prefix-closed: below a marked node every node is marked (a
  // node's mark is reset only when its choice changes, which pops the
  // nodes above it).
  for (size_t i = index; i-- > 0;) {
    if (stack_[i].cur_pruned) break;
    stack_[i].cur_pruned = true;
  }
}

int DfsExplorer::NextChoice(const Node& n) const {
  const uint32_t cand = n.allowed & ~n.sleep & ~n.done;
  const int threads = static_cast<int>(tc_.threads.size());
  // Non-preemptive choice first, then the others in round-robin order.
  const int start = n.current < 0 ? 0 : n.current;
  for (int i = 0; i < threads; ++i) {
    const int t = (start + i) % threads;
    if (!((cand >> t) & 1)) continue;
    if (n.preemptions + (Cost(n, t) ? 1 : 0) > opts_.preemptions) continue;
    return t;
  }
  return -1;
}

int DfsExplorer::Pick(const SchedView& v) {
  if (blocked_) return DefaultPick(v);
  // Fair spin-waits: without this rule two vCPUs retrying a fault (S4)
  // could hand the CPU to each other forever while the invalidation they
  // wait for never runs, and every bound would admit endless schedules.
  if (v.current >= 0 && v.current_yielded) fair_wait_[v.current] = v.enabled & ~(1u << v.current);
  uint32_t allowed = 0;
  for (uint32_t rest = v.enabled; rest != 0; rest &= rest - 1) {
    const int t = __builtin_ctz(rest);
    if ((fair_wait_[t] & v.enabled) == 0) allowed |= 1u << t;
  }
  if (allowed == 0) allowed = v.enabled;
  auto picked = [&](int c) {
    for (int t = 0; t < v.threads; ++t) fair_wait_[t] &= ~(1u << c);
    return c;
  };
  if (pos_ < stack_.size()) {
    const Node& n = stack_[pos_++];
    // Re-execution must reach the same state: the model is deterministic.
    SPTEFUZZ_CHECK(n.enabled == v.enabled && n.current == v.current);
    return picked(n.chosen);
  }
  Node n;
  n.enabled = v.enabled;
  n.allowed = allowed;
  n.current = v.current;
  n.current_yielded = v.current_yielded;
  for (int t = 0; t < v.threads; ++t) {
    n.fp[t] = StepFootprint(tc_, t, v.pending[t], v.pending_op != nullptr ? v.pending_op[t] : -1);
  }
  if (!stack_.empty()) {
    const Node& p = stack_.back();
    n.preemptions = static_cast<uint8_t>(p.preemptions + (Cost(p, p.chosen) ? 1 : 0));
    if (opts_.por) {
      // Sleep sets: a thread explored (or asleep) at the parent stays asleep
      // while the steps taken since are independent of its pending step.
      const uint32_t cand = (p.sleep | (p.done & ~p.nosleep)) & ~(1u << p.chosen);
      for (uint32_t rest = cand; rest != 0; rest &= rest - 1) {
        const int q = __builtin_ctz(rest);
        if (Independent(p.fp[q], p.fp[p.chosen])) n.sleep |= 1u << q;
      }
    }
  }
  if (Excluded(n) != 0) MarkPruned(stack_.size());
  const int c = NextChoice(n);
  if (c < 0) {
    // Every thread that may run is asleep: this schedule is equivalent to
    // one explored before. Finish the run without recording it.
    blocked_ = true;
    return DefaultPick(v);
  }
  n.chosen = c;
  stack_.push_back(n);
  ++pos_;
  return picked(c);
}

bool DfsExplorer::Backtrack() {
  while (!stack_.empty()) {
    Node& n = stack_.back();
    n.done |= 1u << n.chosen;
    if (n.cur_pruned) n.nosleep |= 1u << n.chosen;
    n.cur_pruned = false;
    const int c = NextChoice(n);
    if (c >= 0) {
      n.chosen = c;
      return true;
    }
    stack_.pop_back();
  }
  return false;
}

DfsOutcome DfsExplorer::Run(Executor& ex) {
  DfsOutcome out;
  stack_.clear();
  for (;;) {
    if (opts_.max_executions != 0 && out.stats.interleavings + out.stats.sleep_blocked >= opts_.max_executions) break;
    const Result& r = ex.Run(tc_, rules_, *this, opts_.exec);
    out.stats.steps += r.steps;
    if (blocked_) {
      ++out.stats.sleep_blocked;
    } else {
      ++out.stats.interleavings;
      if (r.outcome == Outcome::kStepLimit) ++out.stats.cut;
      if (r.outcome == Outcome::kViolation) {
        out.violation = r;
        const Node& last = stack_.back();
        out.violation_preemptions = last.preemptions + (Cost(last, last.chosen) ? 1 : 0);
        return out;
      }
    }
    if (!Backtrack()) {
      out.stats.exhaustive = true;
      break;
    }
  }
  return out;
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
  const size_t V = vseqs.size(), K = kseqs.size();
  // Odometer over (vCPU sequence indices non-decreasing) x (kernel sequence indices).
  std::vector<size_t> vi(nv, 0), ki(nk, 0);
  uint64_t count = 0;
  for (;;) {
    for (int v = 0; v < nv; ++v) tc.threads[v].ops = vseqs[vi[v]];
    for (int k = 0; k < nk; ++k) tc.threads[nv + k].ops = kseqs[ki[k]];
    ++count;
    if (!f(tc)) return count;
    int d = nk - 1;
    while (d >= 0 && ++ki[d] == K) ki[d--] = 0;
    if (d >= 0) continue;
    int e = nv - 1;
    while (e >= 0 && vi[e] + 1 == V) --e;
    if (e < 0) return count;
    ++vi[e];
    for (int j = e + 1; j < nv; ++j) vi[j] = vi[e];
  }
}

}  // namespace sptefuzz
