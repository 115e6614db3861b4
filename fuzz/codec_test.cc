#include "fuzz/codec.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/program_gen.h"
#include "core/scenarios.h"
#include "core/scheduler.h"

namespace sptefuzz {
namespace {

std::vector<uint8_t> RandomBytes(SplitMix64& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng.Next());
  return b;
}

// A random schedule in the domain of `version` (kSteps runs of distinct
// threads for v2; any segment kind within the codec's limits for v1).
std::vector<Segment> RandomSchedule(SplitMix64& rng, int nthreads, uint8_t version) {
  std::vector<Segment> s;
  const int n = static_cast<int>(rng.Below(12));
  for (int i = 0; i < n; ++i) {
    Segment g;
    g.thread = static_cast<uint8_t>(rng.Below(nthreads));
    if (version == kCodecVersionSteps) {
      if (!s.empty() && s.back().thread == g.thread) continue;
      g.kind = SegmentKind::kSteps;
      g.count = static_cast<uint16_t>(1 + rng.Below(40));
    } else {
      switch (rng.Below(3)) {
        case 0:
          g.kind = SegmentKind::kSteps;
          g.count = static_cast<uint16_t>(1 + rng.Below(2048));
          break;
        case 1:
          g.kind = SegmentKind::kThrough;
          g.label = static_cast<Label>(rng.Below(kLabelCount));
          g.count = static_cast<uint16_t>(1 + rng.Below(8));
          break;
        default:
          g.kind = SegmentKind::kToEnd;
          break;
      }
    }
    s.push_back(g);
  }
  return s;
}

TestCase RandomCanonical(SplitMix64& rng, uint8_t version) {
  GenOptions gen;
  gen.max_vcpus = 3;
  gen.max_gfns = 4;
  gen.max_kernel_threads = 3;
  gen.max_ops = 8;
  gen.allow_adversarial_dassist = true;
  TestCase tc = RandomTestCase(rng, gen);
  tc.schedule = RandomSchedule(rng, static_cast<int>(tc.threads.size()), version);
  return tc;
}

TEST(CodecTest, RoundTripOnRandomCanonicalTestCases) {
  for (uint8_t version : {kCodecVersionSegments, kCodecVersionSteps}) {
    SplitMix64 rng(version * 1000 + 1);
    for (int i = 0; i < 5000; ++i) {
      const TestCase tc = RandomCanonical(rng, version);
      ASSERT_TRUE(IsEncodableAs(tc, version)) << "case " << i;
      const std::vector<uint8_t> b = EncodeTestCaseAs(tc, version);
      EXPECT_EQ(b[0], version);
      ASSERT_EQ(DecodeTestCase(b.data(), b.size()), tc) << "version " << int{version} << " case " << i;
    }
  }
}

// The scenarios' schedules name labels ("0 through Z1"): version 1.
TEST(CodecTest, ScenariosRoundTripAsSegments) {
  for (const TestCase& tc : {ScenarioS1(), ScenarioS2(), ScenarioS5(), ScenarioS11()}) {
    ASSERT_TRUE(IsEncodable(tc));
    EXPECT_FALSE(IsEncodableAs(tc, kCodecVersionSteps));
    const std::vector<uint8_t> b = EncodeTestCase(tc);
    EXPECT_EQ(b[0], kCodecVersionSegments);
    EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
  }
}

// A step-by-step schedule takes the default version.
TEST(CodecTest, StepSchedulesTakeTheDefaultVersion) {
  TestCase tc = ScenarioS1();
  tc.schedule = {{0, SegmentKind::kSteps, Label::kH1, 2}, {1, SegmentKind::kSteps, Label::kH1, 6}};
  ASSERT_TRUE(IsEncodable(tc));
  const std::vector<uint8_t> b = EncodeTestCase(tc);
  EXPECT_EQ(b[0], kCodecVersion);
  EXPECT_EQ(b.size(), kCodecHeaderSize + 4 + 8u);  // two threads of one op, one byte per step
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
}

TEST(CodecTest, EmptyInputIsTheS1Program) {
  const TestCase tc = DecodeTestCase(nullptr, 0);
  ASSERT_TRUE(ValidateTestCase(tc).ok());
  EXPECT_EQ(tc.config.vcpus, 1);
  EXPECT_EQ(tc.config.gfns, 1);
  EXPECT_TRUE(tc.config.ad);
  EXPECT_TRUE(tc.config.logging);
  EXPECT_EQ(tc.config.init_spte[0], kSptePresent | kSpteA | kSpteHostW | kSpteMmuW);
  ASSERT_EQ(tc.threads.size(), 2u);
  EXPECT_EQ(tc.threads[0].kind, ThreadKind::kVcpu);
  EXPECT_EQ(tc.threads[0].ops, (std::vector<Op>{{OpKind::kWrite, 0}}));
  EXPECT_EQ(tc.threads[1].kind, ThreadKind::kKernel);
  EXPECT_EQ(tc.threads[1].ops, (std::vector<Op>{{OpKind::kWriteback, 0}}));
  EXPECT_TRUE(tc.schedule.empty());
}

// Totality: every byte string decodes to a valid test case, and the result is
// canonical (it encodes and decodes to itself).
TEST(CodecTest, TotalOnRandomBytes) {
  SplitMix64 rng(99);
  for (int i = 0; i < 20000; ++i) {
    const std::vector<uint8_t> b = RandomBytes(rng, rng.Below(i < 100 ? 16 : 300));
    for (uint8_t version : {uint8_t{0}, kCodecVersionSegments, kCodecVersionSteps}) {
      TestCase tc;
      DecodeTestCaseInto(b.data(), b.size(), &tc, version);
      const absl::Status s = ValidateTestCase(tc);
      ASSERT_TRUE(s.ok()) << s << " case " << i;
      const uint8_t v = version != 0 ? version : CodecVersionOf(b.data(), b.size());
      // Whatever decodes is canonical (v2 only up to runs of 4096 steps).
      if (v == kCodecVersionSegments || b.size() < 4096) {
        ASSERT_TRUE(IsEncodableAs(tc, v)) << "case " << i;
        const std::vector<uint8_t> again = EncodeTestCaseAs(tc, v);
        ASSERT_EQ(DecodeTestCase(again.data(), again.size()), tc) << "case " << i;
      }
    }
  }
}

// PML is bit 7 of the config byte; it needs A/D, so without them it decodes off.
TEST(CodecTest, PmlIsConfigBit7AndNeedsAd) {
  TestCase tc = ScenarioS1();
  tc.config.pml = true;
  std::vector<uint8_t> b = EncodeTestCase(tc);
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
  std::vector<uint8_t> zero(kCodecHeaderSize, 0);
  zero[1] = 0x80;  // the S1 configuration (ad=on) with bit 7 set
  EXPECT_TRUE(DecodeTestCase(zero.data(), zero.size()).config.pml);
  zero[1] = 0x80 | 0x10;  // ... and A/D off (the header is XORed with ad=on)
  const TestCase no_ad = DecodeTestCase(zero.data(), zero.size());
  EXPECT_FALSE(no_ad.config.ad);
  EXPECT_FALSE(no_ad.config.pml);
  tc.config.ad = false;
  EXPECT_FALSE(IsEncodable(tc));  // pml without ad is not a valid test case
}

TEST(CodecTest, LargeIsThreadsByteBit3AndRoundTrips) {
  const TestCase tc = ScenarioS4();
  ASSERT_TRUE(IsEncodable(tc));
  std::vector<uint8_t> b = EncodeTestCase(tc);
  EXPECT_EQ(b[2] & 0x08, 0x08);
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
  std::vector<uint8_t> zero(kCodecHeaderSize, 0);
  zero[2] = 0x08;  // large, and still 2 threads (the header is XORed with 1)
  // The S1 configuration has logging on and 1 gfn: large is repaired off.
  const TestCase s1 = DecodeTestCase(zero.data(), zero.size());
  EXPECT_FALSE(s1.config.large);
  EXPECT_EQ(s1.threads.size(), 2u);
  zero[1] = 0x24;  // logging off, gfns=2
  const TestCase l = DecodeTestCase(zero.data(), zero.size());
  EXPECT_TRUE(l.config.large);
  EXPECT_EQ(l.threads.size(), 2u);
  // The default g0 (P A HW MW) becomes a large leaf; MW without W is dropped.
  EXPECT_EQ(l.config.init_spte[0], kSptePresent | kSpteA | kSpteHostW | kSpteLarge);
  EXPECT_TRUE(ValidateTestCase(l).ok());
}

TEST(CodecTest, IndirectIsThreadsByteBit4AndRoundTrips) {
  TestCase tc = ScenarioS1();
  tc.config.indirect = true;
  ASSERT_EQ(tc.threads[1].kind, ThreadKind::kVcpu);
  tc.threads[1].ops.push_back({OpKind::kRemap, 0});
  ASSERT_TRUE(ValidateTestCase(tc).ok()) << ValidateTestCase(tc);
  ASSERT_TRUE(IsEncodable(tc));
  std::vector<uint8_t> b = EncodeTestCase(tc);
  EXPECT_EQ(b[2] & 0x10, 0x10);
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
  // An op indirect=on does not model repairs the flag to off.
  std::vector<uint8_t> zero(kCodecHeaderSize, 0);
  zero[2] = 0x10;
  EXPECT_TRUE(DecodeTestCase(zero.data(), zero.size()).config.indirect);
  zero[1] = 0x10;  // ad=off (the header is XORed with 0x30): repaired off
  EXPECT_FALSE(DecodeTestCase(zero.data(), zero.size()).config.indirect);
}

TEST(CodecTest, UnknownVersionByteDecodesAsTheDefault) {
  TestCase tc = ScenarioS1();
  tc.schedule = {{1, SegmentKind::kSteps, Label::kH1, 3}};
  std::vector<uint8_t> b = EncodeTestCaseAs(tc, kCodecVersion);
  b[0] = 0xee;
  EXPECT_EQ(CodecVersionOf(b.data(), b.size()), kCodecVersion);
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()), tc);
}

TEST(CodecTest, NotEncodable) {
  TestCase tc = ScenarioS1();
  tc.threads[0].ops.push_back({OpKind::kHarvest, 1});  // the gfn of a harvest is not encoded
  EXPECT_FALSE(IsEncodable(tc));
  tc = ScenarioS1();
  tc.schedule.push_back({0, SegmentKind::kSteps, Label::kH1, 3000});  // more than 2048 steps in one record
  EXPECT_FALSE(IsEncodable(tc));
  tc = ScenarioS1();
  tc.config.vcpus = 0;  // invalid test cases are not encodable
  EXPECT_FALSE(IsEncodable(tc));
  EXPECT_FALSE(IsEncodableAs(ScenarioS1(), kCodecVersionSteps));  // v2 has no "through"
  EXPECT_FALSE(IsEncodableAs(ScenarioS1(), 9));
}

int SegmentsChanged(const std::vector<Segment>& a, const std::vector<Segment>& b) {
  int n = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i >= a.size() || i >= b.size() || !(a[i] == b[i])) ++n;
  }
  return n;
}

// Locality: flipping one schedule byte changes at most one segment (v1) or one step
// (v2), and leaves the configuration and the operations alone.
TEST(CodecTest, OneScheduleByteChangesOneSegment) {
  SplitMix64 rng(5);
  for (int i = 0; i < 3000; ++i) {
    const uint8_t version = i % 2 ? kCodecVersionSegments : kCodecVersionSteps;
    const TestCase tc = RandomCanonical(rng, version);
    std::vector<uint8_t> b = EncodeTestCaseAs(tc, version);
    const size_t sched_start = EncodeTestCaseAs(TestCase{tc.config, tc.threads, {}}, version).size();
    if (b.size() == sched_start) continue;
    const size_t at = sched_start + rng.Below(static_cast<uint32_t>(b.size() - sched_start));
    b[at] ^= static_cast<uint8_t>(1u << rng.Below(8));
    const TestCase m = DecodeTestCase(b.data(), b.size());
    EXPECT_EQ(m.config, tc.config);
    EXPECT_EQ(m.threads, tc.threads);
    if (version == kCodecVersionSegments) {
      EXPECT_LE(SegmentsChanged(m.schedule, tc.schedule), 1) << "case " << i;  // 0: an ignored bit
    } else {
      // One step moves between threads: a run splits or merges (at most 3
      // segments differ), and the total of steps is the same.
      int before = 0, after = 0;
      for (const Segment& s : tc.schedule) before += s.count;
      for (const Segment& s : m.schedule) after += s.count;
      EXPECT_EQ(before, after) << "case " << i;
    }
  }
}

// Locality: flipping one operation byte changes at most that operation
// (or, for a descriptor byte, that thread), and the schedule stays the same.
TEST(CodecTest, OneOpByteChangesOneOp) {
  SplitMix64 rng(6);
  const TestCase tc = ScenarioS2();
  std::vector<uint8_t> b = EncodeTestCase(tc);
  // S2's threads: [desc, op] x 3 after the header; flip bits of op bytes.
  for (size_t at : {kCodecHeaderSize + 1, kCodecHeaderSize + 3, kCodecHeaderSize + 5}) {
    for (int bit = 0; bit < 5; ++bit) {
      std::vector<uint8_t> m = b;
      m[at] ^= static_cast<uint8_t>(1u << bit);
      const TestCase d = DecodeTestCase(m.data(), m.size());
      EXPECT_EQ(d.config, tc.config);
      EXPECT_EQ(d.schedule, tc.schedule);
      int ops_changed = 0;
      for (size_t t = 0; t < tc.threads.size(); ++t) ops_changed += !(d.threads[t] == tc.threads[t]);
      EXPECT_LE(ops_changed, 1);
    }
  }
}

TEST(CodecTest, VcpuThreadsAreRepaired) {
  // Two threads naming vcpu0 with vcpus=1: the second becomes a kernel thread.
  std::vector<uint8_t> b(kCodecHeaderSize, 0);
  b[0] = kCodecVersion;
  b.insert(b.end(), {0x00, 0x00, 0x00, 0x00});
  const TestCase tc = DecodeTestCase(b.data(), b.size());
  ASSERT_EQ(tc.threads.size(), 2u);
  EXPECT_EQ(tc.threads[0].kind, ThreadKind::kVcpu);
  EXPECT_EQ(tc.threads[1].kind, ThreadKind::kKernel);
  EXPECT_TRUE(ValidateTestCase(tc).ok());
}

// The kernel op table outgrew the 3-bit op field with zap-range (9th entry):
// the field took bit 5. An op byte with bit 5 clear means what it always
// meant; zap-range is index 8 and round-trips; every 4-bit value decodes.
TEST(CodecTest, OpFieldHasFourBitsAndOldBytesKeepTheirMeaning) {
  const std::vector<OpKind>& kernel = CodecOps(ThreadKind::kKernel);
  ASSERT_EQ(kernel.size(), 10u);
  // The table order older inputs were written with.
  const std::vector<OpKind> old_order = {OpKind::kWriteback, OpKind::kZap,     OpKind::kWpPt,
                                         OpKind::kHarvest,   OpKind::kAge,     OpKind::kEnableLog,
                                         OpKind::kClearYoung, OpKind::kChangePte};
  EXPECT_EQ(std::vector<OpKind>(kernel.begin(), kernel.begin() + 8), old_order);
  EXPECT_EQ(kernel[8], OpKind::kZapRange);
  EXPECT_EQ(kernel[9], OpKind::kZapAtomic);
  std::vector<uint8_t> b(kCodecHeaderSize, 0);
  b[0] = kCodecVersion;
  b[2] = 1 ^ 0;  // 1 thread (the header byte is XORed with 1)
  b.push_back(0x01);  // kernel thread, 1 op
  b.push_back(0);
  for (int k = 0; k < 16; ++k) {
    b.back() = static_cast<uint8_t>(k << 2);
    const TestCase tc = DecodeTestCase(b.data(), b.size());
    ASSERT_TRUE(ValidateTestCase(tc).ok());
    ASSERT_EQ(tc.threads.size(), 1u);
    ASSERT_EQ(tc.threads[0].ops.size(), 1u);
    EXPECT_EQ(tc.threads[0].ops[0].kind, kernel[k % kernel.size()]) << "op field " << k;
  }
  // zap-range on g0 encodes with bit 5 set and decodes back.
  TestCase tc;
  tc.config.logging = true;
  tc.config.init_spte[0] = kSptePresent | kSpteA | kSpteHostW | kSpteMmuW;
  tc.threads = {{ThreadKind::kKernel, 0, {{OpKind::kZapRange, 0}}}};
  const std::vector<uint8_t> e = EncodeTestCase(tc);
  ASSERT_EQ(e.size(), kCodecHeaderSize + 2);
  EXPECT_EQ(e[kCodecHeaderSize + 1], 8 << 2);
  EXPECT_EQ(DecodeTestCase(e.data(), e.size()), tc);
  // vCPU ops (6 of them since remap was appended) still take the field
  // modulo their number.
  ASSERT_EQ(CodecOps(ThreadKind::kVcpu).size(), 6u);
  EXPECT_EQ(CodecOps(ThreadKind::kVcpu)[5], OpKind::kRemap);
  b[kCodecHeaderSize] = 0x00;  // vCPU thread, 1 op
  b.back() = static_cast<uint8_t>(7 << 2);
  EXPECT_EQ(DecodeTestCase(b.data(), b.size()).threads[0].ops[0].kind, CodecOps(ThreadKind::kVcpu)[7 % 6]);
}

// zap-atomic (the 10th kernel op) decodes from op field 9 and round-trips.
TEST(CodecTest, ZapAtomicDecodesFromOpField9) {
  std::vector<uint8_t> b(kCodecHeaderSize, 0);
  b[0] = kCodecVersion;
  b[2] = 1 ^ 0;  // 1 thread (the header byte is XORed with 1)
  b.push_back(0x01);  // kernel thread, 1 op
  b.push_back(9 << 2);
  const TestCase tc = DecodeTestCase(b.data(), b.size());
  ASSERT_TRUE(ValidateTestCase(tc).ok());
  ASSERT_EQ(tc.threads.size(), 1u);
  ASSERT_EQ(tc.threads[0].ops.size(), 1u);
  EXPECT_EQ(tc.threads[0].ops[0].kind, OpKind::kZapAtomic);
  EXPECT_EQ(tc.threads[0].ops[0].gfn, 0);
  const std::vector<uint8_t> e = EncodeTestCase(tc);
  ASSERT_EQ(e.size(), kCodecHeaderSize + 2);
  EXPECT_EQ(e[kCodecHeaderSize + 1], 9 << 2);
  EXPECT_EQ(DecodeTestCase(e.data(), e.size()), tc);
}

}  // namespace
}  // namespace sptefuzz
