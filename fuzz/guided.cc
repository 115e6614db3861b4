#include "fuzz/guided.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "fuzz/codec.h"
#include "fuzz/interleaving_feedback.h"
#include "fuzz/mutator.h"

namespace sptefuzz {
namespace {

// libFuzzer's counter buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+.
inline uint8_t BucketBit(uint8_t c) {
  if (c <= 3) return static_cast<uint8_t>(1u << (c - 1));
  if (c <= 7) return 1u << 3;
  if (c <= 15) return 1u << 4;
  if (c <= 31) return 1u << 5;
  if (c <= 127) return 1u << 6;
  return 1u << 7;
}

}  // namespace

PrefixThenRandomScheduler::PrefixThenRandomScheduler(const std::vector<uint8_t>* steps, size_t prefix, uint64_t seed,
                                                     int switch_per_mille)
    : steps_(steps), prefix_(std::min(prefix, steps->size())), random_(seed, switch_per_mille) {}

int PrefixThenRandomScheduler::Pick(const SchedView& v) {
  if (v.step >= prefix_) return random_.Pick(v);
  const int t = (*steps_)[v.step];
  if (t < v.threads && ((v.enabled >> t) & 1)) return t;
  return random_.PickUniform(v);
}

size_t DeriveSchedule(std::vector<uint8_t>* steps, int threads, SplitMix64& rng) {
  if (steps->empty() || threads < 2 || rng.Chance(640)) {
    // The same schedule up to a random step, then a random tail.
    return rng.Below(static_cast<uint32_t>(steps->size()) + 1);
  }
  const uint32_t i = rng.Below(static_cast<uint32_t>(steps->size()));
  const uint32_t n = static_cast<uint32_t>(threads);
  (*steps)[i] = static_cast<uint8_t>(((*steps)[i] + 1 + rng.Below(n - 1)) % n);
  return steps->size();
}

GuidedSearch::GuidedSearch(const Rules& rules, const GuidedOptions& opts)
    : rules_(rules),
      opts_(opts),
      rng_(opts.seed ^ 0x6d1dedull),
      prog_rng_(opts.seed),
      counters_(kFeedbackCounters),
      seen_(kFeedbackCounters),
      hits_(kFeedbackCounters) {
  opts_.exec.record_trace = true;
}

uint32_t GuidedSearch::NewFeatures(const Result& r) {
  std::memset(counters_.data(), 0, counters_.size());
  RecordInterleavingFeedbackInto(counters_.data(), cur_, r);
  uint32_t fresh = 0;
  run_features_.clear();
  const size_t words = counters_.size() / 8;
  for (size_t w = 0; w < words; ++w) {
    uint64_t x;
    std::memcpy(&x, counters_.data() + 8 * w, 8);
    if (x == 0) continue;
    for (size_t i = 8 * w; i < 8 * w + 8; ++i) {
      if (counters_[i] == 0) continue;
      run_features_.push_back(static_cast<uint16_t>(i));
      if (hits_[i] != UINT32_MAX) ++hits_[i];
      const uint8_t b = BucketBit(counters_[i]);
      if ((seen_[i] & b) == 0) {
        seen_[i] |= b;
        ++fresh;
      }
    }
  }
  stats_.features += fresh;
  return fresh;
}

void GuidedSearch::ComputeWeights() {
  weight_sum_.resize(corpus_.size());
  double sum = 0;
  for (size_t k = 0; k < corpus_.size(); ++k) {
    double w = 0;
    for (uint16_t i : corpus_[k].features) w += 1.0 / hits_[i];
    sum += w;
    weight_sum_[k] = sum;
  }
  weights_at_ = stats_.executions;
  weights_stale_ = false;
}

size_t GuidedSearch::PickEntryIndex() {
  const uint32_t n = static_cast<uint32_t>(corpus_.size());
  if (opts_.rarity && opts_.feedback) {  // without the feedback no run's features are counted
    // The weights follow the hit counts, which every execution moves a
    // little: recomputed when an entry was added or replaced and every 256
    // executions.
    if (weights_stale_ || stats_.executions - weights_at_ >= 256) ComputeWeights();
    SPTEFUZZ_CHECK(weight_sum_.back() > 0);  // every entry's run bumped a counter its own run counted
    const double x = static_cast<double>(rng_.Next() >> 11) * 0x1.0p-53 * weight_sum_.back();
    const size_t k = std::upper_bound(weight_sum_.begin(), weight_sum_.end(), x) - weight_sum_.begin();
    return std::min<size_t>(k, n - 1);
  }
  // Half the time one of the newest entries: what the search learned last
  // is where it is most likely to learn more.
  if (n > 32 && rng_.Chance(500)) return n - 1 - rng_.Below(32);
  return rng_.Below(n);
}

uint32_t GuidedSearch::RarestHits(size_t entry) const {
  uint32_t m = UINT32_MAX;
  for (uint16_t i : corpus_[entry].features) m = std::min(m, hits_[i]);
  return m;
}

const Result& GuidedSearch::Next(Executor& ex) {
  ++stats_.executions;
  const uint64_t sched_seed = rng_.Next();
  const bool fresh = corpus_.empty() || rng_.Chance(opts_.fresh_per_mille);
  std::vector<uint8_t> steps;
  size_t prefix = 0;
  if (fresh) {
    ++stats_.fresh;
    if (opts_.program != nullptr) {
      cur_ = *opts_.program;
      cur_.schedule.clear();
    } else {
      cur_ = RandomTestCase(prog_rng_, opts_.gen);
    }
  } else {
    ++stats_.derived;
    const Entry& e = corpus_[PickEntryIndex()];
    cur_ = e.tc;
    steps = e.steps;
    if (opts_.program != nullptr || rng_.Chance(700)) {
      // The same program under a schedule derived from the entry's.
      prefix = DeriveSchedule(&steps, static_cast<int>(cur_.threads.size()), rng_);
    } else {
      // A mutated program (one op, thread or configuration change) under
      // the old schedule as far as it still applies.
      TestCase m = cur_;
      if (MutateTestCase(&m, kCodecVersionSteps, rng_)) {
        m.schedule.clear();
        // A configuration bit flip can ask for the adversarial D-assist, the
        // hazard mode that breaks every preset (spec §3.1): as in --strategy
        // random, only with --adversarial.
        if (!opts_.gen.allow_adversarial_dassist) m.config.dassist = DAssist::kStrict;
        if (ValidateTestCase(m).ok()) cur_ = std::move(m);
      }
      prefix = steps.size();
    }
  }
  RandomScheduler random(sched_seed, opts_.switch_per_mille);
  PrefixThenRandomScheduler derived(&steps, prefix, sched_seed, opts_.switch_per_mille);
  Scheduler& sched = fresh ? static_cast<Scheduler&>(random) : derived;
  const Result& r = ex.Run(cur_, rules_, sched, opts_.exec);
  if (r.outcome == Outcome::kViolation) return r;
  const bool keep = opts_.feedback ? NewFeatures(r) > 0 : rng_.Below(64) == 0;
  if (keep) {
    Entry e{cur_, r.schedule, run_features_};
    e.tc.schedule.clear();
    if (corpus_.size() < opts_.max_corpus) {
      corpus_.push_back(std::move(e));
    } else {
      corpus_[rng_.Below(static_cast<uint32_t>(corpus_.size()))] = std::move(e);
    }
    weights_stale_ = true;
  }
  stats_.corpus = corpus_.size();
  return r;
}

}  // namespace sptefuzz
