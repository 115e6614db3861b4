#include "core/trace.h"

namespace sptefuzz {
namespace {
constexpr const char* kEventNames[] = {"-",     "LD",    "ST",       "XCHG",    "CAS ok", "CAS fail",
                                       "AND",   "OR",    "TLB hit",  "walk LD", "BITSET", "BMXCHG",
                                       "LOCK",  "UNLOCK", "FLUSH",   "NOTIFIER", "PAGE-DIRTY", "SLOT",
                                       "TLBS-DIRTY", "PML-FLUSH"};
static_assert(sizeof(kEventNames) / sizeof(kEventNames[0]) == static_cast<int>(Event::kCount));

void Mix(uint64_t& h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
}
}  // namespace

const char* EventName(Event e) { return kEventNames[static_cast<int>(e)]; }

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kViolation:
      return "violation";
    case Outcome::kStepLimit:
      return "step-limit";
    case Outcome::kAborted:
      return "aborted";
  }
  return "?";
}

uint64_t Result::TraceHash() const {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const TraceStep& s : trace) {
    Mix(h, s.step);
    Mix(h, (uint64_t{s.thread} << 8) | static_cast<uint64_t>(s.label) | (uint64_t(s.event) << 16) |
               (uint64_t{s.gfn} << 24) | (uint64_t{s.vcpu} << 32) | (uint64_t{s.flags} << 40));
    Mix(h, s.aux);
    Mix(h, s.before);
    Mix(h, s.after);
  }
  Mix(h, static_cast<uint64_t>(outcome));
  for (const Violation& v : violations) {
    Mix(h, static_cast<uint64_t>(v.invariant));
    Mix(h, v.step);
    for (char c : v.explanation) Mix(h, static_cast<uint8_t>(c));
  }
  return h;
}

}  // namespace sptefuzz
