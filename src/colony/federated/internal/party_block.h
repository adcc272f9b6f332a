// One party's block of a vertical model: its standardized training and held-out rows, its
// coefficients and the preconditioned gradient step both parties take. Private to federated.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/vertical_data.h"

namespace colony::fl::internal {

class PartyBlock {
 public:
  // Rows of `train_ids` and `test_ids` from `table`, standardized with the training rows'
  // statistics; `intercept` prepends a column of ones (party A). The step preconditioner is
  // H = X^T X / m (a quarter of it for logistic) + l2 off the intercept. NotFound for an id
  // the table lacks; FailedPrecondition when H is singular (names `who`).
  static StatusOr<PartyBlock> Create(const PartyTable& table, std::span<const uint64_t> train_ids,
                                     std::span<const uint64_t> test_ids, bool intercept,
                                     const std::string& model, double l2, const std::string& who);

  size_t cols() const { return cols_; }
  size_t train_rows() const { return train_rows_; }
  const std::vector<double>& theta() const { return theta_; }
  const ColumnScaling& scaling() const { return scaling_; }
  const std::vector<double>& train_x() const { return x_train_; }
  const std::vector<double>& train_labels() const { return y_train_; }
  const std::vector<double>& test_labels() const { return y_test_; }
  std::vector<double> TrainPartial() const;  // X_train theta.
  std::vector<double> TestPartial() const;   // X_test theta.
  // X_train^T residual / m: the data part of this block's gradient.
  std::vector<double> DataGradient(std::span<const double> residual) const;
  // theta -= learning_rate * H^-1 (data_gradient + l2 theta); returns max |change|.
  double Step(std::vector<double> data_gradient, double learning_rate);

 private:
  size_t cols_ = 0, train_rows_ = 0;
  bool intercept_ = false;
  double l2_ = 0;
  std::vector<double> x_train_, x_test_, y_train_, y_test_, chol_, theta_;
  ColumnScaling scaling_;
};

}  // namespace colony::fl::internal
