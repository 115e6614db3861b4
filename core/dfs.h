// core/dfs.h: exhaustive bounded exploration of one program (stateless
// model checking by re-execution, CHESS- and loom-style).
//
// Every execution replays a prefix of scheduling choices and extends it
// depth-first; the next execution backtracks to the deepest choice with an
// untried alternative. Only schedules with at most `preemptions`
// preemptions are visited (a preemption: switching away from a thread that
// could still run and did not yield in a spin-wait). With `por`, sleep sets
// (Godefroid 1996) over the step footprints of core/dfs_footprint.h skip
// schedules that only reorder independent steps.
//
// A bound and sleep sets do not mix naively (Coons, Musuvathi, McKinley,
// "Bounded partial-order reduction", OOPSLA 2013): the schedule a sleep
// stands for, explored earlier, may need more preemptions than the one it
// replaces, and may have been cut by the bound. Here alternative `a`,
// explored at node p before `b`, sleeps in b's subtree while b's steps are
// independent of a's pending step. A schedule skipped there, p b w a u,
// equals p a b w u, whose cost exceeds its own by at most
// Cost(p,a) + After(a) - Cost(p,b) (After(a): a can still run after its
// step, so leaving it for b preempts; moving a's step out of w..u saves at
// least what it adds there). So `a` sleeps if its subtree lost nothing to
// the bound, or if that excess is <= 0. A subtree that lost schedules to
// the fairness rule never lets its thread sleep (the reordering could break
// fairness). The result keeps every verdict of the plain bounded search,
// and reaches every final state it reaches (dfs_test.cc checks both over
// small programs).
//
//   DfsExplorer dfs(tc, rules, DfsOptions{.preemptions = 2});
//   DfsOutcome out = dfs.Run(executor);
//   if (out.violation) { ... out.violation->schedule replays it ... }
//   out.stats.interleavings;   // executions explored to the end
#ifndef SPTEFUZZ_CORE_DFS_H_
#define SPTEFUZZ_CORE_DFS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/dfs_footprint.h"
#include "core/executor.h"
#include "core/scheduler.h"

namespace sptefuzz {

// CHESS's fairness rule for spin-waits, shared by the explorers: a thread
// that yields (a retry that needs another thread to progress) may not run
// again until every thread enabled when it yielded has run. Without it two
// vCPUs retrying a fault (S4) could hand the CPU to each other forever
// while the invalidation they wait for never runs, and every bound would
// admit endless schedules.
class FairSpinWaits {
 public:
  void Begin() {
    wait_ = {};
    any_ = false;
  }
  // The enabled threads the rule lets run now (all of them if it would leave none).
  uint32_t Allowed(const SchedView& v) {
    if (v.current >= 0 && v.current_yielded) {
      wait_[v.current] = v.enabled & ~(1u << v.current);
      any_ = true;
    }
    if (!any_) return v.enabled;
    uint32_t allowed = 0;
    for (uint32_t rest = v.enabled; rest != 0; rest &= rest - 1) {
      const int t = __builtin_ctz(rest);
      if ((wait_[t] & v.enabled) == 0) allowed |= 1u << t;
    }
    return allowed == 0 ? v.enabled : allowed;
  }
  // Thread c runs: nobody waits for it any more.
  void Ran(int c, int threads) {
    if (!any_) return;
    uint32_t left = 0;
    for (int t = 0; t < threads; ++t) left |= wait_[t] &= ~(1u << c);
    any_ = left != 0;
  }

 private:
  std::array<uint32_t, kMaxThreads> wait_{};  // wait_[t]: the threads t still waits for
  bool any_ = false;
};

struct DfsOptions {
  int preemptions = 2;
  bool por = true;             // sleep-set reduction
  // Continue each execution from a checkpoint of the node it backtracked
  // to (Executor::SaveCheckpoint) instead of re-executing the schedule's
  // prefix from the start. The same interleavings, verdicts and counts
  // either way (dfs_test.cc); only the time differs.
  bool checkpoints = true;
  // Take forced steps without a node (DfsExplorer::chain_ok_). The same
  // interleavings, verdicts and counts either way (dfs_test.cc).
  bool chain = true;
  uint64_t max_executions = 0; // 0: no limit (stop only when exhausted)
  ExecOptions exec;
  // Called with every interleaving explored to its end (tests compare what
  // the reduction reaches with what the plain search reaches).
  std::function<void(const Result&)> on_interleaving;
};

struct DfsStats {
  uint64_t interleavings = 0;   // executions run to their end (or violation) inside the bound
  uint64_t sleep_blocked = 0;   // executions abandoned: every runnable thread asleep (redundant)
  uint64_t cut = 0;             // executions that reached the step limit
  uint64_t steps = 0;           // steps of those executions, prefixes included
  uint64_t resumed = 0;         // executions continued from a checkpoint (their prefix not re-executed)
  uint64_t resumed_steps = 0;   // prefix steps those did not re-execute
  uint64_t chained = 0;         // new steps taken without a node of their own (forced)
  // New steps at which the preemption bound, or the fairness rule for
  // spin-waits, ruled enabled threads out (each step of the search tree
  // counted once, as it is first taken). With bound_cut_steps == 0 the
  // bound changed nothing: any larger bound gives the same search.
  uint64_t bound_cut_steps = 0;
  uint64_t fair_cut_steps = 0;
  bool exhaustive = false;      // the whole bounded tree was visited
};

struct DfsOutcome {
  DfsStats stats;
  std::optional<Result> violation;  // the first violation, if any
  int violation_preemptions = 0;    // preemptions its schedule uses
};

class DfsExplorer : public Scheduler {
 public:
  // Nodes deeper than this are not checkpointed (their executions re-run
  // from the start): it bounds the memory checkpoints take.
  static constexpr size_t kMaxCheckpointDepth = 512;

  DfsExplorer(const TestCase& tc, const Rules& rules, DfsOptions opts);
  // Explores until the first violation, the execution limit, or exhaustion.
  DfsOutcome Run(Executor& ex);

  // Scheduler interface (used by Run()).
  void Begin(const TestCase& tc) override;
  int Pick(const SchedView& v) override;

 private:
  // Thread masks are bytes: kMaxThreads <= 8.
  struct Node {
    uint8_t enabled = 0;
    uint8_t allowed = 0;       // enabled threads the fairness rule lets run
    int8_t current = -1;
    bool current_yielded = false;
    uint8_t preemptions = 0;   // before this node's step
    int8_t chosen = -1;
    uint8_t done = 0;          // alternatives explored (or being explored) here
    uint8_t sleep = 0;
    uint8_t sleep_tight = 0;   // sleepers whose sleep rests on the preemption count (MaySleep)
    // After(t) of the class comment: t was still enabled and had not
    // yielded after its step here.
    uint8_t after = 0;
    // The subtree of the current choice lost schedules to the bound, or to
    // the fairness rule; `nosleep_*`: the explored choices whose subtree did.
    bool cur_pruned_bound = false;
    bool cur_pruned_fair = false;
    uint8_t nosleep_bound = 0;
    uint8_t nosleep_fair = 0;
    // Executor checkpoint slot `index` holds the run as it stood at this
    // node's Pick (saved where more than one choice may be explored here).
    bool has_checkpoint = false;
    uint32_t step = 0;         // SchedView::step at this node's Pick
    std::array<Label, kMaxThreads> pending{};
    std::array<uint8_t, kMaxThreads> op{};
    std::array<uint8_t, kMaxThreads> arg{};
  };
  static_assert(kMaxThreads <= 8);
  bool Cost(const Node& n, int t) const;  // does choosing t preempt?
  uint32_t Costly(const Node& n) const;   // the threads whose choice would preempt
  // The threads that may ever be chosen at n: allowed, awake, and within the bound.
  uint32_t Candidates(const Node& n) const;
  int NextChoice(const Node& n) const;    // -1: none left
  // The thread a chained step must run (see chain_ok_), or -1 if the
  // step is not forced and needs a node of its own.
  int ForcedChoice(const SchedView& v, uint32_t allowed, int preemptions) const;
  // Takes forced step c of a chain (the bookkeeping a node would do).
  [[gnu::always_inline]] inline int Chain(const SchedView& v, uint32_t allowed, int c);
  // Pick() for every step but the chained ones.
  [[gnu::noinline]] int PickNode(const SchedView& v);
  bool Backtrack();
  // Whether explored alternative a of node p may sleep in the subtree of p's current choice.
  bool MaySleep(const Node& p, int a) const;
  const Footprint& Fp(const Node& n, int t) { return fp_.Get(t, n.pending[t], n.op[t], n.arg[t]); }
  // A node at `index` (or a chained step after it) ruled threads out by
  // the bound (`bound`) or by fairness: marks the subtrees above, counts
  // the step (DfsStats::bound_cut_steps, fair_cut_steps).
  void MarkPruned(size_t index, bool bound);
  // Sets After(b) of node p's choice b (the class comment) from the view of the step after b's.
  static void NoteAfter(Node& p, const SchedView& v);
  // Copies the run's counters into *stats and forgets the executor.
  void Finish(DfsStats* stats);

  const TestCase& tc_;
  Rules rules_;
  DfsOptions opts_;
  std::vector<Node> stack_;
  FootprintMemo fp_;
  size_t pos_ = 0;
  bool blocked_ = false;   // the current execution fell asleep
  // Forced steps get no node. After a fresh node whose sleep set is empty,
  // a step with a single candidate that costs no preemption (the only
  // enabled thread, or, at the bound, the current thread going on) has an
  // empty sleep set too, nothing to backtrack to, and no alternative whose
  // sleep could depend on it: Pick takes it without a node (about 70% of
  // the steps of `--programs all`). chain_ok_: the steps since the last
  // node are such steps, chain_pre_: the preemptions they run at,
  // chained_: how many there were.
  bool chain_ok_ = false;
  int chain_pre_ = 0;
  uint32_t chained_ = 0;
  uint64_t chained_total_ = 0;  // DfsStats::chained
  uint64_t bound_cuts_ = 0, fair_cuts_ = 0;  // DfsStats::bound_cut_steps, fair_cut_steps
  FairSpinWaits fair_;
  Executor* ex_ = nullptr;  // during Run
  // fair_at_[i]: fair_ as it stood at node i's Pick, for nodes with a checkpoint.
  std::vector<FairSpinWaits> fair_at_;
};

// The space of small programs `explore --programs all` enumerates: a thread
// layout (vCPU threads, then kernel threads; default 2 + 1) over gfn 0,
// every sequence of 1..max_ops operations per thread from the alphabets
// below. Threads of one kind are interchangeable (vCPUs start with the
// same empty TLB, kernel threads have no identity), so only programs whose
// sequences are in non-decreasing order within each kind are listed.
struct SmallProgramSpace {
  int vcpus = 2;
  int kernel_threads = 1;
  int max_ops = 3;
  Config config;  // gfns must be 1
  std::vector<OpKind> vcpu_ops = {OpKind::kRead, OpKind::kWrite, OpKind::kFault};
  std::vector<OpKind> kernel_ops = {OpKind::kZap,      OpKind::kWriteback, OpKind::kAge,
                                    OpKind::kWpPt,     OpKind::kEnableLog, OpKind::kHarvest};
};
// The default space's configuration: A/D on, logging on, g0 present and
// read-only but MMU- and host-writable (so the fast path can fix it), TLBs empty.
Config SmallProgramConfig();
// Calls `f(tc)` for every program of the space, in a fixed order; stops when f returns false.
// Returns the number of programs visited.
uint64_t ForEachSmallProgram(const SmallProgramSpace& space, const std::function<bool(const TestCase&)>& f);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_DFS_H_
