// fuzz/fuzz_env.h: the fuzz target's settings, read once from the
// environment (design.md: the rules preset comes from SPTEFUZZ_RULES).
//
//   SPTEFUZZ_RULES=NAME         rules preset (default: DefaultPreset())
//   SPTEFUZZ_MUTATOR=on|off     structure-aware custom mutator (default on)
//   SPTEFUZZ_CODEC_VERSION=1|2  read byte 0 of every input as this codec
//                               version (for benchmarks of one schedule
//                               encoding; findings then replay only with it)
//   SPTEFUZZ_ONLY=INVARIANT     report only runs that violate INVARIANT
//                               (for time-to-bug benchmarks of one bug)
//   SPTEFUZZ_ADVERSARIAL=on|off also run inputs whose configuration asks for
//                               the adversarial hardware D-assist (spec §3.1,
//                               a hazard mode that breaks even linux-3.6;
//                               like `explore --adversarial`); default off:
//                               such inputs are rejected unrun
//
// A bad value prints "ERROR: sptefuzz_fuzzer: ..." and exits with status 2.
//
//   const FuzzEnv& env = GetFuzzEnv();
//   executor.Run(tc, env.rules, scheduler);
#ifndef SPTEFUZZ_FUZZ_FUZZ_ENV_H_
#define SPTEFUZZ_FUZZ_FUZZ_ENV_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/invariants.h"
#include "core/rules.h"

namespace sptefuzz {

struct FuzzEnv {
  std::string rules_name;
  Rules rules;
  bool structured_mutator = true;
  uint8_t forced_version = 0;  // 0: the input's own version byte
  std::optional<Invariant> only;  // report only this invariant
  bool adversarial = false;        // run inputs with DAssist::kAdversarial
};

const FuzzEnv& GetFuzzEnv();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_FUZZ_ENV_H_
