// Helpers shared by the libFuzzer targets in this folder (scripts/fuzz.sh builds and runs them).
// A target returns 0 for every input; a property that must hold for any input is checked with
// FUZZ_CHECK, which aborts (a crash libFuzzer reports, with the input saved) when it fails.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// FUZZ_CHECK that also prints a Status (or anything with ToString()) when it fails.
#define FUZZ_CHECK_STATUS(cond, status)                                          \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "status: %s\n", (status).ToString().c_str());         \
      FUZZ_CHECK(cond);                                                          \
    }                                                                            \
  } while (0)

namespace colony::fuzz {

// A folder of this process under $TMPDIR (or /tmp), made on first use; files written there
// are overwritten by the next input.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/colony_fuzz_XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    return new std::string(pattern);
  }();
  return *dir;
}

inline void WriteBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  FUZZ_CHECK(out.good());
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace colony::fuzz
