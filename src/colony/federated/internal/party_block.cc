#include "colony/federated/internal/party_block.h"

#include <cmath>

#include "colony/federated/internal/dense_math.h"

namespace colony::fl::internal {
namespace {

// Standardized rows, with a leading 1 when `intercept`.
std::vector<double> Design(const PartyTable& rows, const ColumnScaling& scaling, bool intercept) {
  std::vector<double> scaled = rows.features;
  ApplyScaling(scaling, scaled);
  if (!intercept) return scaled;
  const size_t cols = rows.cols();
  std::vector<double> x;
  x.reserve(rows.rows() * (cols + 1));
  for (size_t i = 0; i < rows.rows(); ++i) {
    x.push_back(1.0);
    x.insert(x.end(), scaled.begin() + i * cols, scaled.begin() + (i + 1) * cols);
  }
  return x;
}

}  // namespace

StatusOr<PartyBlock> PartyBlock::Create(const PartyTable& table,
                                        std::span<const uint64_t> train_ids,
                                        std::span<const uint64_t> test_ids, bool intercept,
                                        const std::string& model, double l2,
                                        const std::string& who) {
  if (train_ids.empty()) return FailedPreconditionError(who + ": no training ids");
  COLONY_ASSIGN_OR_RETURN(PartyTable train, SelectRows(table, train_ids));
  COLONY_ASSIGN_OR_RETURN(PartyTable test, SelectRows(table, test_ids));
  PartyBlock block;
  block.intercept_ = intercept;
  block.l2_ = l2;
  block.cols_ = table.cols() + (intercept ? 1 : 0);
  block.train_rows_ = train.rows();
  block.scaling_ = FitScaling(train.features, train.cols());
  block.x_train_ = Design(train, block.scaling_, intercept);
  block.x_test_ = Design(test, block.scaling_, intercept);
  block.y_train_ = train.labels;
  block.y_test_ = test.labels;
  std::vector<double> ridge(block.cols_, l2);
  if (intercept) ridge[0] = 0.0;
  const double curvature = model == "logistic" ? 0.25 : 1.0;
  const std::vector<double> h =
      Gram(block.x_train_, block.cols_, curvature / static_cast<double>(block.train_rows_), ridge);
  StatusOr<std::vector<double>> chol = Cholesky(h, block.cols_);
  if (!chol.ok()) return chol.status().WithContext(who + "'s features");
  block.chol_ = std::move(chol).value();
  block.theta_.assign(block.cols_, 0.0);
  return block;
}

std::vector<double> PartyBlock::TrainPartial() const { return Times(x_train_, cols_, theta_); }
std::vector<double> PartyBlock::TestPartial() const { return Times(x_test_, cols_, theta_); }

std::vector<double> PartyBlock::DataGradient(std::span<const double> residual) const {
  return TransposeTimes(x_train_, cols_, residual, 1.0 / static_cast<double>(train_rows_));
}

double PartyBlock::Step(std::vector<double> gradient, double learning_rate) {
  for (size_t j = intercept_ ? 1 : 0; j < cols_; ++j) gradient[j] += l2_ * theta_[j];
  const std::vector<double> step = CholeskySolve(chol_, cols_, std::move(gradient));
  double largest = 0.0;
  for (size_t j = 0; j < cols_; ++j) {
    theta_[j] -= learning_rate * step[j];
    largest = std::max(largest, std::abs(learning_rate * step[j]));
  }
  return largest;
}

}  // namespace colony::fl::internal
