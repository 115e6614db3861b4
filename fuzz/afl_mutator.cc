// fuzz/afl_mutator.cc: the structure-aware mutator (fuzz/mutator.h) as an
// AFL++ custom mutator library (AFL_CUSTOM_MUTATOR_LIBRARY). AFL++ keeps its
// own havoc mutations and adds these: decode, one structured change,
// re-encode (MutateOrGenerate: run-aware schedule mutations and fresh random
// programs among them; those run on this library's own model, under
// SPTEFUZZ_RULES like the target). Built uninstrumented in the normal
// build; scripts/fuzz.sh --engine afl loads it unless SPTEFUZZ_MUTATOR=off.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/scheduler.h"
#include "fuzz/codec.h"
#include "fuzz/fuzz_env.h"
#include "fuzz/mutator.h"

namespace {

struct AflMutator {
  sptefuzz::SplitMix64 rng;
  std::vector<uint8_t> out;
  uint8_t forced_version = 0;
  bool adversarial = false;
  sptefuzz::Executor ex;
};

}  // namespace

extern "C" void* afl_custom_init(void* afl, unsigned int seed) {
  auto* m = new AflMutator{sptefuzz::SplitMix64(seed), {}, 0, false, {}};
  (void)sptefuzz::GetFuzzEnv();  // a bad SPTEFUZZ_RULES is reported here, before any input
  const char* a = std::getenv("SPTEFUZZ_ADVERSARIAL");
  m->adversarial = a != nullptr && std::string(a) == "on";
  if (const char* v = std::getenv("SPTEFUZZ_CODEC_VERSION"); v != nullptr && (v[0] == '1' || v[0] == '2')) {
    m->forced_version = static_cast<uint8_t>(v[0] - '0');
  }
  return m;
}

extern "C" size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf, uint8_t* add_buf,
                                  size_t add_buf_size, size_t max_size) {
  auto* m = static_cast<AflMutator*>(data);
  using namespace sptefuzz;
  const uint8_t version = m->forced_version != 0 ? m->forced_version : CodecVersionOf(buf, buf_size);
  TestCase tc = DecodeTestCaseAs(version, buf, buf_size);
  if (add_buf != nullptr && add_buf_size > 0 && m->rng.Chance(100)) {
    tc = CrossOverTestCases(tc, DecodeTestCaseAs(version, add_buf, add_buf_size), version);
  }
  // Leaves the adversarial D-assist off unless SPTEFUZZ_ADVERSARIAL=on, as the target.
  MutateOrGenerate(&tc, version, GetFuzzEnv().rules, m->adversarial, m->ex, m->rng);
  m->out = EncodeTestCaseAs(tc, version);
  if (m->out.size() > max_size) m->out.resize(max_size);
  *out_buf = m->out.data();
  return m->out.size();
}

extern "C" void afl_custom_deinit(void* data) { delete static_cast<AflMutator*>(data); }
