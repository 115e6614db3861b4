#include "repro/minimize.h"

#include <array>
#include <functional>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "repro/replay.h"

namespace sptefuzz {
namespace {

// ---------------------------------------------------------------------------
// The progress measure. Lexicographic: structure first (what a reader must
// follow), then configuration, then initial state.

using Measure = std::array<uint32_t, 9>;

Measure MeasureOf(const TestCase& tc) {
  Measure m{};
  m[0] = static_cast<uint32_t>(tc.threads.size());
  for (const ThreadSpec& t : tc.threads) m[1] += static_cast<uint32_t>(t.ops.size());
  m[2] = static_cast<uint32_t>(tc.schedule.size());
  for (const Segment& s : tc.schedule) {
    // "to end" < "through L" < "through L #2" ... and "for N" by N.
    m[3] += s.kind == SegmentKind::kToEnd ? 1u : 1u + s.count;
  }
  const Config& c = tc.config;
  m[4] = static_cast<uint32_t>(c.vcpus);
  m[5] = static_cast<uint32_t>(c.gfns);
  for (int g = 0; g < kMaxGfns; ++g) m[6] += static_cast<uint32_t>(__builtin_popcountll(c.init_spte[g]));
  for (const auto& row : c.init_tlb) {
    for (const TlbEntry& e : row) m[7] += (e.valid ? 1u : 0u) + (e.w ? 1u : 0u) + (e.d ? 1u : 0u);
  }
  m[8] = static_cast<uint32_t>(__builtin_popcount(c.init_bitmap)) + (c.logging ? 1u : 0u) +
         (c.dassist == DAssist::kAdversarial ? 1u : 0u) + (c.pml ? 1u : 0u);
  return m;
}

// ---------------------------------------------------------------------------
// Reductions. Each returns the candidate, or nothing when it does not apply.
// Validity is checked by the caller (ValidateTestCase).

// After an initial spte changed: make the sptes and TLB entries consistent
// again in the direction of "less" (drop what is no longer allowed).
void RepairState(Config& c) {
  for (int g = 0; g < kMaxGfns; ++g) {
    Spte& s = c.init_spte[g];
    if (!(s & kSptePresent)) s = 0;
    if (!(s & kSpteHostW)) s &= ~kSpteMmuW;
    if (!(s & kSpteMmuW)) s &= ~kSpteW;
    if (!c.ad) s &= ~(kSpteA | kSpteD);
    for (int v = 0; v < kMaxVcpus; ++v) {
      TlbEntry& e = c.init_tlb[v][g];
      if (!e.valid) continue;
      if (!IsHardwarePresent(s) || (c.ad && !(s & kSpteA))) {
        e = TlbEntry{};
        continue;
      }
      if (!IsWritablePte(s)) e.w = false;
      if (c.ad && !(s & kSpteD)) e.d = false;
    }
  }
}

TestCase RemoveThread(const TestCase& tc, int t) {
  TestCase n = tc;
  n.threads.erase(n.threads.begin() + t);
  std::vector<Segment> segs;
  for (Segment s : tc.schedule) {
    if (s.thread == t) continue;
    if (s.thread > t) --s.thread;
    segs.push_back(s);
  }
  n.schedule = std::move(segs);
  return n;
}

std::optional<TestCase> RemoveVcpu(const TestCase& tc, int v) {
  if (tc.config.vcpus <= 1) return std::nullopt;
  for (const ThreadSpec& t : tc.threads) {
    if (t.kind == ThreadKind::kVcpu && t.vcpu == v) return std::nullopt;
  }
  TestCase n = tc;
  for (ThreadSpec& t : n.threads) {
    if (t.kind == ThreadKind::kVcpu && t.vcpu > v) --t.vcpu;
  }
  for (int i = v; i + 1 < kMaxVcpus; ++i) n.config.init_tlb[i] = n.config.init_tlb[i + 1];
  n.config.init_tlb[kMaxVcpus - 1] = {};
  --n.config.vcpus;
  return n;
}

std::optional<TestCase> RemoveGfn(const TestCase& tc, int g) {
  if (tc.config.gfns <= 1) return std::nullopt;
  for (const ThreadSpec& t : tc.threads) {
    for (const Op& op : t.ops) {
      if (OpUsesGfn(op.kind) && op.gfn == g) return std::nullopt;
    }
  }
  TestCase n = tc;
  Config& c = n.config;
  for (ThreadSpec& t : n.threads) {
    for (Op& op : t.ops) {
      if (OpUsesGfn(op.kind) && op.gfn > g) --op.gfn;
    }
  }
  for (int i = g; i + 1 < kMaxGfns; ++i) {
    c.init_spte[i] = c.init_spte[i + 1];
    for (auto& row : c.init_tlb) row[i] = row[i + 1];
  }
  c.init_spte[kMaxGfns - 1] = 0;
  for (auto& row : c.init_tlb) row[kMaxGfns - 1] = TlbEntry{};
  const uint8_t low = c.init_bitmap & static_cast<uint8_t>((1u << g) - 1);
  c.init_bitmap = static_cast<uint8_t>(low | ((c.init_bitmap >> (g + 1)) << g));
  --c.gfns;
  return n;
}

// Every candidate reduction of `tc`, biggest cuts first.
std::vector<TestCase> Candidates(const TestCase& tc) {
  std::vector<TestCase> out;
  const int nt = static_cast<int>(tc.threads.size());
  // Threads.
  for (int t = nt - 1; t >= 0 && nt > 1; --t) out.push_back(RemoveThread(tc, t));
  // The schedule: drop it all, a tail of it, one segment.
  for (size_t i = 0; i < tc.schedule.size(); ++i) {
    TestCase n = tc;
    n.schedule.resize(i);
    out.push_back(std::move(n));
  }
  for (size_t i = 0; i < tc.schedule.size(); ++i) {
    TestCase n = tc;
    n.schedule.erase(n.schedule.begin() + static_cast<long>(i));
    out.push_back(std::move(n));
  }
  // Ops.
  for (int t = 0; t < nt; ++t) {
    for (size_t i = 0; i < tc.threads[t].ops.size(); ++i) {
      TestCase n = tc;
      n.threads[t].ops.erase(n.threads[t].ops.begin() + static_cast<long>(i));
      out.push_back(std::move(n));
    }
  }
  // Segments: fewer preemption points, shorter windows.
  for (size_t i = 0; i < tc.schedule.size(); ++i) {
    const Segment& s = tc.schedule[i];
    if (s.kind != SegmentKind::kToEnd) {
      TestCase n = tc;
      n.schedule[i] = Segment{s.thread, SegmentKind::kToEnd, Label::kH1, 1};
      out.push_back(std::move(n));
    }
    if (i + 1 < tc.schedule.size() && tc.schedule[i + 1].thread == s.thread && s.kind == SegmentKind::kSteps &&
        tc.schedule[i + 1].kind == SegmentKind::kSteps && s.count + tc.schedule[i + 1].count <= 0xffff) {
      TestCase n = tc;
      n.schedule[i].count = static_cast<uint16_t>(s.count + tc.schedule[i + 1].count);
      n.schedule.erase(n.schedule.begin() + static_cast<long>(i) + 1);
      out.push_back(std::move(n));
    }
    if (s.kind != SegmentKind::kToEnd && s.count > 1) {
      // Try 1, then halving, then one less.
      for (uint16_t c : {uint16_t{1}, static_cast<uint16_t>(s.count / 2), static_cast<uint16_t>(s.count - 1)}) {
        if (c < 1 || c >= s.count) continue;
        TestCase n = tc;
        n.schedule[i].count = c;
        out.push_back(std::move(n));
      }
    }
  }
  // Configuration: fewer vCPUs and gfns.
  for (int v = tc.config.vcpus - 1; v >= 0; --v) {
    if (auto n = RemoveVcpu(tc, v)) out.push_back(*std::move(n));
  }
  for (int g = tc.config.gfns - 1; g >= 0; --g) {
    if (auto n = RemoveGfn(tc, g)) out.push_back(*std::move(n));
  }
  // Initial state, towards the defaults of Config. A/D stays as it is: ad=off
  // is other hardware (EPT without A/D), not a smaller test.
  const Config& c = tc.config;
  for (int g = 0; g < c.gfns; ++g) {
    if (c.init_spte[g] == 0) continue;
    TestCase n = tc;
    n.config.init_spte[g] = 0;
    RepairState(n.config);
    out.push_back(std::move(n));
    int count = 0;
    const SpteFlagName* names = SpteFlagNames(&count);
    for (int i = 0; i < count; ++i) {
      if (!(c.init_spte[g] & names[i].bit)) continue;
      TestCase m = tc;
      m.config.init_spte[g] &= ~names[i].bit;
      RepairState(m.config);
      out.push_back(std::move(m));
    }
  }
  for (int v = 0; v < c.vcpus; ++v) {
    for (int g = 0; g < c.gfns; ++g) {
      const TlbEntry& e = c.init_tlb[v][g];
      if (!e.valid) continue;
      TestCase n = tc;
      n.config.init_tlb[v][g] = TlbEntry{};
      out.push_back(std::move(n));
      if (e.w) {
        TestCase m = tc;
        m.config.init_tlb[v][g].w = false;
        out.push_back(std::move(m));
      }
      if (e.d) {
        TestCase m = tc;
        m.config.init_tlb[v][g].d = false;
        out.push_back(std::move(m));
      }
    }
  }
  for (int g = 0; g < c.gfns; ++g) {
    if ((c.init_bitmap >> g) & 1) {
      TestCase n = tc;
      n.config.init_bitmap &= static_cast<uint8_t>(~(1u << g));
      out.push_back(std::move(n));
    }
  }
  if (c.logging) {
    TestCase n = tc;
    n.config.logging = false;
    out.push_back(std::move(n));
  }
  if (c.dassist == DAssist::kAdversarial) {
    TestCase n = tc;
    n.config.dassist = DAssist::kStrict;
    out.push_back(std::move(n));
  }
  if (c.pml) {
    // Write-protect dirty logging is the default mode, PML the extra one.
    TestCase n = tc;
    n.config.pml = false;
    out.push_back(std::move(n));
  }
  return out;
}

// SegmentScheduler, plus which segment (or -1: the default policy) chose
// each step. Only used to propose "through" segments; every proposal is
// checked against the real SegmentScheduler's trace.
class TrackingSegmentScheduler : public Scheduler {
 public:
  void Begin(const TestCase& tc) override {
    segs_ = &tc.schedule;
    seg_ = 0;
    done_ = 0;
    seg_of_step_.clear();
  }
  int Pick(const SchedView& v) override {
    while (seg_ < segs_->size()) {
      const Segment& s = (*segs_)[seg_];
      const bool spinning = s.kind != SegmentKind::kSteps && v.current == s.thread && v.current_yielded;
      if (((v.enabled >> s.thread) & 1) && !spinning) {
        seg_of_step_.push_back(static_cast<int>(seg_));
        return s.thread;
      }
      Advance();
    }
    seg_of_step_.push_back(-1);
    return DefaultPick(v);
  }
  void Observe(int thread, Label label) override {
    if (seg_ >= segs_->size()) return;
    const Segment& s = (*segs_)[seg_];
    if (s.thread != thread) return;
    if (s.kind == SegmentKind::kSteps && ++done_ >= s.count) Advance();
    if (s.kind == SegmentKind::kThrough && label == s.label && ++done_ >= s.count) Advance();
  }
  const std::vector<int>& seg_of_step() const { return seg_of_step_; }

 private:
  void Advance() {
    ++seg_;
    done_ = 0;
  }
  const std::vector<Segment>* segs_ = nullptr;
  size_t seg_ = 0;
  uint32_t done_ = 0;
  std::vector<int> seg_of_step_;
};

class Minimizer {
 public:
  Minimizer(const Rules& rules, Invariant target, const MinimizeOptions& opts)
      : rules_(rules), target_(target), opts_(opts) {}

  // Whether `tc` is valid and still fails with the target as the primary violation.
  bool StillFails(const TestCase& tc) {
    if (!ValidateTestCase(tc).ok()) return false;
    ++executions_;
    const Result& r = ex_.Run(tc, rules_, seg_, opts_.exec);
    return r.outcome == Outcome::kViolation && r.violations[0].invariant == target_;
  }

  // Greedy reduction to a fixpoint: the first candidate that still fails is
  // taken, and the candidates are generated again from it.
  bool Reduce(TestCase& tc) {
    bool any = false;
    for (;;) {
      if (executions_ >= opts_.max_executions) return any;
      const Measure cur = MeasureOf(tc);
      bool changed = false;
      for (TestCase& cand : Candidates(tc)) {
        if (!(MeasureOf(cand) < cur)) continue;
        if (executions_ >= opts_.max_executions) break;
        if (StillFails(cand)) {
          tc = std::move(cand);
          changed = any = true;
          break;
        }
      }
      ++rounds_;
      if (!changed) return any;
    }
  }

  // Turns "t for N" into "t through LABEL #k" (the label of the segment's
  // last step) where the interleaving stays exactly the same: it reads like
  // the spec and survives changes in the number of steps an op takes.
  bool NameSegments(TestCase& tc) {
    bool any = false;
    for (size_t i = 0; i < tc.schedule.size(); ++i) {
      if (tc.schedule[i].kind != SegmentKind::kSteps) continue;
      TrackingSegmentScheduler track;
      ++executions_;
      const Result r = ex_.Run(tc, rules_, track, opts_.exec);
      const std::vector<int>& seg_of = track.seg_of_step();
      int last = -1;
      for (size_t k = 0; k < r.trace.size() && k < seg_of.size(); ++k) {
        if (seg_of[k] == static_cast<int>(i)) last = static_cast<int>(k);
      }
      if (last < 0) continue;
      const Label label = r.trace[last].label;
      uint16_t occurrences = 0;
      for (int k = 0; k <= last; ++k) {
        if (seg_of[k] == static_cast<int>(i) && r.trace[k].label == label) ++occurrences;
      }
      TestCase cand = tc;
      cand.schedule[i] = Segment{tc.schedule[i].thread, SegmentKind::kThrough, label, occurrences};
      ++executions_;
      const uint64_t want = ex_.Run(tc, rules_, seg_, opts_.exec).TraceHash();
      ++executions_;
      if (ex_.Run(cand, rules_, seg_, opts_.exec).TraceHash() == want) {
        tc = std::move(cand);
        any = true;
      }
    }
    return any;
  }

  uint64_t executions() const { return executions_; }
  int rounds() const { return rounds_; }

 private:
  const Rules& rules_;
  Invariant target_;
  MinimizeOptions opts_;
  Executor ex_;
  SegmentScheduler seg_;
  uint64_t executions_ = 0;
  int rounds_ = 0;
};

}  // namespace

bool SmallerTestCase(const TestCase& a, const TestCase& b) { return MeasureOf(a) < MeasureOf(b); }

std::vector<TestCase> MinimizeCandidates(const TestCase& tc) { return Candidates(tc); }

absl::StatusOr<MinimizeResult> MinimizeTestCase(const TestCase& input, const Rules& rules, Invariant target,
                                                const MinimizeOptions& opts) {
  if (absl::Status s = ValidateTestCase(input); !s.ok()) return s;
  TestCase tc = NormalizeTestCase(input);
  MinimizeResult out;
  {
    Executor ex;
    SegmentScheduler seg;
    const Result& r = ex.Run(tc, rules, seg, opts.exec);
    if (r.outcome != Outcome::kViolation || r.violations[0].invariant != target) {
      return absl::FailedPreconditionError(absl::StrCat("the test case does not violate ", InvariantName(target),
                                                        " (its verdict is ", VerdictName(r), ")"));
    }
    out.steps_before = r.steps;
  }
  Minimizer m(rules, target, opts);
  // Reduce, give the segments names, and reduce again (a named segment may
  // now become "to end"), until neither changes anything.
  for (int pass = 0; pass < 8; ++pass) {
    const bool reduced = m.Reduce(tc);
    const bool named = m.NameSegments(tc);
    if (!reduced && !named) break;
  }
  SPTEFUZZ_CHECK(m.StillFails(tc));
  Executor ex;
  SegmentScheduler seg;
  out.steps_after = ex.Run(tc, rules, seg, opts.exec).steps;
  out.tc = std::move(tc);
  out.executions = m.executions();
  out.rounds = m.rounds();
  return out;
}

}  // namespace sptefuzz
