#include "colony/ps/optimizer.h"

#include <cmath>
#include <functional>
#include <map>

namespace colony::ps {
namespace {

class Sgd final : public Optimizer {
 public:
  explicit Sgd(const OptimizerOptions& o) : lr_(o.learning_rate) {}
  std::string_view name() const override { return "sgd"; }
  int StateWidth(int) const override { return 0; }
  void InitState(float*, int) const override {}
  void Update(float* w, float*, const float* g, int dim) const override {
    for (int i = 0; i < dim; ++i) w[i] -= lr_ * g[i];
  }

 private:
  float lr_;
};

// state: sum of squared gradients.
class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(const OptimizerOptions& o) : o_(o) {}
  std::string_view name() const override { return "adagrad"; }
  int StateWidth(int dim) const override { return dim; }
  void InitState(float* s, int dim) const override {
    for (int i = 0; i < dim; ++i) s[i] = o_.initial_accumulator;
  }
  void Update(float* w, float* acc, const float* g, int dim) const override {
    for (int i = 0; i < dim; ++i) {
      acc[i] += g[i] * g[i];
      w[i] -= o_.learning_rate * g[i] / (std::sqrt(acc[i]) + o_.epsilon);
    }
  }

 private:
  OptimizerOptions o_;
};

// state: first moment [dim], second moment [dim], this row's step count [1]. A sparse row
// counts only the steps it was updated in, so its bias correction matches its own history.
class Adam final : public Optimizer {
 public:
  explicit Adam(const OptimizerOptions& o) : o_(o) {}
  std::string_view name() const override { return "adam"; }
  int StateWidth(int dim) const override { return 2 * dim + 1; }
  void InitState(float* s, int dim) const override {
    for (int i = 0; i < 2 * dim + 1; ++i) s[i] = 0;
  }
  void Update(float* w, float* s, const float* g, int dim) const override {
    float* m = s;
    float* v = s + dim;
    const float t = (s[2 * dim] += 1.0f);
    const double correction1 = 1.0 - std::pow(double{o_.beta1}, t);
    const double correction2 = 1.0 - std::pow(double{o_.beta2}, t);
    const float step = static_cast<float>(o_.learning_rate * std::sqrt(correction2) / correction1);
    const float eps = static_cast<float>(o_.epsilon * std::sqrt(correction2));
    for (int i = 0; i < dim; ++i) {
      m[i] = o_.beta1 * m[i] + (1 - o_.beta1) * g[i];
      v[i] = o_.beta2 * v[i] + (1 - o_.beta2) * g[i] * g[i];
      w[i] -= step * m[i] / (std::sqrt(v[i]) + eps);
    }
  }

 private:
  OptimizerOptions o_;
};

// FTRL-Proximal (McMahan et al., 2013). state: z [dim], n [dim]; weights follow from them.
class Ftrl final : public Optimizer {
 public:
  explicit Ftrl(const OptimizerOptions& o) : o_(o) {}
  std::string_view name() const override { return "ftrl"; }
  int StateWidth(int dim) const override { return 2 * dim; }
  void InitState(float* s, int dim) const override {
    for (int i = 0; i < 2 * dim; ++i) s[i] = 0;
  }
  void Update(float* w, float* s, const float* g, int dim) const override {
    float* z = s;
    float* n = s + dim;
    const double power = -o_.lr_power;
    for (int i = 0; i < dim; ++i) {
      const double n_new = double{n[i]} + double{g[i]} * g[i];
      const double sigma =
          (std::pow(n_new, power) - std::pow(double{n[i]}, power)) / o_.learning_rate;
      z[i] += static_cast<float>(g[i] - sigma * w[i]);
      n[i] = static_cast<float>(n_new);
      if (std::abs(z[i]) <= o_.l1) {
        w[i] = 0;
      } else {
        const double sign = z[i] > 0 ? 1.0 : -1.0;
        const double denom = (o_.beta + std::pow(n_new, power)) / o_.learning_rate + o_.l2;
        w[i] = static_cast<float>(-(z[i] - sign * o_.l1) / denom);
      }
    }
  }

 private:
  OptimizerOptions o_;
};

using Factory = std::function<std::unique_ptr<Optimizer>(const OptimizerOptions&)>;

const std::map<std::string, Factory>& Registry() {
  static const auto* registry = new std::map<std::string, Factory>{
      {"sgd", [](const OptimizerOptions& o) { return std::make_unique<Sgd>(o); }},
      {"adagrad", [](const OptimizerOptions& o) { return std::make_unique<Adagrad>(o); }},
      {"adam", [](const OptimizerOptions& o) { return std::make_unique<Adam>(o); }},
      {"ftrl", [](const OptimizerOptions& o) { return std::make_unique<Ftrl>(o); }},
  };
  return *registry;
}

}  // namespace

std::vector<std::string> OptimizerNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

Status OptimizerOptions::Validate() const {
  if (!Registry().count(name)) {
    std::string known;
    for (const std::string& n : OptimizerNames()) known += (known.empty() ? "" : ", ") + n;
    return NotFoundError("optimizer '" + name + "' is not known; known: " + known);
  }
  if (!(learning_rate > 0)) {
    return InvalidArgumentError("learning_rate must be > 0, got " + std::to_string(learning_rate));
  }
  if (epsilon < 0 || initial_accumulator < 0 || l1 < 0 || l2 < 0 || beta < 0) {
    return InvalidArgumentError("epsilon, initial_accumulator, l1, l2 and beta must be >= 0");
  }
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
    return InvalidArgumentError("beta1 and beta2 must be in [0, 1)");
  }
  if (!(lr_power < 0)) {
    return InvalidArgumentError("lr_power must be < 0, got " + std::to_string(lr_power));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const OptimizerOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  return Registry().at(options.name)(options);
}

}  // namespace colony::ps
