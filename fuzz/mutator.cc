#include "fuzz/mutator.h"

#include <algorithm>
#include <utility>

#include "core/program_gen.h"
#include "fuzz/codec.h"
#include "fuzz/guided.h"

namespace sptefuzz {
namespace {

Op RandomOp(const TestCase& tc, ThreadKind kind, SplitMix64& rng) {
  Op op;
  const std::vector<OpKind>& ops = CodecOps(kind);
  op.kind = ops[rng.Below(static_cast<uint32_t>(ops.size()))];
  op.gfn = OpUsesGfn(op.kind) ? static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(tc.config.gfns))) : 0;
  return op;
}

Segment RandomSegment(int nthreads, uint8_t version, SplitMix64& rng) {
  Segment s;
  s.thread = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(nthreads)));
  const uint32_t k = version == kCodecVersionSteps ? 1 : rng.Below(20);
  if (k < 10) {
    // Preempt right after a named step: the natural unit of the spec's scenarios.
    s.kind = SegmentKind::kThrough;
    s.label = static_cast<Label>(rng.Below(kLabelCount));
    s.count = static_cast<uint16_t>(rng.Chance(800) ? 1 : 1 + rng.Below(3));
  } else if (k < 17) {
    s.kind = SegmentKind::kSteps;
    s.count = static_cast<uint16_t>(rng.Chance(700) ? 1 + rng.Below(4) : 1 + rng.Below(32));
  } else {
    s.kind = SegmentKind::kToEnd;
  }
  return s;
}

// v2 holds only kSteps segments and adjacent ones name different threads.
void NormalizeForSteps(std::vector<Segment>* sched) {
  std::vector<Segment> out;
  for (Segment s : *sched) {
    if (s.kind != SegmentKind::kSteps) {
      s.kind = SegmentKind::kSteps;
      s.label = Label::kH1;
      s.count = 1 + s.count % 8;
    }
    if (!out.empty() && out.back().thread == s.thread) {
      out.back().count = static_cast<uint16_t>(std::min(4096, out.back().count + s.count));
    } else {
      out.push_back(s);
    }
  }
  *sched = std::move(out);
}

bool MutateOps(TestCase& m, SplitMix64& rng) {
  ThreadSpec& th = m.threads[rng.Below(static_cast<uint32_t>(m.threads.size()))];
  switch (rng.Below(3)) {
    case 0:
      if (th.ops.size() >= kMaxOpsPerThread) return false;
      th.ops.insert(th.ops.begin() + rng.Below(static_cast<uint32_t>(th.ops.size() + 1)), RandomOp(m, th.kind, rng));
      return true;
    case 1:
      if (th.ops.empty()) return false;
      th.ops.erase(th.ops.begin() + rng.Below(static_cast<uint32_t>(th.ops.size())));
      return true;
    default:
      if (th.ops.empty()) return false;
      th.ops[rng.Below(static_cast<uint32_t>(th.ops.size()))] = RandomOp(m, th.kind, rng);
      return true;
  }
}

bool MutateSchedule(TestCase& m, uint8_t version, SplitMix64& rng) {
  std::vector<Segment>& s = m.schedule;
  const int n = static_cast<int>(m.threads.size());
  switch (rng.Below(4)) {
    case 0:  // add a preemption
      if (s.size() >= kMaxSegments) return false;
      s.insert(s.begin() + rng.Below(static_cast<uint32_t>(s.size() + 1)), RandomSegment(n, version, rng));
      return true;
    case 1:  // remove one
      if (s.empty()) return false;
      s.erase(s.begin() + rng.Below(static_cast<uint32_t>(s.size())));
      return true;
    case 2: {  // move one: a step later or earlier, or to another label
      if (s.empty()) return false;
      Segment& g = s[rng.Below(static_cast<uint32_t>(s.size()))];
      const int delta = rng.Chance(500) ? 1 : -1;
      if (g.kind == SegmentKind::kThrough && rng.Chance(500)) {
        g.label = static_cast<Label>(rng.Below(kLabelCount));
      } else if (g.kind == SegmentKind::kToEnd) {
        g = RandomSegment(n, version, rng);
      } else {
        g.count = static_cast<uint16_t>(std::max(1, g.count + delta * (1 + static_cast<int>(rng.Below(3)))));
      }
      return true;
    }
    default: {  // give a segment to another thread
      if (s.empty() || n < 2) return false;
      s[rng.Below(static_cast<uint32_t>(s.size()))].thread = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(n)));
      return true;
    }
  }
}

bool MutateThreads(TestCase& m, SplitMix64& rng) {
  const int n = static_cast<int>(m.threads.size());
  if (rng.Chance(500) && n < kMaxThreads) {
    ThreadSpec th;
    th.kind = ThreadKind::kKernel;
    bool taken[kMaxVcpus] = {};
    for (const ThreadSpec& t : m.threads) {
      if (t.kind == ThreadKind::kVcpu) taken[t.vcpu] = true;
    }
    for (int v = 0; v < m.config.vcpus; ++v) {
      if (!taken[v] && rng.Chance(600)) {
        th.kind = ThreadKind::kVcpu;
        th.vcpu = static_cast<uint8_t>(v);
        break;
      }
    }
    const int nops = 1 + static_cast<int>(rng.Below(2));
    for (int i = 0; i < nops; ++i) th.ops.push_back(RandomOp(m, th.kind, rng));
    const int at = static_cast<int>(rng.Below(static_cast<uint32_t>(n + 1)));
    m.threads.insert(m.threads.begin() + at, std::move(th));
    // The schedule keeps naming the same threads.
    for (Segment& s : m.schedule) {
      if (s.thread >= at) ++s.thread;
    }
    return true;
  }
  if (n < 2) return false;
  const int t = static_cast<int>(rng.Below(static_cast<uint32_t>(n)));
  m.threads.erase(m.threads.begin() + t);
  std::vector<Segment> out;
  for (Segment s : m.schedule) {
    if (s.thread == t) continue;
    if (s.thread > t) --s.thread;
    out.push_back(s);
  }
  m.schedule = std::move(out);
  return true;
}

// Flips one bit of the encoded configuration (not the thread count) and
// decodes again: the decoder repairs whatever the new configuration no longer
// allows (sptes, TLB entries, vCPU threads).
bool MutateConfig(TestCase& m, uint8_t version, SplitMix64& rng) {
  std::vector<uint8_t> bytes = EncodeTestCaseAs(m, version);
  static constexpr uint8_t kConfigBytes[] = {1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  const uint8_t at = kConfigBytes[rng.Below(sizeof(kConfigBytes))];
  bytes[at] ^= static_cast<uint8_t>(1u << rng.Below(8));
  m = DecodeTestCaseAs(version, bytes.data(), bytes.size());
  return true;
}

}  // namespace

bool MutateTestCase(TestCase* tc, uint8_t version, SplitMix64& rng) {
  if (!IsEncodableAs(*tc, version)) return false;
  for (int attempt = 0; attempt < 8; ++attempt) {
    TestCase m = *tc;
    bool changed = false;
    const uint32_t what = rng.Below(10);
    if (what < 3) {
      changed = MutateOps(m, rng);
    } else if (what < 7) {
      changed = MutateSchedule(m, version, rng);
    } else if (what < 9) {
      changed = MutateConfig(m, version, rng);
    } else {
      changed = MutateThreads(m, rng);
    }
    if (!changed) continue;
    if (version == kCodecVersionSteps) NormalizeForSteps(&m.schedule);
    if (m == *tc || !IsEncodableAs(m, version)) continue;
    *tc = std::move(m);
    return true;
  }
  return false;
}

namespace {

// Runs `tc` under `sched` without a trace: the mutations read only the
// steps (Result::schedule) and the outcome. Valid until the executor's next run.
const Result& RunUntraced(const TestCase& tc, const Rules& rules, Scheduler& sched, Executor& ex) {
  ExecOptions opts;
  opts.record_trace = false;
  return ex.Run(tc, rules, sched, opts);
}

// Runs `m` under `sched` and makes the steps it took m's schedule (at most
// kMaxSegments segments, in the form `version` encodes). Reports the run in
// *run, if given.
void ScheduleFromRun(TestCase* m, uint8_t version, const Rules& rules, Scheduler& sched, Executor& ex,
                     MutationRun* run) {
  if (run != nullptr && run->before != nullptr) run->before();
  const Result& r = RunUntraced(*m, rules, sched, ex);
  std::vector<Segment> segs = SegmentsFromSteps(r.schedule);
  if (run != nullptr) {
    // Normalizing for v2 only merges neighbours of one thread: the same steps.
    run->replays = segs.size() <= static_cast<size_t>(kMaxSegments) && r.outcome == Outcome::kOk;
    if (run->replays) run->steps.assign(r.schedule.begin(), r.schedule.end());
  }
  if (segs.size() > static_cast<size_t>(kMaxSegments)) segs.resize(kMaxSegments);
  m->schedule = std::move(segs);
  if (version == kCodecVersionSteps) NormalizeForSteps(&m->schedule);
}

}  // namespace

bool MutateScheduleByRunning(TestCase* tc, uint8_t version, const Rules& rules, Executor& ex, SplitMix64& rng,
                             const std::vector<uint8_t>* own_steps, MutationRun* run) {
  if (!ValidateTestCase(*tc).ok()) return false;
  SegmentScheduler own;
  std::vector<uint8_t> steps = own_steps != nullptr ? *own_steps : RunUntraced(*tc, rules, own, ex).schedule;
  const size_t prefix = DeriveSchedule(&steps, static_cast<int>(tc->threads.size()), rng);
  PrefixThenRandomScheduler derived(&steps, prefix, rng.Next());
  TestCase m = *tc;
  ScheduleFromRun(&m, version, rules, derived, ex, run);
  if (m == *tc || !IsEncodableAs(m, version)) return false;
  *tc = std::move(m);
  return true;
}

bool GenerateTestCase(TestCase* tc, uint8_t version, const Rules& rules, Executor& ex, SplitMix64& rng,
                      MutationRun* run) {
  TestCase m = RandomTestCase(rng, GenOptions{});
  RandomScheduler random(rng.Next());
  ScheduleFromRun(&m, version, rules, random, ex, run);
  if (!IsEncodableAs(m, version)) return false;
  *tc = std::move(m);
  return true;
}

bool MutateOrGenerate(TestCase* tc, uint8_t version, const Rules& rules, bool adversarial, Executor& ex,
                      SplitMix64& rng, const std::vector<uint8_t>* own_steps, MutationRun* run) {
  // The shares: b3 from an empty corpus, libFuzzer, 5 seeds of 30 s each
  // (bench/results/fuzz.md, "Run-aware and generating mutations").
  const uint32_t what = rng.Below(30);
  const bool may_run = adversarial || tc->config.dassist != DAssist::kAdversarial;
  if (run != nullptr) run->replays = false;
  bool changed;
  if (what < 12 && may_run) {
    changed = MutateScheduleByRunning(tc, version, rules, ex, rng, own_steps, run);
  } else if (what < 27) {
    changed = GenerateTestCase(tc, version, rules, ex, rng, run);
  } else {
    changed = MutateTestCase(tc, version, rng);
  }
  // The result never asks for the adversarial D-assist unless allowed; if
  // that changes it, it is not the configuration that ran.
  const bool repaired = !adversarial && tc->config.dassist != DAssist::kStrict;
  if (repaired) tc->config.dassist = DAssist::kStrict;
  if (run != nullptr) run->replays = run->replays && changed && !repaired;
  return changed;
}

TestCase CrossOverTestCases(const TestCase& a, const TestCase& b, uint8_t version) {
  TestCase c = a;
  c.schedule.clear();
  for (Segment s : b.schedule) {
    s.thread = static_cast<uint8_t>(s.thread % a.threads.size());
    c.schedule.push_back(s);
  }
  if (version == kCodecVersionSteps) NormalizeForSteps(&c.schedule);
  return IsEncodableAs(c, version) ? c : a;
}

}  // namespace sptefuzz
