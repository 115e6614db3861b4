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
//   SPTEFUZZ_REUSE=on|off|check the libFuzzer target puts back the coverage
//                               of the custom mutator's run of the input it
//                               returned instead of running it again
//                               (fuzz/run_reuse.h; default on); check: runs
//                               it anyway and aborts if the coverage, the
//                               steps or the verdict differ
//   SPTEFUZZ_EXEC_COUNTER=FILE  count every input run in FILE: a uint64 in
//                               host byte order, mapped shared, so the
//                               count survives the forked processes of one
//                               AFL++ instance (scripts/fuzz.sh reads it for
//                               its progress line: AFL++ rewrites its own
//                               fuzzer_stats only once a minute). FILE must be
//                               new or such a counter (exactly 8 bytes)
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

enum class Reuse : uint8_t { kOn, kOff, kCheck };

struct FuzzEnv {
  std::string rules_name;
  Rules rules;
  bool structured_mutator = true;
  uint8_t forced_version = 0;  // 0: the input's own version byte
  std::optional<Invariant> only;  // report only this invariant
  bool adversarial = false;        // run inputs with DAssist::kAdversarial
  Reuse reuse = Reuse::kOn;          // SPTEFUZZ_REUSE
  uint64_t* exec_counter = nullptr;  // SPTEFUZZ_EXEC_COUNTER, mapped shared; null: not counted
};

// Adds one to the SPTEFUZZ_EXEC_COUNTER file, if there is one.
void CountExecution(const FuzzEnv& env);

const FuzzEnv& GetFuzzEnv();

}  // namespace sptefuzz

#endif  // SPTEFUZZ_FUZZ_FUZZ_ENV_H_
