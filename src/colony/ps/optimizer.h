// Server-side optimizers: the update rule a table applies to a row (or a dense parameter)
// when a gradient is pushed. Each keeps its own per-row state next to the weights.
//   COLONY_ASSIGN_OR_RETURN(auto adagrad, Optimizer::Create({.name = "adagrad"}));
//   adagrad->Update(weights, state, grad, dim);
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"

namespace colony::ps {

struct OptimizerOptions {
  std::string name = "adagrad";      // "sgd", "adagrad", "adam" or "ftrl". Default: "adagrad".
  float learning_rate = 0.01f;       // Step size (FTRL's alpha). Default: 0.01.
  float epsilon = 1e-8f;             // adagrad, adam: added to the denominator. Default: 1e-8.
  float initial_accumulator = 0.0f;  // adagrad: starting sum of squares. Default: 0.
  float beta1 = 0.9f;                // adam: first-moment decay. Default: 0.9.
  float beta2 = 0.999f;              // adam: second-moment decay. Default: 0.999.
  float l1 = 0.0f;                   // ftrl: L1 strength. Default: 0.
  float l2 = 0.0f;                   // ftrl: L2 strength. Default: 0.
  float lr_power = -0.5f;            // ftrl: learning-rate power. Default: -0.5.
  float beta = 1.0f;                 // ftrl: smoothing of the per-coordinate rate. Default: 1.
  // InvalidArgument naming the field; NotFound (listing the names) for an unknown optimizer.
  Status Validate() const;
};

// Stateless apart from its options: safe to share between threads.
class Optimizer {
 public:
  static StatusOr<std::unique_ptr<Optimizer>> Create(const OptimizerOptions& options);
  virtual ~Optimizer() = default;
  virtual std::string_view name() const = 0;
  // Floats of state kept per row of `dim` weights.
  virtual int StateWidth(int dim) const = 0;
  // Sets the state of a new row.
  virtual void InitState(float* state, int dim) const = 0;
  // One step on `weights` [dim] with `grad` [dim], updating `state` [StateWidth(dim)].
  virtual void Update(float* weights, float* state, const float* grad, int dim) const = 0;
};

// Registered optimizer names, sorted.
std::vector<std::string> OptimizerNames();

}  // namespace colony::ps
