// fuzz/codec.h: fuzz bytes <-> TestCase (design.md, decision 5).
//
// Decoding is total: every byte string, including the empty one, is a valid
// TestCase (ValidateTestCase() holds). The format is versioned by its first
// byte. Encoding is canonical: for every TestCase `tc` that IsEncodable(),
// DecodeTestCase(EncodeTestCase(tc)) == tc.
//
//   TestCase tc = DecodeTestCase(data, size);
//   std::vector<uint8_t> bytes = EncodeTestCase(tc);
//
// Layout (all versions; a missing byte reads as 0):
//   [0]       version: 1 = schedule as segments (sparse preemptions over
//             run-until-blocked), 2 = schedule as one thread choice per step;
//             any other value decodes as kCodecVersion (2).
//   [1]       config: bits 0-1 vcpus-1 (mod 3), 2-3 gfns-1, 4 ad,
//             5 logging, 6 adversarial D-assist, 7 pml (ignored when ad
//             is off; inputs written before PML was modeled left it 0
//             unless a mutation set it).
//   [2]       bits 0-2 threads-1 (mod kMaxThreads); bit 3 large (config
//             large=on: g0 holds a large leaf covering every gfn; repaired
//             to off unless logging is off and gfns >= 2; the g0 spte is
//             then repaired into a present large leaf (L; W and MW
//             together) and the other sptes to 0); bits 4-7 unused. (Before
//             large was modeled the whole byte was taken mod kMaxThreads;
//             canonical encodings never set bits 3-7, so they keep their
//             meaning.)
//   [3..10]   initial spte of g0..g3, 16-bit little endian (flag bits of
//             core/spte.h), repaired into a valid spte on decode.
//   [11]      initial dirty bitmap (bit g).
//   [12..14]  initial TLB of vcpu0..2: 2 bits per gfn (0 none, 1 r, 2 w, 3 w+d).
//   Bytes 1..14 hold these fields XORed with a default, so that zeros give
//   the S1 configuration (vcpus=1 gfns=1 ad=on logging=on, g0 = P A HW MW,
//   2 threads).
//   Then per thread: a descriptor byte (bit 0 kernel, bits 1-2 vcpu,
//   bits 3-6 (ops+8) mod 9) and one byte per op (bits 0-1 gfn mod gfns,
//   bits 2-5 the op among the thread kind's ops modulo their number, see
//   codec.cc; bits 6-7 unused). The op field had 3 bits (2-4) until the
//   kernel table gained a 9th op (zap-range): an op byte whose bit 5 is
//   clear decodes as before. zap-atomic is the 10th kernel op (index 9).
//   The rest is the schedule:
//     v1: 2-byte records, one Segment each (at most kMaxSegments):
//         a = thread (bits 0-2, mod threads) | kind (bits 3-4: 0 through,
//         1 steps, 2-3 to end) | hi (bits 5-7); b = label (mod the label
//         count; count = hi+1) for "through", count-1 low byte for "steps"
//         (count = hi*256 + b + 1).
//     v2: one byte per step: the thread (mod threads), run-length
//         compressed into kSteps segments (at most kMaxSegments).
//   After the schedule the default policy runs (core/scheduler.h).
#ifndef SPTEFUZZ_FUZZ_CODEC_H_
#define SPTEFUZZ_FUZZ_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/testcase.h"

namespace sptefuzz {

inline constexpr uint8_t kCodecVersionSegments = 1;
inline constexpr uint8_t kCodecVersionSteps = 2;
// The version of an input whose byte 0 names none, and the one
// EncodeTestCase() prefers. One thread choice per step won the time-to-bug
// benchmark (bench/results/fuzz.md: libFuzzer, v5-patch, the lost-page-dirty
// bug: median 57 executions with v2 against 6685 with v1, custom mutator
// on; 3164 against 305106 with byte mutations alone).
inline constexpr uint8_t kCodecVersion = kCodecVersionSteps;
inline constexpr size_t kCodecHeaderSize = 15;

TestCase DecodeTestCase(const uint8_t* data, size_t size);
// Encodes with kCodecVersion when the schedule fits it (only kSteps
// segments), else with version 1 (segments name labels: "0 through Z1").
std::vector<uint8_t> EncodeTestCase(const TestCase& tc);
// Encodable with version 1 or 2.
bool IsEncodable(const TestCase& tc);

// The same with an explicit version. DecodeTestCaseAs() reads byte 0 as
// `version` whatever it holds (used to benchmark one schedule encoding).
TestCase DecodeTestCaseAs(uint8_t version, const uint8_t* data, size_t size);
std::vector<uint8_t> EncodeTestCaseAs(const TestCase& tc, uint8_t version);
bool IsEncodableAs(const TestCase& tc, uint8_t version);

// Decodes into `*tc`, reusing its vectors' capacity (the fuzz loop's path).
// `version` 0 means: the version byte of the input.
void DecodeTestCaseInto(const uint8_t* data, size_t size, TestCase* tc, uint8_t version = 0);

// The operations a thread of `kind` can run, in the order of the op field.
const std::vector<OpKind>& CodecOps(ThreadKind kind);

// The version an input decodes with (byte 0 if known, else kCodecVersion).
uint8_t CodecVersionOf(const uint8_t* data, size_t size);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_CODEC_H_
