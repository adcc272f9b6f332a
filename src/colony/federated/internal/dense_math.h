// Small dense linear algebra for the vertical parties (a few dozen columns): Gram matrices,
// Cholesky solves, and the centralized baselines the federated models are checked against.
// Matrices are row-major std::vector<double>. Private to federated.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl::internal {

// scale * X^T X for X of `cols` columns, plus `ridge[j]` on the diagonal.
std::vector<double> Gram(std::span<const double> x, size_t cols, double scale,
                         std::span<const double> ridge);
// X^T v * scale.
std::vector<double> TransposeTimes(std::span<const double> x, size_t cols,
                                   std::span<const double> v, double scale);
// X theta (+ offset when non-empty).
std::vector<double> Times(std::span<const double> x, size_t cols, std::span<const double> theta);

// The Cholesky factor L (A = L L^T) of a symmetric positive definite n x n matrix.
// FailedPrecondition naming the pivot when A is not positive definite (collinear columns).
StatusOr<std::vector<double>> Cholesky(std::vector<double> a, size_t n);
// Solves L L^T x = b.
std::vector<double> CholeskySolve(const std::vector<double>& l, size_t n, std::vector<double> b);

double Sigmoid(double z);

// The RMSE of estimates z against y, and the AUC of z as scores (labels > 0.5 positive).
struct FitQuality {
  double rmse = 0, auc = 0;
};
FitQuality Evaluate(std::span<const double> z, std::span<const double> y);

// argmin 1/(2m) |X theta - y|^2 + l2/2 |theta_{1..}|^2 by the normal equations (column 0 is
// the intercept and is not penalized): least squares when l2 = 0.
StatusOr<std::vector<double>> FitLinearCentral(std::span<const double> x, size_t cols,
                                               std::span<const double> y, double l2);
// argmin mean log loss + l2/2 |theta_{1..}|^2 by Newton's method (column 0 the intercept).
StatusOr<std::vector<double>> FitLogisticCentral(std::span<const double> x, size_t cols,
                                                 std::span<const double> y, double l2);

}  // namespace colony::fl::internal
