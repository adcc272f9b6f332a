// Server-side optimizers: the update rule a table applies to a row (or a dense parameter)
// when a gradient is pushed. Each keeps its own per-row state next to the weights. Rules are
// found by name in OptimizerRegistry::Global(), which holds "sgd", "adagrad", "adam", "ftrl".
//   COLONY_ASSIGN_OR_RETURN(auto adagrad, Optimizer::Create({.name = "adagrad"}));
//   std::vector<float> state(adagrad->StateWidth(dim));
//   adagrad->InitState(state.data(), dim);
//   adagrad->Update(weights, state.data(), grad, dim);
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"

namespace colony::ps {

struct OptimizerOptions {
  std::string name = "adagrad";  // A name in OptimizerRegistry::Global(). Default: "adagrad".
  float learning_rate = 0.01f;   // Step size (FTRL's alpha). Required, > 0. Default: 0.01.
  // adagrad, adam: added to the denominator sqrt(accumulator) for stability; adagrad
  // implementations differ here (TensorFlow 1e-7, PyTorch 1e-10), 1e-8 matches Adam's paper.
  // Default: 1e-8.
  float epsilon = 1e-8f;
  float initial_accumulator = 0.0f;  // adagrad: starting sum of squares, >= 0. Default: 0.
  float beta1 = 0.9f;                // adam: first-moment decay, in [0, 1). Default: 0.9.
  float beta2 = 0.999f;              // adam: second-moment decay, in [0, 1). Default: 0.999.
  float l1 = 0.0f;                   // ftrl: L1 strength, >= 0. Default: 0.
  float l2 = 0.0f;                   // ftrl: L2 strength, >= 0. Default: 0.
  float lr_power = -0.5f;            // ftrl: learning-rate power, < 0. Default: -0.5.
  float beta = 1.0f;                 // ftrl: smoothing of the per-coordinate rate. Default: 1.
  // NotFound (listing the known names) for an unknown optimizer; InvalidArgument naming the
  // field for a bad value. Only the fields the chosen rule reads are checked (sgd: the
  // learning rate alone).
  Status Validate() const;
};

// One update rule. Stateless apart from its options: safe to share between threads.
class Optimizer {
 public:
  // Validates `options` and builds the rule named options.name from the global registry.
  static StatusOr<std::unique_ptr<Optimizer>> Create(const OptimizerOptions& options);
  virtual ~Optimizer() = default;
  // The registry name; stored in table files, so it must change when the state layout does.
  virtual std::string_view name() const = 0;
  // Floats of state kept per row of `dim` weights (adagrad: dim, adam: 2 dim + 1, ftrl: 2 dim).
  virtual int StateWidth(int dim) const = 0;
  // Sets the state of a new row. `state` holds StateWidth(dim) floats.
  virtual void InitState(float* state, int dim) const = 0;
  // One step on `weights` [dim] with `grad` [dim], updating `state` [StateWidth(dim)].
  // The caller owns all three buffers and serializes calls on the same row.
  virtual void Update(float* weights, float* state, const float* grad, int dim) const = 0;
};

struct OptimizerEntry {
  std::string name;  // Registry key, lowercase: "adagrad".
  std::string doc;   // One line for help listings.
  // Builds the rule; receives options that passed OptimizerOptions::Validate().
  std::function<std::unique_ptr<Optimizer>(const OptimizerOptions&)> create;
};

// Name -> optimizer rule. Thread-safe.
class OptimizerRegistry {
 public:
  // The process-wide registry, never destroyed, holding the standard optimizers.
  static OptimizerRegistry& Global();
  // AlreadyExists when the name is taken; InvalidArgument when name or create is empty.
  Status Register(OptimizerEntry entry);
  // NotFound listing the registered names. The entry lives as long as the registry.
  StatusOr<const OptimizerEntry*> Find(std::string_view name) const;
  std::vector<std::string> Names() const;  // Sorted.

 private:
  mutable std::mutex mu_;
  std::map<std::string, OptimizerEntry, std::less<>> entries_;
};

// Registers "sgd", "adagrad", "adam" and "ftrl" (Global() already holds them).
Status RegisterStandardOptimizers(OptimizerRegistry& registry);

// OptimizerRegistry::Global().Names().
std::vector<std::string> OptimizerNames();

}  // namespace colony::ps
