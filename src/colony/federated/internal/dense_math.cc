#include "colony/federated/internal/dense_math.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "colony/base/metrics.h"

namespace colony::fl::internal {

std::vector<double> Gram(std::span<const double> x, size_t cols, double scale,
                         std::span<const double> ridge) {
  std::vector<double> g(cols * cols, 0.0);
  const size_t rows = cols == 0 ? 0 : x.size() / cols;
  for (size_t i = 0; i < rows; ++i) {
    const double* row = x.data() + i * cols;
    for (size_t a = 0; a < cols; ++a)
      for (size_t b = 0; b <= a; ++b) g[a * cols + b] += row[a] * row[b];
  }
  for (size_t a = 0; a < cols; ++a) {
    for (size_t b = 0; b <= a; ++b) {
      g[a * cols + b] *= scale;
      g[b * cols + a] = g[a * cols + b];
    }
    if (a < ridge.size()) g[a * cols + a] += ridge[a];
  }
  return g;
}

std::vector<double> TransposeTimes(std::span<const double> x, size_t cols,
                                   std::span<const double> v, double scale) {
  std::vector<double> out(cols, 0.0);
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = 0; j < cols; ++j) out[j] += x[i * cols + j] * v[i];
  for (double& o : out) o *= scale;
  return out;
}

std::vector<double> Times(std::span<const double> x, size_t cols, std::span<const double> theta) {
  const size_t rows = cols == 0 ? 0 : x.size() / cols;
  std::vector<double> out(rows, 0.0);
  for (size_t i = 0; i < rows; ++i) {
    double s = 0.0;
    for (size_t j = 0; j < cols; ++j) s += x[i * cols + j] * theta[j];
    out[i] = s;
  }
  return out;
}

StatusOr<std::vector<double>> Cholesky(std::vector<double> a, size_t n) {
  double max_diag = 0.0;
  for (size_t i = 0; i < n; ++i) max_diag = std::max(max_diag, a[i * n + i]);
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    // Relative threshold: a pivot lost to rounding means the columns are (nearly) dependent.
    if (!(d > 1e-12 * max_diag)) {
      return FailedPreconditionError("the Gram matrix is not positive definite at column " +
                                     std::to_string(j) +
                                     " (linearly dependent or constant columns); drop the "
                                     "column or set a positive l2");
    }
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
    for (size_t i = 0; i < j; ++i) a[i * n + j] = 0.0;
  }
  return a;
}

std::vector<double> CholeskySolve(const std::vector<double>& l, size_t n, std::vector<double> b) {
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < i; ++k) b[i] -= l[i * n + k] * b[k];
    b[i] /= l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    for (size_t k = i + 1; k < n; ++k) b[i] -= l[k * n + i] * b[k];
    b[i] /= l[i * n + i];
  }
  return b;
}

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

FitQuality Evaluate(std::span<const double> z, std::span<const double> y) {
  double squared = 0.0;
  std::vector<float> scores, labels;
  for (size_t i = 0; i < z.size(); ++i) {
    squared += (z[i] - y[i]) * (z[i] - y[i]);
    scores.push_back(static_cast<float>(z[i]));
    labels.push_back(static_cast<float>(y[i]));
  }
  FitQuality q;
  q.rmse = std::sqrt(squared / static_cast<double>(std::max<size_t>(1, z.size())));
  q.auc = Auc(scores, labels);
  return q;
}

namespace {
std::vector<double> RidgeVector(size_t cols, double l2) {
  std::vector<double> ridge(cols, l2);
  if (cols > 0) ridge[0] = 0.0;
  return ridge;
}
}  // namespace

StatusOr<std::vector<double>> FitLinearCentral(std::span<const double> x, size_t cols,
                                               std::span<const double> y, double l2) {
  const double scale = 1.0 / static_cast<double>(y.size());
  COLONY_ASSIGN_OR_RETURN(std::vector<double> l,
                          Cholesky(Gram(x, cols, scale, RidgeVector(cols, l2)), cols));
  return CholeskySolve(l, cols, TransposeTimes(x, cols, y, scale));
}

StatusOr<std::vector<double>> FitLogisticCentral(std::span<const double> x, size_t cols,
                                                 std::span<const double> y, double l2) {
  const size_t rows = y.size();
  const double scale = 1.0 / static_cast<double>(rows);
  const std::vector<double> ridge = RidgeVector(cols, l2);
  std::vector<double> theta(cols, 0.0);
  for (int iter = 0; iter < 100; ++iter) {
    const std::vector<double> z = Times(x, cols, theta);
    std::vector<double> r(rows), w(rows), weighted(x.begin(), x.end());
    for (size_t i = 0; i < rows; ++i) {
      const double p = Sigmoid(z[i]);
      r[i] = p - y[i];
      w[i] = std::sqrt(std::max(p * (1 - p), 1e-12));
      for (size_t j = 0; j < cols; ++j) weighted[i * cols + j] *= w[i];
    }
    std::vector<double> g = TransposeTimes(x, cols, r, scale);
    for (size_t j = 0; j < cols; ++j) g[j] += ridge[j] * theta[j];
    COLONY_ASSIGN_OR_RETURN(std::vector<double> l,
                            Cholesky(Gram(weighted, cols, scale, ridge), cols));
    const std::vector<double> step = CholeskySolve(l, cols, g);
    double largest = 0.0;
    for (size_t j = 0; j < cols; ++j) {
      theta[j] -= step[j];
      largest = std::max(largest, std::abs(step[j]));
    }
    if (largest < 1e-12) break;
  }
  return theta;
}

}  // namespace colony::fl::internal
