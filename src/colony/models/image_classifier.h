// An image classifier of the zoo: an encoder and a linear softmax head, as one program of the
// graph IR (horizontal federated learning trains the encoder jointly and keeps the head local).
//  - "mlp": fc layers `hidden` (ReLU) on the flattened image;
//  - "conv": per entry of `channels` a 3x3 conv2d (padding 1, ReLU) and a 2x2 max pool2d on the
//    28 x 28 image, flattened, then fc layers `hidden`;
//  - "embedding": an embedding bag (mean) of ids from a table of `embedding_dim` columns, then
//    fc layers `hidden`. For images the ids are the non-background pixels as position x
//    intensity level (`levels` levels, AppendPixelIds), so a sample is a bag of ids like a
//    text's tokens.
//   COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program,
//                           models::BuildImageClassifier(784, {.type = "conv"}, 10));
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/program.h"

namespace colony::models {

// Every encoder parameter's name starts with this; the head's are "head.w" and "head.b".
inline constexpr char kEncoderParameterPrefix[] = "enc.";

struct ImageEncoderOptions {
  std::string type = "mlp";             // "mlp", "conv" or "embedding". Default: "mlp".
  std::vector<int> hidden = {128, 64};  // Widths of the fc layers (ReLU after each).
  std::vector<int> channels = {8, 16};  // conv: output channels of each conv layer.
  int embedding_dim = 32;               // embedding: table columns.
  int levels = 4;                       // embedding: intensity levels of the pixel ids.
  // Rows of the embedding table for `input_dim` pixels: input_dim x levels.
  int64_t Vocabulary(int input_dim) const { return static_cast<int64_t>(input_dim) * levels; }
  // The encoder's architecture as a name: "mlp:784-128-64", "conv:1x28x28-c8-c16-64",
  // "embedding:3136x32-64" (horizontal FL's instruction carries it).
  std::string TypeName(int input_dim) const;
};

// The program for images of `input_dim` pixels and `classes` classes: feeds "x" (float
// [-1, input_dim]; embedding: "ids" and "offsets", int64) and "label" (int64 [-1]); the encoder
// ops on parameters "enc.*", the head fc on "head.w" / "head.b", the loss
// softmax_cross_entropy; fetches the logits. InvalidArgument for a bad encoder (conv needs
// 28 x 28 images).
StatusOr<graph::ProgramDesc> BuildImageClassifier(int input_dim, const ImageEncoderOptions& encoder,
                                                  int classes);

// The embedding encoder's ids of one image of pixels in [0, 1]: pixel j at level
// min(levels - 1, floor(value * levels)) > 0 is id j * levels + level; an all-background image
// is the one id 0. Appended to `ids`.
void AppendPixelIds(std::span<const float> pixels, int levels, std::vector<int64_t>* ids);

}  // namespace colony::models
