// Distances between float vectors, the inner loops of every query. Lower is better for both
// metrics: L2 is the squared Euclidean distance, inner product is its negation.
//   float d = colony::retrieval::Distance(Metric::kL2, a, b, dim);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony::retrieval {

enum class Metric { kL2 = 0, kInnerProduct = 1 };

// "l2" or "ip"; InvalidArgument for anything else.
StatusOr<Metric> ParseMetric(std::string_view name);
std::string_view MetricName(Metric metric);

// Sum of (a[i] - b[i])^2 over `dim` coordinates.
float L2Squared(const float* a, const float* b, int64_t dim);
// Sum of a[i] * b[i].
float Dot(const float* a, const float* b, int64_t dim);

// The metric's distance (L2Squared, or -Dot): resolve it once, outside hot loops.
using DistanceFn = float (*)(const float* a, const float* b, int64_t dim);
DistanceFn GetDistanceFn(Metric metric);

inline float Distance(Metric metric, const float* a, const float* b, int64_t dim) {
  return GetDistanceFn(metric)(a, b, dim);
}

// The instruction set the kernels run with on this CPU: "avx2+fma" or "generic".
std::string_view DistanceKernelName();

}  // namespace colony::retrieval
