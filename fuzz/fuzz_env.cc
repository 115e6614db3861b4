#include "fuzz/fuzz_env.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_join.h"
#include "fuzz/codec.h"

namespace sptefuzz {
namespace {

[[noreturn]] void EnvError(const std::string& msg) {
  std::fprintf(stderr, "ERROR: sptefuzz_fuzzer: %s\n", msg.c_str());
  std::exit(2);
}

FuzzEnv ReadEnv() {
  FuzzEnv env;
  const char* rules = std::getenv("SPTEFUZZ_RULES");
  env.rules_name = rules != nullptr && *rules != '\0' ? rules : DefaultPreset().name;
  const RulesPreset* p = FindPreset(env.rules_name);
  if (p == nullptr) {
    std::string names;
    for (const RulesPreset& q : AllPresets()) names += (names.empty() ? "" : ", ") + std::string(q.name);
    EnvError("unknown rules preset '" + env.rules_name + "' in SPTEFUZZ_RULES: expected one of " + names);
  }
  env.rules = p->rules;
  if (const char* m = std::getenv("SPTEFUZZ_MUTATOR"); m != nullptr && *m != '\0') {
    const std::string v = m;
    if (v == "on") {
      env.structured_mutator = true;
    } else if (v == "off") {
      env.structured_mutator = false;
    } else {
      EnvError("SPTEFUZZ_MUTATOR='" + v + "': expected on or off");
    }
  }
  if (const char* a = std::getenv("SPTEFUZZ_ADVERSARIAL"); a != nullptr && *a != '\0') {
    const std::string v = a;
    if (v != "on" && v != "off") EnvError("SPTEFUZZ_ADVERSARIAL='" + v + "': expected on or off");
    env.adversarial = v == "on";
  }
  if (const char* c = std::getenv("SPTEFUZZ_CODEC_VERSION"); c != nullptr && *c != '\0') {
    const std::string v = c;
    if (v == "1") {
      env.forced_version = kCodecVersionSegments;
    } else if (v == "2") {
      env.forced_version = kCodecVersionSteps;
    } else {
      EnvError("SPTEFUZZ_CODEC_VERSION='" + v + "': expected 1 (segments) or 2 (one thread per step)");
    }
  }
  if (const char* o = std::getenv("SPTEFUZZ_ONLY"); o != nullptr && *o != '\0') {
    env.only = ParseInvariant(o);
    if (!env.only.has_value()) {
      std::string names;
      for (int i = 0; i < kInvariantCount; ++i) {
        names += (names.empty() ? "" : ", ") + std::string(InvariantName(static_cast<Invariant>(i)));
      }
      EnvError("SPTEFUZZ_ONLY='" + std::string(o) + "': expected one of " + names);
    }
  }
  return env;
}

}  // namespace

const FuzzEnv& GetFuzzEnv() {
  static const FuzzEnv* env = new FuzzEnv(ReadEnv());
  return *env;
}

}  // namespace sptefuzz
