#include "colony/ps/initializer.h"

#include <algorithm>
#include <cmath>

#include "colony/ps/internal/row_math.h"

namespace colony::ps {
namespace {

// splitmix64: a counter-based generator, so value j of row id needs no generator state.
uint64_t Mix(uint64_t x) { return internal::Mix64(x + internal::kGoldenGamma); }

// Uniform in (0, 1), never 0 so that log() below is finite.
double Unit(uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53; }

}  // namespace

Status InitializerOptions::Validate() const {
  if (type == "zeros" || type == "constant") return OkStatus();
  if (type == "uniform") {
    if (!(low <= high)) {
      return InvalidArgumentError("initializer low must be <= high, got " + std::to_string(low) +
                                  " > " + std::to_string(high));
    }
    return OkStatus();
  }
  if (type == "normal") {
    if (!(std >= 0)) return InvalidArgumentError("initializer std must be >= 0");
    return OkStatus();
  }
  return InvalidArgumentError("initializer type '" + type +
                              "' is not known; known: zeros, constant, uniform, normal");
}

void InitializeRow(const InitializerOptions& o, uint64_t seed, uint64_t id, float* row, int dim) {
  // Value j comes from Mix(base + j) alone, so rows never depend on what was drawn before.
  const uint64_t base = Mix(seed ^ Mix(id));
  if (o.type == "uniform") {
    const float span = o.high - o.low;  // Float, as rows were always made.
    for (int j = 0; j < dim; ++j) {
      row[j] = static_cast<float>(o.low + span * Unit(Mix(base + static_cast<uint64_t>(j))));
    }
  } else if (o.type == "normal") {
    for (int j = 0; j < dim; ++j) {
      const uint64_t bits = Mix(base + static_cast<uint64_t>(j));
      const double u1 = Unit(bits);
      const double u2 = Unit(Mix(bits));
      row[j] = static_cast<float>(o.mean +
                                  o.std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2));
    }
  } else {
    std::fill(row, row + dim, o.type == "constant" ? o.value : 0.0f);
  }
}

}  // namespace colony::ps
