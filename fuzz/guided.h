// fuzz/guided.h: a greybox search over programs and schedules, guided by
// interleaving feedback (issue 8, item 3): `sptefuzz explore --strategy guided`.
//
// libFuzzer sees the model's code coverage plus the interleaving counters
// (fuzz/interleaving_feedback.h), but it pays for its per-input bookkeeping
// and mutates bytes. This loop keeps the same idea inside the explorer, at
// the explorer's speed: every execution's interleaving features (conflicting
// pairs on one spte, spte bit transitions per step label, lock and TLB state
// at each event; each counted in libFuzzer's logarithmic buckets) are
// compared with those seen so far, and a run that shows a new one joins the
// corpus as (program, schedule). An execution is either
//   * fresh: a random program under a random schedule (what --strategy
//     random does), or
//   * derived from a corpus entry: its schedule replayed up to a random
//     step, then a random tail; one thread choice of it flipped; or its
//     program mutated (fuzz/mutator.h) under its old schedule as far as
//     that schedule still applies, then a random tail.
// A run that is close to a bug (it reached a new race order or state
// combination) is thus revisited with the schedule around that point
// varied, where a fresh random run would start from scratch. Derived runs
// favour entries whose features few runs have shown (GuidedOptions::rarity).
// Measured against random search in bench/results/time-to-bug-guided.md.
//
// Everything is drawn from one seed: the same seed gives the same sequence
// of executions, byte for byte.
//
//   GuidedSearch g(rules, GuidedOptions{.seed = 7});
//   for (;;) {
//     const Result& r = g.Next(ex);
//     if (r.outcome == Outcome::kViolation) { report(g.current(), r); break; }
//   }
#ifndef SPTEFUZZ_FUZZ_GUIDED_H_
#define SPTEFUZZ_FUZZ_GUIDED_H_

#include <cstdint>
#include <vector>

#include "core/executor.h"
#include "core/program_gen.h"
#include "core/rules.h"
#include "core/scheduler.h"
#include "core/testcase.h"

namespace sptefuzz {

// Follows `steps` for the first `prefix` steps (where the thread named there
// is not enabled, a uniformly chosen enabled one), then is a RandomScheduler
// of `seed`.
class PrefixThenRandomScheduler : public Scheduler {
 public:
  PrefixThenRandomScheduler(const std::vector<uint8_t>* steps, size_t prefix, uint64_t seed,
                            int switch_per_mille = -1);
  void Begin(const TestCase& tc) override { random_.Begin(tc); }
  int Pick(const SchedView& v) override;

 private:
  const std::vector<uint8_t>* steps_;
  size_t prefix_;
  RandomScheduler random_;
};

// The derivations of a corpus entry's schedule `steps` (the thread of every
// step of its run). Returns the prefix of `*steps` to follow before random
// switching: either a random cut, or all of it after one thread choice was
// changed (a preemption added, removed or moved at that step). Shared with
// the fuzz engines' run-aware mutation (MutateScheduleByRunning in mutator.h).
size_t DeriveSchedule(std::vector<uint8_t>* steps, int threads, SplitMix64& rng);

struct GuidedOptions {
  uint64_t seed = 1;
  GenOptions gen;
  ExecOptions exec;  // record_trace is forced on: the features come from the trace
  // Per mille of executions that are fresh random ones.
  uint32_t fresh_per_mille = 500;
  // true: a run joins the corpus when it shows a new interleaving feature.
  // false (the ablation of bench/time_to_bug.sh's guided-nofb): a run joins
  // it by chance, 1 in 64, so the same mutations run without the feedback.
  bool feedback = true;
  size_t max_corpus = 4096;
  // true: a derived execution picks its corpus entry in proportion to the
  // rarity of the entry's features: the sum, over the counters its run
  // bumped, of 1 / (executions so far that bumped that counter), as in
  // AFLFast's and Entropic's power schedules. Entries that alone reach a
  // rare race order or state get most of the derived runs. false: entries
  // are picked uniformly, half the time among the 32 newest (always without
  // the feedback). Measured in
  // bench/results/time-to-bug-guided.md; `explore --pick`.
  bool rarity = true;
  // Non-null: search the schedules of this one program (its schedule is
  // ignored). Fresh runs run it under a random schedule, and derived runs
  // only vary their entry's schedule. Must outlive the search.
  const TestCase* program = nullptr;
  // The random schedulers' per-mille switch chance (fresh runs, and the
  // random tail of derived runs); -1: RandomScheduler's per-execution mix.
  int switch_per_mille = -1;
};

struct GuidedStats {
  uint64_t executions = 0;
  uint64_t fresh = 0;
  uint64_t derived = 0;
  uint64_t corpus = 0;    // entries now
  uint64_t features = 0;  // distinct (counter, bucket) pairs seen
};

class GuidedSearch {
 public:
  GuidedSearch(const Rules& rules, const GuidedOptions& opts);
  // Runs one execution on `ex`. The result is valid until ex's next run;
  // current() is the program it ran.
  const Result& Next(Executor& ex);
  const TestCase& current() const { return cur_; }
  const GuidedStats& stats() const { return stats_; }

  // For tests: the corpus entry the next derived execution would start
  // from (it draws from the search's random stream), and the fewest
  // executions that showed any one of that entry's features.
  size_t PickEntryIndex();
  uint32_t RarestHits(size_t entry) const;
  size_t corpus_size() const { return corpus_.size(); }

 private:
  struct Entry {
    TestCase tc;                 // its schedule is empty: `steps` is the schedule
    std::vector<uint8_t> steps;  // the thread of every step of the run that added it
    std::vector<uint16_t> features;  // the counters its run bumped
  };
  // Returns the number of new (counter, bucket) features of `r`.
  uint32_t NewFeatures(const Result& r);
  void ComputeWeights();

  Rules rules_;
  GuidedOptions opts_;
  SplitMix64 rng_;
  SplitMix64 prog_rng_;
  std::vector<Entry> corpus_;
  std::vector<uint8_t> counters_;
  std::vector<uint8_t> seen_;  // per counter: the buckets seen so far (one bit each)
  std::vector<uint32_t> hits_;  // per counter: executions that bumped it
  std::vector<uint16_t> run_features_;  // the counters the last run bumped
  std::vector<double> weight_sum_;  // rarity: prefix sums of the entries' weights
  uint64_t weights_at_ = 0;  // executions when weight_sum_ was computed
  bool weights_stale_ = false;  // an entry was added or replaced since

  TestCase cur_;
  GuidedStats stats_;
};

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_GUIDED_H_
