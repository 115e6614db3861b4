// core/executor.h: runs a TestCase under Rules and a Scheduler.
//
// The Executor owns the model state, the coroutine arena and the result
// buffers, and reuses them across executions: running input X after a
// million others behaves exactly like running X alone.
//
//   Executor ex;
//   SegmentScheduler sched;                    // the test case's own schedule
//   const Result& r = ex.Run(tc, rules, sched);
//   if (r.outcome == Outcome::kViolation) { ... r.violations[0] ... }
#ifndef SPTEFUZZ_CORE_EXECUTOR_H_
#define SPTEFUZZ_CORE_EXECUTOR_H_

#include <deque>
#include <memory>

#include "core/check.h"
#include "core/model.h"
#include "core/rules.h"
#include "core/scheduler.h"
#include "core/testcase.h"
#include "core/trace.h"

namespace sptefuzz {

class Executor {
 public:
  Executor() : model_(std::make_unique<Model>()) {}
  // `tc` must satisfy ValidateTestCase(). The result stays valid until the
  // next call.
  const Result& Run(const TestCase& tc, const Rules& rules, Scheduler& sched, const ExecOptions& opts = {}) {
    return model_->Run(tc, rules, sched, opts);
  }
  // Memory chunks the coroutine arena holds (for the no-allocation test).
  size_t arena_chunks() const { return model_->arena_chunks(); }

  // Checkpoints of the run in progress, in numbered slots that the executor
  // keeps (their buffers are reused from run to run). Save is called from
  // Scheduler::Pick with its view; Resume continues the saved run, asking
  // `sched` that Pick again (Model::SaveCheckpoint and Model::Resume).
  bool SaveCheckpoint(size_t slot, const SchedView& v) {
    if (slot >= checkpoints_.size()) checkpoints_.resize(slot + 1);
    return model_->SaveCheckpoint(&checkpoints_[slot], v);
  }
  const Result& Resume(size_t slot, Scheduler& sched) {
    SPTEFUZZ_CHECK(slot < checkpoints_.size());
    return model_->Resume(checkpoints_[slot], sched);
  }

 private:
  std::unique_ptr<Model> model_;
  // A deque: growing it while a resumed run saves keeps the slot being resumed in place.
  std::deque<RunCheckpoint> checkpoints_;
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_CORE_EXECUTOR_H_
