// core/dfs.h: exhaustive bounded exploration of one program (stateless
// model checking by re-execution, CHESS- and loom-style).
//
// Every execution replays a prefix of scheduling choices and extends it
// depth-first; the next execution backtracks to the deepest choice with an
// untried alternative. Only schedules with at most `preemptions`
// preemptions are visited (a preemption: switching away from a thread that
// could still run and did not yield in a spin-wait). With `por`, sleep sets
// (Godefroid 1996) over the step footprints of core/dfs_footprint.h skip
// schedules that only reorder independent steps. A bound and sleep sets do
// not mix naively (Coons, Musuvathi, McKinley, "Bounded partial-order
// reduction", OOPSLA 2013): the explored representative of a skipped
// schedule may exceed the bound. So a choice whose subtree lost any
// schedule to the bound never puts its thread to sleep; the reduction then
// keeps every verdict of the plain bounded search (tested over every small
// program).
//
//   DfsExplorer dfs(tc, rules, DfsOptions{.preemptions = 2});
//   DfsOutcome out = dfs.Run(executor);
//   if (out.violation) { ... out.violation->schedule replays it ... }
//   out.stats.interleavings;   // executions explored to the end
#ifndef SPTEFUZZ_CORE_DFS_H_
#define SPTEFUZZ_CORE_DFS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/dfs_footprint.h"
#include "core/executor.h"
#include "core/scheduler.h"

namespace sptefuzz {

struct DfsOptions {
  int preemptions = 2;
  bool por = true;             // sleep-set reduction
  uint64_t max_executions = 0; // 0: no limit (stop only when exhausted)
  ExecOptions exec;
};

struct DfsStats {
  uint64_t interleavings = 0;   // executions run to their end (or violation) inside the bound
  uint64_t sleep_blocked = 0;   // executions abandoned: every runnable thread asleep (redundant)
  uint64_t cut = 0;             // executions that reached the step limit
  uint64_t steps = 0;
  bool exhaustive = false;      // the whole bounded tree was visited
};

struct DfsOutcome {
  DfsStats stats;
  std::optional<Result> violation;  // the first violation, if any
  int violation_preemptions = 0;    // preemptions its schedule uses
};

class DfsExplorer : public Scheduler {
 public:
  DfsExplorer(const TestCase& tc, const Rules& rules, DfsOptions opts);
  // Explores until the first violation, the execution limit, or exhaustion.
  DfsOutcome Run(Executor& ex);

  // Scheduler interface (used by Run()).
  void Begin(const TestCase& tc) override;
  int Pick(const SchedView& v) override;

 private:
  struct Node {
    uint32_t enabled = 0;
    uint32_t allowed = 0;      // enabled threads the fairness rule lets run
    int current = -1;
    bool current_yielded = false;
    uint8_t preemptions = 0;   // before this node's step
    int chosen = -1;
    uint32_t done = 0;         // alternatives explored (or being explored) here
    uint32_t sleep = 0;
    // The subtree of the current choice lost schedules to the bound or the
    // fairness rule; such a choice never goes to sleep (`nosleep`), since
    // its subtree need not hold the equivalent of what a sleep would skip.
    bool cur_pruned = false;
    uint32_t nosleep = 0;
    std::array<Footprint, kMaxThreads> fp{};
  };
  bool Cost(const Node& n, int t) const;  // does choosing t preempt?
  int NextChoice(const Node& n) const;    // -1: none left
  bool Backtrack();
  uint32_t Excluded(const Node& n) const;  // enabled threads the bound or fairness rule out
  void MarkPruned(size_t index);           // a node at `index` ruled threads out

  const TestCase& tc_;
  Rules rules_;
  DfsOptions opts_;
  std::vector<Node> stack_;
  size_t pos_ = 0;
  bool blocked_ = false;   // the current execution fell asleep
  // Fair spin-waits (CHESS): a thread that yields may not run again until
  // every thread enabled when it yielded has run (fair_wait_[t]: those left).
  std::array<uint32_t, kMaxThreads> fair_wait_{};
};

// The space of small programs `explore --programs all` enumerates: a fixed
// thread layout (vCPU threads, then one kernel thread) over gfn 0, every
// sequence of 1..max_ops operations per thread from the alphabets below.
// vCPU threads are interchangeable (same initial TLB), so only programs
// whose vCPU sequences are in non-decreasing order are listed.
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
