// A stack of equal fully connected layers with a binary logistic loss: stages of balanced cost
// for the pipeline tests, its benchmark and `colony pipeline` (pipeline/mlp_batch.h makes its
// synthetic data).
//   COLONY_ASSIGN_OR_RETURN(models::MlpModel m, models::BuildMlpModel({.layers = 4}));
//   pipeline runner options: .cut_vars = {m.layer_outputs[1]}
#pragma once

#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/program.h"

namespace colony::models {

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

// InvalidArgument for bad options.
StatusOr<MlpModel> BuildMlpModel(const MlpModelOptions& options);

}  // namespace colony::models
