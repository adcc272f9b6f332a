// A stack of equal fully connected layers with a binary logistic loss: stages of balanced cost
// for pipeline tests, the benchmark and `colony pipeline`, and its synthetic data.
//   COLONY_ASSIGN_OR_RETURN(pipeline::MlpModel m, pipeline::BuildMlpModel({.layers = 4}));
//   runner options: .cut_vars = {m.layer_outputs[1]}
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/program.h"

namespace colony::pipeline {

struct MlpModelOptions {
  int input_dim = 32;  // Width of the "x" feed. Default: 32.
  int width = 64;      // Width of every hidden layer. Default: 64.
  int layers = 4;      // Hidden layers (relu), then one logit layer. >= 1. Default: 4.
  // Adds the first hidden layer's output to the last one's (a var that crosses every cut
  // after the first layer). Default: false.
  bool skip = false;
  Status Validate() const;  // InvalidArgument naming the field (model.width ...).
};

struct MlpModel {
  graph::ProgramDesc program;  // Feeds "x" float [-1, input_dim], "label" float [-1, 1].
  std::vector<std::string> layer_outputs;  // Output var of each hidden layer, in order.
};

StatusOr<MlpModel> BuildMlpModel(const MlpModelOptions& options);

// `rows` rows of x ~ N(0, 1) and labels from a fixed random linear teacher, seeded.
std::map<std::string, at::Tensor> MakeMlpBatch(const MlpModelOptions& options, int64_t rows,
                                               uint64_t seed);

}  // namespace colony::pipeline
