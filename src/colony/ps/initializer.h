// How new rows of a sparse table get their first values. A row is a pure function of
// (seed, id): the same whatever the order of pulls or the number of threads, which makes
// checkpoint resume bit-exact.
#pragma once

#include <cstdint>
#include <string>

#include "colony/base/status.h"

namespace colony::ps {

struct InitializerOptions {
  std::string type = "uniform";  // "zeros", "constant", "uniform" or "normal".
  float value = 0.0f;            // constant
  float low = -0.01f;            // uniform: lower bound. Default: -0.01.
  float high = 0.01f;            // uniform: upper bound. Default: 0.01.
  float mean = 0.0f;             // normal
  float std = 0.01f;             // normal: standard deviation. Default: 0.01.
  Status Validate() const;       // InvalidArgument naming the field.
};

// Writes the first values of row `id` into row[0, dim).
// REQUIRES: options.Validate().ok()
void InitializeRow(const InitializerOptions& options, uint64_t seed, uint64_t id, float* row,
                   int dim);

}  // namespace colony::ps
