// SCAFFOLD drift correction (Karimireddy et al. 2020, "option II" control variates) for
// horizontal FL: the arithmetic of the child's and the master's control variate updates, on
// flat vectors aligned with the exchanged parameter set. Private to federated.
//   child:  every local gradient g of the exchanged parameters becomes g + (c - c_i); after
//           its K local steps with step size eta: c_i+ = c_i - c + (x - y) / (K eta), and it
//           returns delta_c = c_i+ - c_i with its parameters y.
//   master: c += (participants / children) * mean(delta_c).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl::internal {

// The per-gradient correction c - c_i. InvalidArgument for mismatched lengths.
StatusOr<std::vector<float>> ScaffoldCorrection(std::span<const float> global,
                                                std::span<const float> local);

// The child's update after `steps` local steps of step size `step_size` from the received
// parameters `x` to its own `y`: sets *local (c_i) to c_i - c + (x - y) / (steps step_size) and
// returns delta_c, the change of c_i. InvalidArgument for mismatched lengths, steps <= 0 or a
// step size <= 0.
StatusOr<std::vector<float>> ScaffoldChildUpdate(std::span<const float> global,
                                                 std::span<const float> x, std::span<const float> y,
                                                 int64_t steps, double step_size,
                                                 std::vector<float>* local);

// Option I: c_i+ is `gradient`, the child's mean gradient at the received parameters. Sets
// *local to it and returns delta_c = gradient - c_i. InvalidArgument for mismatched lengths.
StatusOr<std::vector<float>> ScaffoldChildUpdateOptionOne(std::span<const float> gradient,
                                                          std::vector<float>* local);

// The master's update: c += sum_i weights[i] deltas[i] / total_weight, where total_weight is
// the weight of every child, answering or not. With weight 1 per child (total: the number of
// children) this is the paper's c += (participants / children) * mean(deltas); with sample
// counts, c stays the sample-weighted mean of the c_i, as FedAvg weights the parameters.
// InvalidArgument for no delta, mismatched lengths, or weights that are negative or exceed
// total_weight.
Status ScaffoldMasterUpdate(const std::vector<std::vector<float>>& deltas,
                            const std::vector<double>& weights, double total_weight,
                            std::vector<float>* global);

// The step size of `optimizer` ("sgd", heavy-ball momentum `momentum`) per unit of gradient
// in steady state, learning_rate / (1 - momentum): what (x - y) / K is divided by to estimate
// the mean local gradient. FailedPrecondition for "adam" (its per-coordinate scaling has no
// such step size, so the correction is not defined for it).
StatusOr<double> ScaffoldStepSize(const std::string& optimizer, double learning_rate,
                                  double momentum);

}  // namespace colony::fl::internal
