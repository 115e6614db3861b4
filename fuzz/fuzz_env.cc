#include "fuzz/fuzz_env.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_join.h"
#include "fuzz/codec.h"

namespace sptefuzz {
namespace {

[[noreturn]] void EnvError(const std::string& msg) {
  std::fprintf(stderr, "ERROR: sptefuzz_fuzzer: %s\n", msg.c_str());
  std::exit(2);
}

// Maps the 8-byte counter file `path` (created if missing) shared.
uint64_t* MapExecCounter(const std::string& path) {
  auto fail = [&](const std::string& what) {
    EnvError("SPTEFUZZ_EXEC_COUNTER='" + path + "': " + what);
  };
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail(std::string("cannot open or create it: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) fail(std::string("cannot stat it: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("not a regular file: expected a new file or an 8-byte counter");
  // Never clobber a file that is not such a counter (it could be a corpus input).
  if (st.st_size != 0 && st.st_size != 8) {
    fail("it holds " + std::to_string(st.st_size) + " bytes: expected a new file or an 8-byte counter");
  }
  if (st.st_size == 0 && ftruncate(fd, 8) != 0) fail(std::string("cannot size it: ") + std::strerror(errno));
  void* p = mmap(nullptr, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail(std::string("cannot map it: ") + std::strerror(errno));
  close(fd);
  return static_cast<uint64_t*>(p);
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
  if (const char* r = std::getenv("SPTEFUZZ_REUSE"); r != nullptr && *r != '\0') {
    const std::string v = r;
    if (v == "on") {
      env.reuse = Reuse::kOn;
    } else if (v == "off") {
      env.reuse = Reuse::kOff;
    } else if (v == "check") {
      env.reuse = Reuse::kCheck;
    } else {
      EnvError("SPTEFUZZ_REUSE='" + v + "': expected on, off or check");
    }
  }
  if (const char* c = std::getenv("SPTEFUZZ_EXEC_COUNTER"); c != nullptr && *c != '\0') {
    env.exec_counter = MapExecCounter(c);
  }
  return env;
}

}  // namespace

void CountExecution(const FuzzEnv& env) {
  if (env.exec_counter != nullptr) std::atomic_ref<uint64_t>(*env.exec_counter).fetch_add(1, std::memory_order_relaxed);
}

const FuzzEnv& GetFuzzEnv() {
  static const FuzzEnv* env = new FuzzEnv(ReadEnv());
  return *env;
}

}  // namespace sptefuzz
