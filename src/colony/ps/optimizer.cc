#include "colony/ps/optimizer.h"

#include <cmath>
#include <tuple>
#include <utility>

#include "colony/base/logging.h"

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
    const float lr = o_.learning_rate, eps = o_.epsilon;
    for (int i = 0; i < dim; ++i) {
      acc[i] += g[i] * g[i];
      w[i] -= lr * g[i] / (std::sqrt(acc[i]) + eps);
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

template <typename T>
OptimizerEntry Entry(std::string name, std::string doc) {
  return {std::move(name), std::move(doc),
          [](const OptimizerOptions& o) -> std::unique_ptr<Optimizer> {
            return std::make_unique<T>(o);
          }};
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
  return joined;
}

}  // namespace

OptimizerRegistry& OptimizerRegistry::Global() {
  static OptimizerRegistry* const registry = [] {
    auto* r = new OptimizerRegistry;
    // Fails only on a duplicate name among the standard ones: a bug, not input.
    COLONY_CHECK(RegisterStandardOptimizers(*r).ok());
    return r;
  }();
  return *registry;
}

Status OptimizerRegistry::Register(OptimizerEntry entry) {
  if (entry.name.empty() || !entry.create) {
    return InvalidArgumentError("optimizer registry: an entry needs a name and a create function");
  }
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = entry.name;
  if (!entries_.emplace(name, std::move(entry)).second) {
    return AlreadyExistsError("optimizer '" + name + "' is already registered");
  }
  return OkStatus();
}

StatusOr<const OptimizerEntry*> OptimizerRegistry::Find(std::string_view name) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(name);
    if (it != entries_.end()) return &it->second;
  }
  return NotFoundError("optimizer '" + std::string(name) +
                       "' is not known; known: " + JoinNames(Names()));
}

std::vector<std::string> OptimizerRegistry::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

Status RegisterStandardOptimizers(OptimizerRegistry& registry) {
  COLONY_RETURN_IF_ERROR(registry.Register(Entry<Sgd>("sgd", "w -= lr g")));
  COLONY_RETURN_IF_ERROR(registry.Register(
      Entry<Adagrad>("adagrad", "per-coordinate lr / sqrt(sum of squared gradients)")));
  COLONY_RETURN_IF_ERROR(registry.Register(
      Entry<Adam>("adam", "bias-corrected moments; a sparse row counts its own steps")));
  COLONY_RETURN_IF_ERROR(
      registry.Register(Entry<Ftrl>("ftrl", "FTRL-Proximal (McMahan et al. 2013), l1/l2")));
  return OkStatus();
}

std::vector<std::string> OptimizerNames() { return OptimizerRegistry::Global().Names(); }

Status OptimizerOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(OptimizerRegistry::Global().Find(name).status());
  if (!(learning_rate > 0)) {
    return InvalidArgumentError("optimizer '" + name + "': learning_rate must be > 0, got " +
                                std::to_string(learning_rate));
  }
  // Only the fields the chosen rule reads are checked: sgd with ftrl's lr_power left at 0
  // (a client that never set it) is fine. Other registered rules get the learning rate only.
  const bool adagrad = name == "adagrad", adam = name == "adam", ftrl = name == "ftrl";
  const std::tuple<const char*, float, bool> non_negative[] = {
      {"epsilon", epsilon, adagrad || adam},
      {"initial_accumulator", initial_accumulator, adagrad},
      {"l1", l1, ftrl},
      {"l2", l2, ftrl},
      {"beta", beta, ftrl}};
  for (const auto& [field, value, used] : non_negative) {
    if (used && !(value >= 0)) {
      return InvalidArgumentError("optimizer '" + name + "': " + field + " must be >= 0, got " +
                                  std::to_string(value));
    }
  }
  if (adam && !(beta1 >= 0 && beta1 < 1)) {
    return InvalidArgumentError("optimizer '" + name + "': beta1 must be in [0, 1), got " +
                                std::to_string(beta1));
  }
  if (adam && !(beta2 >= 0 && beta2 < 1)) {
    return InvalidArgumentError("optimizer '" + name + "': beta2 must be in [0, 1), got " +
                                std::to_string(beta2));
  }
  if (ftrl && !(lr_power < 0)) {
    return InvalidArgumentError("optimizer '" + name + "': lr_power must be < 0, got " +
                                std::to_string(lr_power));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Optimizer>> Optimizer::Create(const OptimizerOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(const OptimizerEntry* entry,
                          OptimizerRegistry::Global().Find(options.name));
  return entry->create(options);
}

}  // namespace colony::ps
