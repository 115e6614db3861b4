// fuzz/codec.h: fuzz bytes <-> TestCase (design.md, decision 5).
//
// Decoding is total: every byte string, including the empty one, is a valid
// TestCase (ValidateTestCase() holds). The format is versioned by its first
// byte. Encoding is canonical: for every TestCase `tc` that IsEncodable(),
// DecodeTestCase(EncodeTestCase(tc)) == tc.
//
//   TestCase tc = DecodeTestCase(data, size);
//   std::vector<uint8_t> bytes = EncodeTestCase(tc);
#ifndef SPTEFUZZ_FUZZ_CODEC_H_
#define SPTEFUZZ_FUZZ_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/testcase.h"

namespace sptefuzz {

inline constexpr uint8_t kCodecVersion = 1;

TestCase DecodeTestCase(const uint8_t* data, size_t size);
std::vector<uint8_t> EncodeTestCase(const TestCase& tc);
bool IsEncodable(const TestCase& tc);

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_CODEC_H_
