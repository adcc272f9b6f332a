// Synthetic mini-batches for the balanced MLP of the model zoo (models/mlp_model.h).
//   const std::map<std::string, at::Tensor> batch = pipeline::MakeMlpBatch(options, 64, seed);
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>

#include "colony/models/mlp_model.h"

namespace colony::pipeline {

// `rows` rows of x ~ N(0, 1) and labels from a fixed random linear teacher, seeded: the feeds
// "x" and "label" of BuildMlpModel(options).
std::map<std::string, at::Tensor> MakeMlpBatch(const models::MlpModelOptions& options, int64_t rows,
                                               uint64_t seed);

}  // namespace colony::pipeline
