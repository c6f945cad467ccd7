// Invariants of the native code (frame lengths, region bounds, block indices) that validation of
// peer input is meant to guarantee. A violation means a validation is missing: stop at once with
// the place and the values rather than read or write out of bounds. The checks are a comparison
// or two each, on per-frame or per-message paths only (never per byte), so they are always
// compiled in, tests and production alike; the message is built only on failure.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dts {
[[noreturn]] inline void assertFailed(const char* file, int line, const char* cond, const std::string& what) {
  std::fprintf(stderr, "derecho-ts native invariant violated at %s:%d: %s (%s)\n", file, line, cond, what.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace dts

#define DTS_ASSERT(cond, what)                                        \
  do {                                                                \
    if (__builtin_expect(!(cond), 0)) ::dts::assertFailed(__FILE__, __LINE__, #cond, (what)); \
  } while (0)
