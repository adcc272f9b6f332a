#include "colony/exec/initializer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "colony/graph/op_registry.h"

namespace colony::exec {
namespace {

// FNV-1a: stable across runs and platforms, unlike std::hash.
uint64_t HashName(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

StatusOr<at::Tensor> MakeInitialValue(const graph::VarDesc& var, uint64_t seed) {
  const std::string where = "parameter '" + var.name() + "'";
  std::vector<int64_t> shape(var.shape().begin(), var.shape().end());
  for (int64_t d : shape) {
    if (d <= 0) {
      return InvalidArgumentError(where + " needs positive dims to be initialized, got " +
                                  graph::ShapeToString(shape));
    }
  }
  at::ScalarType dtype;
  switch (var.dtype()) {
    case graph::FLOAT32:
      dtype = at::kFloat;
      break;
    case graph::FLOAT64:
      dtype = at::kDouble;
      break;
    default:
      return InvalidArgumentError(where + " must be float32 or float64 to be initialized");
  }
  const graph::Initializer& init = var.initializer();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ HashName(var.name()));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  const std::string& type = init.type();
  if (type.empty() || type == "zeros") {
    t.zero_();
  } else if (type == "constant") {
    t.fill_(init.value());
  } else if (type == "uniform") {
    if (!(init.low() <= init.high())) {
      return InvalidArgumentError(where + " uniform initializer needs low <= high");
    }
    if (init.low() == init.high()) {
      t.fill_(init.low());
    } else {
      t.uniform_(init.low(), init.high(), gen);
    }
  } else if (type == "normal") {
    if (init.std() < 0) return InvalidArgumentError(where + " normal initializer needs std >= 0");
    t.normal_(init.mean(), init.std(), gen);
  } else if (type == "xavier_uniform") {
    const double fan_in = static_cast<double>(shape.empty() ? 1 : shape[0]);
    const double fan_out = static_cast<double>(shape.size() >= 2 ? shape[1] : fan_in);
    const double bound = std::sqrt(6.0 / (fan_in + fan_out));
    t.uniform_(-bound, bound, gen);
  } else {
    return InvalidArgumentError(where + " has unknown initializer type '" + type +
                                "'; use zeros, constant, uniform, normal or xavier_uniform");
  }
  return t;
}

}  // namespace colony::exec
