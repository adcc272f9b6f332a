#include "colony/federated/internal/scaffold.h"

#include <string>

namespace colony::fl::internal {
namespace {

Status SameLength(size_t a, size_t b, const std::string& what) {
  if (a == b) return OkStatus();
  return InvalidArgumentError("scaffold: " + what + " has " + std::to_string(b) +
                              " values, the parameter set " + std::to_string(a));
}

}  // namespace

StatusOr<std::vector<float>> ScaffoldCorrection(std::span<const float> global,
                                                std::span<const float> local) {
  COLONY_RETURN_IF_ERROR(SameLength(global.size(), local.size(), "the child's control variate"));
  std::vector<float> out(global.size());
  for (size_t j = 0; j < out.size(); ++j) out[j] = global[j] - local[j];
  return out;
}

StatusOr<std::vector<float>> ScaffoldChildUpdate(std::span<const float> global,
                                                 std::span<const float> x, std::span<const float> y,
                                                 int64_t steps, double step_size,
                                                 std::vector<float>* local) {
  COLONY_RETURN_IF_ERROR(SameLength(x.size(), global.size(), "the global control variate"));
  COLONY_RETURN_IF_ERROR(SameLength(x.size(), y.size(), "the trained parameter set"));
  COLONY_RETURN_IF_ERROR(SameLength(x.size(), local->size(), "the child's control variate"));
  if (steps <= 0) return InvalidArgumentError("scaffold: no local step was taken");
  if (!(step_size > 0)) return InvalidArgumentError("scaffold: the step size must be > 0");
  const double scale = 1.0 / (static_cast<double>(steps) * step_size);
  std::vector<float> delta(x.size());
  for (size_t j = 0; j < x.size(); ++j) {
    // c_i+ - c_i = -c + (x - y) / (K eta).
    delta[j] = static_cast<float>(-global[j] + (static_cast<double>(x[j]) - y[j]) * scale);
    (*local)[j] += delta[j];
  }
  return delta;
}

StatusOr<std::vector<float>> ScaffoldChildUpdateOptionOne(std::span<const float> gradient,
                                                          std::vector<float>* local) {
  COLONY_RETURN_IF_ERROR(SameLength(gradient.size(), local->size(), "the child's control variate"));
  std::vector<float> delta(gradient.size());
  for (size_t j = 0; j < delta.size(); ++j) {
    delta[j] = gradient[j] - (*local)[j];
    (*local)[j] = gradient[j];
  }
  return delta;
}

Status ScaffoldMasterUpdate(const std::vector<std::vector<float>>& deltas,
                            const std::vector<double>& weights, double total_weight,
                            std::vector<float>* global) {
  if (deltas.empty()) return InvalidArgumentError("scaffold: no control variate update");
  if (weights.size() != deltas.size()) {
    return InvalidArgumentError("scaffold: " + std::to_string(deltas.size()) +
                                " control variate updates but " + std::to_string(weights.size()) +
                                " weights");
  }
  double sum_weights = 0;
  for (double w : weights) {
    if (!(w >= 0)) return InvalidArgumentError("scaffold: a negative weight");
    sum_weights += w;
  }
  if (!(total_weight > 0) || sum_weights > total_weight * (1 + 1e-9)) {
    return InvalidArgumentError("scaffold: the answering children weigh " +
                                std::to_string(sum_weights) + ", more than all children (" +
                                std::to_string(total_weight) + ")");
  }
  for (const std::vector<float>& d : deltas) {
    COLONY_RETURN_IF_ERROR(SameLength(global->size(), d.size(), "a control variate update"));
  }
  for (size_t j = 0; j < global->size(); ++j) {
    double sum = 0;
    for (size_t i = 0; i < deltas.size(); ++i) sum += weights[i] * deltas[i][j];
    (*global)[j] += static_cast<float>(sum / total_weight);
  }
  return OkStatus();
}

StatusOr<double> ScaffoldStepSize(const std::string& optimizer, double learning_rate,
                                  double momentum) {
  if (optimizer != "sgd") {
    return FailedPreconditionError("scaffold needs optimizer sgd, not '" + optimizer +
                                   "' (the correction is defined for SGD steps)");
  }
  return learning_rate / (1.0 - momentum);
}

}  // namespace colony::fl::internal
