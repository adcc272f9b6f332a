// Small pieces every sparse table and its service share. Private to ps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony::ps::internal {

// The splitmix64 finalizer: a bijective 64-bit mix. Initializers, admission by chance and
// the id -> server map hash with it; changing it changes rows, admissions and shards.
inline uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

// InvalidArgument "`what` has N floats, expected ids * dim = M" unless floats == ids * dim.
inline Status CheckRowFloats(std::string_view what, size_t floats, size_t ids, size_t dim) {
  if (floats == ids * dim) return OkStatus();
  return InvalidArgumentError(std::string(what) + " has " + std::to_string(floats) +
                              " floats, expected ids * dim = " + std::to_string(ids * dim));
}

}  // namespace colony::ps::internal
