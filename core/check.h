// core/check.h: SPTEFUZZ_CHECK, an always-on assertion for the project's own
// broken assumptions (Debian's abseil 20220623 has no absl/log).
//
//   SPTEFUZZ_CHECK(step < limit);  // the executor bounds steps
//
// A failed check prints file, line and the condition and aborts. It is for
// bugs in sptefuzz itself; findings in the modeled protocol are values
// (Violation) and bad input is an absl::Status.
#ifndef SPTEFUZZ_CORE_CHECK_H_
#define SPTEFUZZ_CORE_CHECK_H_

#include <cstdio>
#include <cstdlib>

namespace sptefuzz::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "FATAL: sptefuzz internal check failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
}  // namespace sptefuzz::internal

#define SPTEFUZZ_CHECK(cond)                                                \
  do {                                                                      \
    if (__builtin_expect(!(cond), 0))                                       \
      ::sptefuzz::internal::CheckFailed(__FILE__, __LINE__, #cond);         \
  } while (0)

#endif  // SPTEFUZZ_CORE_CHECK_H_
