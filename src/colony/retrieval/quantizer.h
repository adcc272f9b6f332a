// 8-bit scalar quantization of vectors: each coordinate d maps to a byte c with
// x ~= min[d] + scale[d] * c. Queries route through the trees and score candidates on these
// codes (a quarter of the bytes of float32, so a query moves a quarter of the memory); the
// best candidates are then re-ranked on the float vectors.
//   ScalarQuantizer q = ScalarQuantizer::Fit(items.data.data(), items.n, items.dim);
//   q.Encode(x, codes);  float d = q.Distance(Metric::kL2, query, codes);
#pragma once

#include <cstdint>
#include <vector>

#include "colony/retrieval/distance.h"

namespace colony::retrieval {

class ScalarQuantizer {
 public:
  ScalarQuantizer() = default;
  // Per coordinate, [min, max] over the `n` rows of `data` split into 255 steps. Values
  // outside the range (items inserted later) are clamped to it.
  static ScalarQuantizer Fit(const float* data, int64_t n, int64_t dim);
  // From saved parameters. REQUIRES: min.size() == scale.size().
  ScalarQuantizer(std::vector<float> min, std::vector<float> scale);

  int64_t dim() const { return static_cast<int64_t>(min_.size()); }
  const std::vector<float>& min() const { return min_; }
  const std::vector<float>& scale() const { return scale_; }

  // Writes dim() bytes to `codes`.
  void Encode(const float* x, uint8_t* codes) const;
  // The metric's distance between a float query and a coded vector (decoded on the fly).
  float Distance(Metric metric, const float* query, const uint8_t* codes) const {
    return (metric == Metric::kL2 ? l2_ : neg_dot_)(query, min_.data(), scale_.data(), codes,
                                                    dim());
  }
  using CodeKernel = float (*)(const float* query, const float* min, const float* scale,
                               const uint8_t* codes, int64_t dim);

 private:
  std::vector<float> min_, scale_;
  CodeKernel l2_ = nullptr, neg_dot_ = nullptr;
};

}  // namespace colony::retrieval
