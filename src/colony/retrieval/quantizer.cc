#include "colony/retrieval/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace colony::retrieval {
namespace {

constexpr int kLanes = 16;

// x = min + scale * code, then the metric, with independent partial sums (see distance.cc).
template <bool kL2>
inline float Reduce(const float* q, const float* min, const float* scale, const uint8_t* codes,
                    int64_t dim) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= dim; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float x = min[i + l] + scale[i + l] * static_cast<float>(codes[i + l]);
      const float d = kL2 ? q[i + l] - x : q[i + l];
      acc[l] += d * (kL2 ? d : x);
    }
  }
  float sum = 0.0f;
  for (int l = 0; l < kLanes; ++l) sum += acc[l];
  for (; i < dim; ++i) {
    const float x = min[i] + scale[i] * static_cast<float>(codes[i]);
    const float d = kL2 ? q[i] - x : q[i];
    sum += d * (kL2 ? d : x);
  }
  return kL2 ? sum : -sum;
}

float L2Generic(const float* q, const float* m, const float* s, const uint8_t* c, int64_t dim) {
  return Reduce<true>(q, m, s, c, dim);
}
float NegDotGeneric(const float* q, const float* m, const float* s, const uint8_t* c, int64_t dim) {
  return Reduce<false>(q, m, s, c, dim);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) float L2Avx2(const float* q, const float* m, const float* s,
                                                 const uint8_t* c, int64_t dim) {
  return Reduce<true>(q, m, s, c, dim);
}
__attribute__((target("avx2,fma"))) float NegDotAvx2(const float* q, const float* m, const float* s,
                                                     const uint8_t* c, int64_t dim) {
  return Reduce<false>(q, m, s, c, dim);
}
#endif

ScalarQuantizer::CodeKernel Pick(bool l2) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (DistanceKernelName() == "avx2+fma") return l2 ? L2Avx2 : NegDotAvx2;
#endif
  return l2 ? L2Generic : NegDotGeneric;
}

}  // namespace

ScalarQuantizer::ScalarQuantizer(std::vector<float> min, std::vector<float> scale)
    : min_(std::move(min)), scale_(std::move(scale)), l2_(Pick(true)), neg_dot_(Pick(false)) {}

ScalarQuantizer ScalarQuantizer::Fit(const float* data, int64_t n, int64_t dim) {
  std::vector<float> lo(static_cast<size_t>(dim), std::numeric_limits<float>::max());
  std::vector<float> hi(static_cast<size_t>(dim), std::numeric_limits<float>::lowest());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t d = 0; d < dim; ++d) {
      lo[static_cast<size_t>(d)] = std::min(lo[static_cast<size_t>(d)], data[i * dim + d]);
      hi[static_cast<size_t>(d)] = std::max(hi[static_cast<size_t>(d)], data[i * dim + d]);
    }
  }
  std::vector<float> scale(static_cast<size_t>(dim), 0.0f);
  for (size_t d = 0; d < scale.size(); ++d) {
    if (n == 0) lo[d] = 0.0f, hi[d] = 0.0f;
    scale[d] = (hi[d] - lo[d]) / 255.0f;
  }
  return ScalarQuantizer(std::move(lo), std::move(scale));
}

void ScalarQuantizer::Encode(const float* x, uint8_t* codes) const {
  for (int64_t d = 0; d < dim(); ++d) {
    const float s = scale_[static_cast<size_t>(d)];
    const float steps = s > 0 ? std::nearbyint((x[d] - min_[static_cast<size_t>(d)]) / s) : 0.0f;
    // Written so that NaN gives 0: std::clamp passes NaN through, and NaN to uint8_t is UB.
    codes[d] = static_cast<uint8_t>(steps > 0.0f ? std::min(steps, 255.0f) : 0.0f);
  }
}

}  // namespace colony::retrieval
