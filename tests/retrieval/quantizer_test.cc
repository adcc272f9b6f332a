#include "colony/retrieval/quantizer.h"

#include <cmath>
#include <vector>

#include "retrieval/test_data.h"
#include "testing/status_matchers.h"

namespace colony::retrieval {
namespace {

TEST(ScalarQuantizerTest, CodedDistancesAreCloseToExactOnes) {
  const VectorSet set = testing::ClusteredVectors(500, 24, 5, 31);
  const ScalarQuantizer q = ScalarQuantizer::Fit(set.data.data(), set.n, set.dim);
  std::vector<uint8_t> codes(static_cast<size_t>(set.dim));
  for (int64_t i = 1; i < set.n; ++i) {
    q.Encode(set.row(i), codes.data());
    // Each coordinate is off by at most half a step, so the distance is off by little.
    double bound_l2 = 0, bound_ip = 0;
    const float exact_l2 = L2Squared(set.row(0), set.row(i), set.dim);
    for (int64_t d = 0; d < set.dim; ++d) {
      const double half = q.scale()[static_cast<size_t>(d)] / 2 + 1e-4;
      bound_l2 += 2 * std::fabs(set.row(0)[d] - set.row(i)[d]) * half + half * half;
      bound_ip += std::fabs(set.row(0)[d]) * half;
    }
    EXPECT_NEAR(q.Distance(Metric::kL2, set.row(0), codes.data()), exact_l2, bound_l2);
    EXPECT_NEAR(q.Distance(Metric::kInnerProduct, set.row(0), codes.data()),
                -Dot(set.row(0), set.row(i), set.dim), bound_ip);
  }
}

TEST(ScalarQuantizerTest, ConstantCoordinatesAndOutOfRangeValues) {
  const std::vector<float> data = {1, 5, 1, 7, 1, 9};  // Coordinate 0 is constant.
  const ScalarQuantizer q = ScalarQuantizer::Fit(data.data(), 3, 2);
  uint8_t codes[2];
  const float inside[] = {1, 9};
  q.Encode(inside, codes);
  EXPECT_EQ(codes[0], 0);
  EXPECT_EQ(codes[1], 255);
  EXPECT_FLOAT_EQ(q.Distance(Metric::kL2, inside, codes), 0.0f);
  const float outside[] = {-3, 100};  // Clamped to the fitted range.
  q.Encode(outside, codes);
  EXPECT_EQ(codes[0], 0);
  EXPECT_EQ(codes[1], 255);
}

}  // namespace
}  // namespace colony::retrieval
