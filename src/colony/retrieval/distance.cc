#include "colony/retrieval/distance.h"

namespace colony::retrieval {
namespace {

// 32 independent partial sums let the compiler vectorize the reduction without -ffast-math
// (the summation order is fixed by the source) and keep four AVX2 FMA chains in flight.
constexpr int kLanes = 32;

template <bool kL2>
inline float Reduce(const float* a, const float* b, int64_t dim) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float d = kL2 ? a[i + l] - b[i + l] : a[i + l];
      acc[l] += d * (kL2 ? d : b[i + l]);
    }
  }
  float sum = 0.0f;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  for (; i < dim; ++i) {
    const float d = kL2 ? a[i] - b[i] : a[i];
    sum += d * (kL2 ? d : b[i]);
  }
  return sum;
}

float L2Generic(const float* a, const float* b, int64_t dim) { return Reduce<true>(a, b, dim); }
float DotGeneric(const float* a, const float* b, int64_t dim) { return Reduce<false>(a, b, dim); }
float NegDotGeneric(const float* a, const float* b, int64_t dim) {
  return -Reduce<false>(a, b, dim);
}

using Kernel = float (*)(const float*, const float*, int64_t);

#if defined(__x86_64__) && defined(__GNUC__)
// The same source compiled for AVX2 + FMA and picked at run time, so the binary still runs on
// any x86-64 CPU (no -march flag).
__attribute__((target("avx2,fma"))) float L2Avx2(const float* a, const float* b, int64_t dim) {
  return Reduce<true>(a, b, dim);
}
__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, int64_t dim) {
  return Reduce<false>(a, b, dim);
}
__attribute__((target("avx2,fma"))) float NegDotAvx2(const float* a, const float* b, int64_t dim) {
  return -Reduce<false>(a, b, dim);
}
bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool HasAvx2() { return false; }
Kernel L2Avx2 = L2Generic;
Kernel DotAvx2 = DotGeneric;
Kernel NegDotAvx2 = NegDotGeneric;
#endif

struct Kernels {
  bool avx2 = HasAvx2();
  Kernel l2 = avx2 ? L2Avx2 : L2Generic;
  Kernel dot = avx2 ? DotAvx2 : DotGeneric;
  Kernel neg_dot = avx2 ? NegDotAvx2 : NegDotGeneric;
};

const Kernels& GetKernels() {
  static const Kernels kernels;
  return kernels;
}

}  // namespace

StatusOr<Metric> ParseMetric(std::string_view name) {
  if (name == "l2") return Metric::kL2;
  if (name == "ip") return Metric::kInnerProduct;
  return InvalidArgumentError("metric '" + std::string(name) +
                              "' is unknown; use 'l2' (Euclidean) or 'ip' (inner product)");
}

std::string_view MetricName(Metric metric) { return metric == Metric::kL2 ? "l2" : "ip"; }

float L2Squared(const float* a, const float* b, int64_t dim) { return GetKernels().l2(a, b, dim); }
float Dot(const float* a, const float* b, int64_t dim) { return GetKernels().dot(a, b, dim); }

DistanceFn GetDistanceFn(Metric metric) {
  return metric == Metric::kL2 ? GetKernels().l2 : GetKernels().neg_dot;
}

std::string_view DistanceKernelName() { return GetKernels().avx2 ? "avx2+fma" : "generic"; }

}  // namespace colony::retrieval
