// First values of dense parameters, drawn from their VarDesc's initializer.
//   COLONY_ASSIGN_OR_RETURN(at::Tensor w, exec::MakeInitialValue(var, seed));
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "colony/base/status.h"
#include "colony/graph/program.h"

namespace colony::exec {

// A new CPU tensor of var.shape (dtype float32, or float64 when the var says so) filled by
// var.initializer: "zeros" (also when empty), "constant" (value), "uniform" (low, high), "normal"
// (mean, std), "xavier_uniform" (bound sqrt(6 / (fan_in + fan_out)) with fan_in = shape[0] and
// fan_out = shape[1], or shape[0] for a vector). The draw is seeded by `seed` mixed with a hash
// of var.name, so different parameters get different values and equal seeds equal values.
// InvalidArgument naming the var for a non-positive or -1 dim, a non-float dtype or an unknown
// initializer type.
StatusOr<at::Tensor> MakeInitialValue(const graph::VarDesc& var, uint64_t seed);

}  // namespace colony::exec
