#include "fuzz/interleaving_feedback.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sptefuzz {

namespace {

constexpr uint32_t kRegion = 4096;

inline uint32_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

inline void Bump(uint8_t* counters, int region, uint64_t feature) {
  uint8_t& c = counters[region * kRegion + Mix(feature) % kRegion];
  if (c != 255) ++c;
}

bool Writes(Event e) {
  switch (e) {
    case Event::kStore:
    case Event::kXchg:
    case Event::kCasOk:
    case Event::kAnd:
    case Event::kOr:
      return true;
    default:
      return false;
  }
}

bool TouchesSpte(Event e) {
  switch (e) {
    case Event::kLoad:
    case Event::kStore:
    case Event::kXchg:
    case Event::kCasOk:
    case Event::kCasFail:
    case Event::kAnd:
    case Event::kOr:
    case Event::kTlbMissLoad:
      return true;
    default:
      return false;
  }
}

// The bits that the protocol's rules look at.
uint32_t KeyBits(Spte s) {
  return static_cast<uint32_t>((s & (kSptePresent | kSpteW | kSpteA | kSpteD)) | ((s & kSpteHostW) ? 16 : 0) |
                               ((s & kSpteMmuW) ? 32 : 0) | ((s & kSpteAccTrk) ? 64 : 0));
}

}  // namespace

// The default definitions: an ordinary array that no engine reads. The
// sptefuzz_fuzzer_fb target links fuzz/feedback_counters.cc, whose strong
// definitions put the counters where libFuzzer looks for them.
__attribute__((weak)) uint8_t* FeedbackCounters() {
  static uint8_t counters[kFeedbackCounters];
  return counters;
}
__attribute__((weak)) bool FeedbackCountersSeenByEngine() { return false; }

void RecordInterleavingFeedback(const TestCase& tc, const Result& r) {
  static uint8_t* const counters = FeedbackCounters();
  RecordInterleavingFeedbackInto(counters, tc, r);
}

void RecordInterleavingFeedbackInto(uint8_t* counters, const TestCase& tc, const Result& r) {
  struct LastAccess {
    int thread = -1;
    Label label = Label::kH1;
    bool write = false;
  };
  std::array<LastAccess, kMaxGfns> last{};
  // TLB entry per vCPU and gfn: 0 invalid, 1 valid read-only, 2 valid writable.
  std::array<std::array<uint8_t, kMaxGfns>, kMaxVcpus> tlb{};
  for (int v = 0; v < kMaxVcpus; ++v) {
    for (int g = 0; g < kMaxGfns; ++g) {
      const TlbEntry& e = tc.config.init_tlb[v][g];
      tlb[v][g] = e.valid ? (e.w ? 2 : 1) : 0;
    }
  }
  int lock_holder = -1;
  for (const TraceStep& s : r.trace) {
    const uint64_t label = static_cast<uint64_t>(s.label);
    if (s.gfn < kMaxGfns && TouchesSpte(s.event)) {
      const bool w = Writes(s.event);
      LastAccess& p = last[s.gfn];
      // (1) conflicting pair from different threads, in order.
      if (p.thread >= 0 && p.thread != s.thread && (w || p.write)) {
        Bump(counters, 0, (static_cast<uint64_t>(p.label) << 16) | (label << 4) | (p.write ? 2 : 0) | (w ? 1 : 0));
      }
      p = LastAccess{s.thread, s.label, w};
      // (2) spte bit transitions per label.
      if (s.before != s.after) Bump(counters, 1, (label << 16) | (KeyBits(s.before) << 8) | KeyBits(s.after));
    }
    // TLB bookkeeping from the trace.
    if (s.event == Event::kFlushVcpu && s.vcpu < kMaxVcpus) tlb[s.vcpu] = {};
    if ((s.flags & kTraceTlbDrop) && s.vcpu < kMaxVcpus && s.gfn < kMaxGfns) tlb[s.vcpu][s.gfn] = 0;
    if ((s.flags & kTraceTlbFill) && s.vcpu < kMaxVcpus && s.gfn < kMaxGfns) tlb[s.vcpu][s.gfn] = (s.aux & 1) ? 2 : 1;
    if (s.event == Event::kLock) lock_holder = s.thread;
    if (s.event == Event::kUnlock) lock_holder = -1;
    // (3) lock and TLB state at the event.
    const uint64_t lock = lock_holder < 0 ? 0 : (lock_holder == s.thread ? 1 : 2);
    uint64_t tlbs = 0;
    if (s.gfn < kMaxGfns) {
      for (int v = 0; v < kMaxVcpus; ++v) tlbs = tlbs * 3 + tlb[v][s.gfn];
    }
    Bump(counters, 2, (label << 24) | (static_cast<uint64_t>(s.event) << 16) | (lock << 12) | tlbs);
  }
  // The verdict's invariant, so that an input reaching a new kind of
  // near-miss ending is kept too.
  if (!r.violations.empty()) Bump(counters, 2, 0xffff0000ull | static_cast<uint64_t>(r.violations[0].invariant));
}

bool InterleavingFeedbackEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("SPTEFUZZ_FEEDBACK");
    if (v == nullptr || *v == '\0' || std::strcmp(v, "off") == 0) return false;
    if (std::strcmp(v, "on") == 0) {
      if (FeedbackCountersSeenByEngine()) return true;
      std::fprintf(stderr,
                   "ERROR: sptefuzz_fuzzer: SPTEFUZZ_FEEDBACK=on needs the target with interleaving counters: run "
                   "sptefuzz_fuzzer_fb (built next to this binary by the libfuzzer presets), not this one\n");
      std::exit(2);
    }
    std::fprintf(stderr, "ERROR: sptefuzz_fuzzer: SPTEFUZZ_FEEDBACK='%s': expected on or off\n", v);
    std::exit(2);
  }();
  return on;
}

}  // namespace sptefuzz
