#include "fuzz/codec.h"

#include <algorithm>
#include <array>

#include "core/check.h"

namespace sptefuzz {
namespace {

// The ops each thread kind can run, in codec order: the preferred order
// below, then any op the model gained since, in enum order (so a new OpKind
// is fuzzed at once and old inputs keep their meaning). Index 0 is what a
// zero byte means: with the default header an all-zero input is S1's
// program (a vCPU writing g0, a kernel thread writing g0's page back).
struct OpTables {
  std::vector<OpKind> vcpu, kernel;
  OpTables() {
    vcpu = {OpKind::kWrite, OpKind::kRead, OpKind::kFault};
    kernel = {OpKind::kWriteback, OpKind::kZap, OpKind::kWpPt, OpKind::kHarvest, OpKind::kAge, OpKind::kEnableLog};
    for (int i = 0; i < static_cast<int>(OpKind::kCount); ++i) {
      const OpKind k = static_cast<OpKind>(i);
      std::vector<OpKind>& t = IsVcpuOp(k) ? vcpu : kernel;
      if (std::find(t.begin(), t.end(), k) == t.end()) t.push_back(k);
    }
    // The op field of an op byte has 4 bits (bits 2-5).
    SPTEFUZZ_CHECK(vcpu.size() <= 16 && kernel.size() <= 16);
  }
};

const OpTables& Ops() {
  static const OpTables* t = new OpTables();
  return *t;
}

// Header offsets.
constexpr size_t kOffConfig = 1;
constexpr size_t kOffThreads = 2;
constexpr size_t kOffSpte = 3;
constexpr size_t kOffBitmap = 11;
constexpr size_t kOffTlb = 12;
static_assert(kOffTlb + kMaxVcpus == kCodecHeaderSize);
static_assert(kMaxGfns == 4 && kMaxVcpus == 3 && kMaxThreads <= 8 && kMaxOpsPerThread == 8,
              "the byte layout of fuzz/codec.h assumes these limits");

constexpr uint16_t kDefaultSpte0 = static_cast<uint16_t>(kSptePresent | kSpteA | kSpteHostW | kSpteMmuW);
// XOR mask of the header: zero bytes decode to the S1 configuration.
constexpr std::array<uint8_t, kCodecHeaderSize> kHeaderDefault = {
    0,                                 // version (not XORed)
    0x30,                              // ad=on, logging=on
    1,                                 // 2 threads
    kDefaultSpte0 & 0xff, kDefaultSpte0 >> 8, 0, 0, 0, 0, 0, 0,
    0,                                 // bitmap
    0, 0, 0};                          // TLBs

// Steps of a kSteps record (v1) and occurrences of a kThrough record.
constexpr int kMaxStepsCount = 8 * 256;
constexpr int kMaxThroughCount = 8;
// Steps of one v2 segment (a run of equal bytes) that the encoder accepts.
constexpr int kMaxRunCount = 4096;

constexpr Spte kSpteCodecBits = 0xffff;

bool KnownVersion(uint8_t v) { return v == kCodecVersionSegments || v == kCodecVersionSteps; }

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t At(size_t i) const { return i < size_ ? data_[i] : 0; }
  uint8_t Header(size_t i) const { return At(i) ^ kHeaderDefault[i]; }
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : (++pos_, 0); }
  bool AtEnd() const { return pos_ >= size_; }
  void Seek(size_t p) { pos_ = p; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The nearest valid initial spte (ValidateTestCase's rules); the identity on
// valid ones, so canonical encodings round-trip.
Spte RepairSpte(Spte s, bool ad) {
  s &= kSpteAllFlags & ~(kSpteFrozen | kSpteLarge);
  if ((s & kSptePresent) == 0) return 0;
  if (!ad) s &= ~(kSpteA | kSpteD);
  if ((s & kSpteAccTrk) != 0 && (ad || (s & kSpteW) != 0)) s &= ~kSpteAccTrk;
  if ((s & kSpteW) != 0) s |= kSpteMmuW;
  if ((s & kSpteMmuW) != 0) s |= kSpteHostW;
  return s;
}

// The initial spte of slot g as decoded: RepairSpte(), and with config
// large=on the large leaf in g0 (present, L, W and MW together, see
// ValidateTestCase) and nothing in the other slots.
Spte RepairInitSpte(int g, Spte raw, const Config& c) {
  if (!c.large) return RepairSpte(raw, c.ad);
  if (g != 0) return 0;
  Spte s = RepairSpte(raw | kSptePresent, c.ad);
  if ((s & kSpteW) == 0) s &= ~kSpteMmuW;
  return s | kSpteLarge;
}

// A TLB entry the spte allows (ValidateTestCase's rules), from its 2-bit code.
TlbEntry RepairTlb(uint8_t code, Spte s, bool ad) {
  TlbEntry e;
  if (code == 0 || !IsHardwarePresent(s) || (ad && (s & kSpteA) == 0)) return e;
  e.valid = true;
  e.w = code >= 2 && IsWritablePte(s);
  e.d = code == 3 && e.w && (!ad || (s & kSpteD) != 0);
  return e;
}

uint8_t TlbCode(const TlbEntry& e) {
  if (!e.valid) return 0;
  if (!e.w) return 1;
  return e.d ? 3 : 2;
}

int IndexOf(const std::vector<OpKind>& ops, OpKind k) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i] == k) return static_cast<int>(i);
  }
  return -1;
}

void DecodeSegments(Reader& r, int nthreads, std::vector<Segment>* out) {
  while (!r.AtEnd() && out->size() < kMaxSegments) {
    const uint8_t a = r.Next();
    const uint8_t b = r.Next();
    Segment s;
    s.thread = static_cast<uint8_t>((a & 7) % nthreads);
    const int kind = (a >> 3) & 3;
    const int hi = a >> 5;
    if (kind == 0) {
      s.kind = SegmentKind::kThrough;
      s.label = static_cast<Label>(b % kLabelCount);
      s.count = static_cast<uint16_t>(hi + 1);
    } else if (kind == 1) {
      s.kind = SegmentKind::kSteps;
      s.count = static_cast<uint16_t>(hi * 256 + b + 1);
    } else {
      s.kind = SegmentKind::kToEnd;
    }
    out->push_back(s);
  }
}

void DecodeSteps(Reader& r, int nthreads, std::vector<Segment>* out) {
  while (!r.AtEnd()) {
    const uint8_t t = static_cast<uint8_t>(r.Next() % nthreads);
    if (!out->empty() && out->back().thread == t && out->back().count < 0xffff) {
      ++out->back().count;
      continue;
    }
    if (out->size() >= kMaxSegments) break;
    out->push_back({t, SegmentKind::kSteps, Label::kH1, 1});
  }
}

}  // namespace

const std::vector<OpKind>& CodecOps(ThreadKind kind) {
  return kind == ThreadKind::kVcpu ? Ops().vcpu : Ops().kernel;
}

uint8_t CodecVersionOf(const uint8_t* data, size_t size) {
  return size > 0 && KnownVersion(data[0]) ? data[0] : kCodecVersion;
}

void DecodeTestCaseInto(const uint8_t* data, size_t size, TestCase* tc, uint8_t version) {
  if (!KnownVersion(version)) version = CodecVersionOf(data, size);
  Reader r(data, size);
  Config& c = tc->config;
  c = Config{};
  const uint8_t cfg = r.Header(kOffConfig);
  c.vcpus = 1 + (cfg & 3) % kMaxVcpus;
  c.gfns = 1 + ((cfg >> 2) & 3);
  c.ad = (cfg >> 4) & 1;
  c.logging = (cfg >> 5) & 1;
  c.dassist = (cfg >> 6) & 1 ? DAssist::kAdversarial : DAssist::kStrict;
  c.pml = c.ad && ((cfg >> 7) & 1);  // PML needs A/D: repaired to off without
  // large=on needs logging off and at least 2 gfns: repaired to off without.
  c.large = ((r.Header(kOffThreads) >> 3) & 1) && !c.logging && c.gfns >= 2;
  // indirect=on (bit 4) needs ad=on, pml=off and large=off: repaired to off
  // without, and below when an op it does not model is decoded.
  c.indirect = ((r.Header(kOffThreads) >> 4) & 1) && c.ad && !c.pml && !c.large;
  for (int g = 0; g < c.gfns; ++g) {
    const Spte raw = r.Header(kOffSpte + 2 * g) | (Spte{r.Header(kOffSpte + 2 * g + 1)} << 8);
    c.init_spte[g] = RepairInitSpte(g, raw, c);
  }
  c.init_bitmap = static_cast<uint8_t>(r.Header(kOffBitmap) & ((1u << c.gfns) - 1));
  c.init_bitmap |= LoggedBitmapBits(c);  // repaired as ValidateTestCase asks
  for (int v = 0; v < c.vcpus; ++v) {
    const uint8_t tlb = r.Header(kOffTlb + v);
    for (int g = 0; g < c.gfns; ++g) {
      c.init_tlb[v][g] = RepairTlb((tlb >> (2 * g)) & 3, c.init_spte[InitLeafOf(c, g)], c.ad);
    }
  }

  const int nthreads = 1 + (r.Header(kOffThreads) & 7) % kMaxThreads;
  tc->threads.resize(nthreads);
  r.Seek(kCodecHeaderSize);
  bool vcpu_taken[kMaxVcpus] = {};
  for (ThreadSpec& th : tc->threads) {
    const uint8_t d = r.Next();
    th.kind = (d & 1) ? ThreadKind::kKernel : ThreadKind::kVcpu;
    th.vcpu = 0;
    if (th.kind == ThreadKind::kVcpu) {
      // One thread per vCPU: a vCPU that is out of range or taken becomes the
      // lowest free one; with none free the thread becomes a kernel thread.
      int v = (d >> 1) & 3;
      if (v >= c.vcpus || vcpu_taken[v]) {
        v = -1;
        for (int i = 0; i < c.vcpus && v < 0; ++i) {
          if (!vcpu_taken[i]) v = i;
        }
      }
      if (v < 0) {
        th.kind = ThreadKind::kKernel;
      } else {
        vcpu_taken[v] = true;
        th.vcpu = static_cast<uint8_t>(v);
      }
    }
    const int nops = (((d >> 3) & 15) + 1) % (kMaxOpsPerThread + 1);
    th.ops.resize(nops);
    for (Op& op : th.ops) {
      const uint8_t o = r.Next();
      // Bits 2-5: 3 bits until the kernel table outgrew 8 ops (zap-range);
      // bit 5 was ignored before, so inputs with it clear keep their meaning.
      const int k = (o >> 2) & 15;
      const std::vector<OpKind>& table = th.kind == ThreadKind::kVcpu ? Ops().vcpu : Ops().kernel;
      op.kind = table[k % table.size()];
      op.gfn = OpUsesGfn(op.kind) ? static_cast<uint8_t>((o & 3) % c.gfns) : 0;
      if (!IndirectAllowsOp(op.kind)) c.indirect = false;
    }
  }

  tc->schedule.clear();
  if (version == kCodecVersionSteps) {
    DecodeSteps(r, nthreads, &tc->schedule);
  } else {
    DecodeSegments(r, nthreads, &tc->schedule);
  }
}

TestCase DecodeTestCaseAs(uint8_t version, const uint8_t* data, size_t size) {
  TestCase tc;
  DecodeTestCaseInto(data, size, &tc, KnownVersion(version) ? version : kCodecVersion);
  return tc;
}

TestCase DecodeTestCase(const uint8_t* data, size_t size) {
  TestCase tc;
  DecodeTestCaseInto(data, size, &tc);
  return tc;
}

bool IsEncodableAs(const TestCase& tc, uint8_t version) {
  if (!KnownVersion(version) || !ValidateTestCase(tc).ok()) return false;
  const Config& c = tc.config;
  if (c.dassist != DAssist::kStrict && c.dassist != DAssist::kAdversarial) return false;
  if ((c.init_bitmap >> c.gfns) != 0) return false;
  for (int g = 0; g < kMaxGfns; ++g) {
    const Spte s = c.init_spte[g];
    if ((s & ~kSpteCodecBits) != 0 || (g < c.gfns && RepairInitSpte(g, s, c) != s)) return false;
    for (int v = 0; v < kMaxVcpus; ++v) {
      const TlbEntry& e = c.init_tlb[v][g];
      // (valid, !w, d) has no code; no path of the model creates it.
      if (e.valid && !(RepairTlb(TlbCode(e), c.init_spte[InitLeafOf(c, g)], c.ad) == e)) return false;
    }
  }
  for (const ThreadSpec& th : tc.threads) {
    if (th.kind != ThreadKind::kVcpu && th.vcpu != 0) return false;
    for (const Op& op : th.ops) {
      if (!OpUsesGfn(op.kind) && op.gfn != 0) return false;
      if (IndexOf(th.kind == ThreadKind::kVcpu ? Ops().vcpu : Ops().kernel, op.kind) < 0) return false;
    }
  }
  for (size_t i = 0; i < tc.schedule.size(); ++i) {
    const Segment& s = tc.schedule[i];
    if (version == kCodecVersionSteps) {
      if (s.kind != SegmentKind::kSteps || s.label != Label::kH1 || s.count > kMaxRunCount) return false;
      if (i > 0 && tc.schedule[i - 1].thread == s.thread) return false;
      continue;
    }
    switch (s.kind) {
      case SegmentKind::kSteps:
        if (s.label != Label::kH1 || s.count > kMaxStepsCount) return false;
        break;
      case SegmentKind::kThrough:
        if (s.count > kMaxThroughCount) return false;
        break;
      case SegmentKind::kToEnd:
        if (s.label != Label::kH1 || s.count != 1) return false;
        break;
    }
  }
  return true;
}

bool IsEncodable(const TestCase& tc) {
  return IsEncodableAs(tc, kCodecVersionSteps) || IsEncodableAs(tc, kCodecVersionSegments);
}

std::vector<uint8_t> EncodeTestCaseAs(const TestCase& tc, uint8_t version) {
  SPTEFUZZ_CHECK(IsEncodableAs(tc, version));
  const Config& c = tc.config;
  std::vector<uint8_t> out(kCodecHeaderSize, 0);
  out[0] = version;
  out[kOffConfig] = static_cast<uint8_t>((c.vcpus - 1) | ((c.gfns - 1) << 2) | (c.ad ? 1 << 4 : 0) |
                                         (c.logging ? 1 << 5 : 0) |
                                         (c.dassist == DAssist::kAdversarial ? 1 << 6 : 0) |
                                         (c.pml ? 1 << 7 : 0));
  out[kOffThreads] = static_cast<uint8_t>((tc.threads.size() - 1) | (c.large ? 1 << 3 : 0) | (c.indirect ? 1 << 4 : 0));
  for (int g = 0; g < kMaxGfns; ++g) {
    out[kOffSpte + 2 * g] = static_cast<uint8_t>(c.init_spte[g] & 0xff);
    out[kOffSpte + 2 * g + 1] = static_cast<uint8_t>((c.init_spte[g] >> 8) & 0xff);
  }
  out[kOffBitmap] = c.init_bitmap;
  for (int v = 0; v < kMaxVcpus; ++v) {
    uint8_t b = 0;
    for (int g = 0; g < kMaxGfns; ++g) b |= static_cast<uint8_t>(TlbCode(c.init_tlb[v][g]) << (2 * g));
    out[kOffTlb + v] = b;
  }
  for (size_t i = 1; i < kCodecHeaderSize; ++i) out[i] ^= kHeaderDefault[i];

  for (const ThreadSpec& th : tc.threads) {
    const int nops = static_cast<int>(th.ops.size());
    const bool vcpu = th.kind == ThreadKind::kVcpu;
    out.push_back(static_cast<uint8_t>((vcpu ? 0 : 1) | (vcpu ? th.vcpu << 1 : 0) |
                                       (((nops + kMaxOpsPerThread) % (kMaxOpsPerThread + 1)) << 3)));
    for (const Op& op : th.ops) {
      const int k = IndexOf(vcpu ? Ops().vcpu : Ops().kernel, op.kind);
      SPTEFUZZ_CHECK(k >= 0);
      out.push_back(static_cast<uint8_t>((k << 2) | (OpUsesGfn(op.kind) ? op.gfn : 0)));
    }
  }

  for (const Segment& s : tc.schedule) {
    if (version == kCodecVersionSteps) {
      out.insert(out.end(), s.count, s.thread);
      continue;
    }
    switch (s.kind) {
      case SegmentKind::kThrough:
        out.push_back(static_cast<uint8_t>(s.thread | (0 << 3) | ((s.count - 1) << 5)));
        out.push_back(static_cast<uint8_t>(s.label));
        break;
      case SegmentKind::kSteps:
        out.push_back(static_cast<uint8_t>(s.thread | (1 << 3) | (((s.count - 1) >> 8) << 5)));
        out.push_back(static_cast<uint8_t>((s.count - 1) & 0xff));
        break;
      case SegmentKind::kToEnd:
        out.push_back(static_cast<uint8_t>(s.thread | (2 << 3)));
        out.push_back(0);
        break;
    }
  }
  return out;
}

std::vector<uint8_t> EncodeTestCase(const TestCase& tc) {
  return EncodeTestCaseAs(tc, IsEncodableAs(tc, kCodecVersion) ? kCodecVersion : kCodecVersionSegments);
}

}  // namespace sptefuzz
