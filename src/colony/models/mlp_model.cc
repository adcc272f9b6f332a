#include "colony/models/mlp_model.h"

#include <string>

#include "colony/graph/builder.h"

namespace colony::models {

Status MlpModelOptions::Validate() const {
  if (input_dim < 1) {
    return InvalidArgumentError("model.input_dim must be >= 1, got " + std::to_string(input_dim));
  }
  if (width < 1) {
    return InvalidArgumentError("model.width must be >= 1, got " + std::to_string(width));
  }
  if (layers < 1) {
    return InvalidArgumentError("model.layers must be >= 1, got " + std::to_string(layers));
  }
  return OkStatus();
}

StatusOr<MlpModel> BuildMlpModel(const MlpModelOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  graph::ProgramBuilder b;
  MlpModel model;
  std::string h = b.Feed("x", graph::FLOAT32, {-1, o.input_dim});
  const std::string label = b.Feed("label", graph::FLOAT32, {-1, 1});
  int64_t in = o.input_dim;
  for (int i = 0; i < o.layers; ++i) {
    const std::string name = "layer" + std::to_string(i);
    const std::string w = b.Parameter(name + ".w", {in, o.width}, graph::XavierUniform());
    const std::string bias = b.Parameter(name + ".b", {o.width}, graph::Zeros());
    h = b.Op1("fc", {{"X", {h}}, {"W", {w}}, {"B", {bias}}},
              {{"activation", graph::StringAttr("relu")}});
    if (o.skip && i == o.layers - 1 && o.layers > 1) {
      h = b.Op1("add", {{"X", {h}}, {"Y", {model.layer_outputs.front()}}});
    }
    model.layer_outputs.push_back(h);
    in = o.width;
  }
  const std::string w = b.Parameter("logit.w", {in, 1}, graph::XavierUniform());
  const std::string bias = b.Parameter("logit.b", {1}, graph::Zeros());
  const std::string logit = b.Op1("fc", {{"X", {h}}, {"W", {w}}, {"B", {bias}}});
  b.AddFetch(b.Op1("sigmoid", {{"X", {logit}}}));
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  COLONY_ASSIGN_OR_RETURN(model.program, b.Build());
  return model;
}

}  // namespace colony::models
