#include "colony/models/image_classifier.h"

#include <algorithm>
#include <cmath>

#include "colony/graph/builder.h"

namespace colony::models {
namespace {

constexpr int kImageSide = 28;

// The encoder's output var; `b` has its feeds.
StatusOr<std::string> AddEncoder(graph::ProgramBuilder& b, int input_dim,
                                 const ImageEncoderOptions& encoder, int* width) {
  std::string h;
  int in = input_dim;
  if (encoder.type == "embedding") {
    // A bag of ids (a text's tokens; here an image's non-background pixels as position x
    // intensity level), averaged: the mean embedding.
    const std::string ids = b.Feed("ids", graph::INT64, {-1});
    const std::string offsets = b.Feed("offsets", graph::INT64, {-1});
    const int dim = encoder.embedding_dim;
    const std::string table =
        b.Parameter("enc.embedding", {encoder.Vocabulary(input_dim), dim}, graph::Normal(0, 0.1f));
    h = b.Op1("lookup", {{"Ids", {ids}}, {"W", {table}}, {"Offsets", {offsets}}},
              {{"combiner", graph::StringAttr("mean")}});
    in = dim;
  } else {
    h = b.Feed("x", graph::FLOAT32, {-1, input_dim});
    if (encoder.type == "conv") {
      if (input_dim != kImageSide * kImageSide) {
        return InvalidArgumentError("the conv encoder needs 28 x 28 images, got " +
                                    std::to_string(input_dim) + " values");
      }
      h = b.Op1("reshape", {{"X", {h}}},
                {{"shape", graph::IntsAttr({-1, 1, kImageSide, kImageSide})}});
      int channels = 1, side = kImageSide;
      for (size_t i = 0; i < encoder.channels.size(); ++i) {
        const int out = encoder.channels[i];
        const std::string name = "enc.conv" + std::to_string(i);
        // Glorot bound with the receptive field: sqrt(6 / (9 in + 9 out)).
        const float bound = std::sqrt(6.0f / (9.0f * static_cast<float>(channels + out)));
        const std::string w =
            b.Parameter(name + ".w", {out, channels, 3, 3}, graph::Uniform(-bound, bound));
        const std::string bias = b.Parameter(name + ".b", {out}, graph::Zeros());
        h = b.Op1("conv2d", {{"X", {h}}, {"W", {w}}, {"B", {bias}}},
                  {{"paddings", graph::IntsAttr({1})}, {"activation", graph::StringAttr("relu")}});
        h = b.Op1("pool2d", {{"X", {h}}}, {{"kernel", graph::IntsAttr({2})}});
        channels = out;
        side /= 2;
      }
      h = b.Op1("flatten", {{"X", {h}}});
      in = channels * side * side;
    }
  }
  for (size_t i = 0; i < encoder.hidden.size(); ++i) {
    const int out = encoder.hidden[i];
    const std::string name = "enc.fc" + std::to_string(i);
    const std::string w = b.Parameter(name + ".w", {in, out}, graph::XavierUniform());
    const std::string bias = b.Parameter(name + ".b", {out}, graph::Zeros());
    h = b.Op1("fc", {{"X", {h}}, {"W", {w}}, {"B", {bias}}},
              {{"activation", graph::StringAttr("relu")}});
    in = out;
  }
  *width = in;
  return h;
}

}  // namespace

std::string ImageEncoderOptions::TypeName(int input_dim) const {
  std::string name = type + ":";
  if (type == "conv") {
    name.append("1x28x28");
    for (int c : channels) name.append("-c").append(std::to_string(c));
  } else if (type == "embedding") {
    name.append(std::to_string(Vocabulary(input_dim)))
        .append("x")
        .append(std::to_string(embedding_dim));
  } else {
    name.append(std::to_string(input_dim));
  }
  for (int h : hidden) name.append("-").append(std::to_string(h));
  return name;
}

StatusOr<graph::ProgramDesc> BuildImageClassifier(int input_dim, const ImageEncoderOptions& encoder,
                                                  int classes) {
  graph::ProgramBuilder b;
  int width = 0;
  COLONY_ASSIGN_OR_RETURN(std::string h, AddEncoder(b, input_dim, encoder, &width));
  const std::string label = b.Feed("label", graph::INT64, {-1});
  const std::string w = b.Parameter("head.w", {width, classes}, graph::XavierUniform());
  const std::string bias = b.Parameter("head.b", {classes}, graph::Zeros());
  const std::string logits = b.Op1("fc", {{"X", {h}}, {"W", {w}}, {"B", {bias}}});
  b.SetLoss(b.Op1("softmax_cross_entropy", {{"Logits", {logits}}, {"Label", {label}}}));
  b.AddFetch(logits);
  StatusOr<graph::ProgramDesc> program = b.Build();
  if (!program.ok()) return program.status().WithContext("encoder '" + encoder.type + "'");
  return program;
}

void AppendPixelIds(std::span<const float> pixels, int levels, std::vector<int64_t>* ids) {
  const size_t first = ids->size();
  for (size_t j = 0; j < pixels.size(); ++j) {
    const int level = std::min(levels - 1, static_cast<int>(pixels[j] * levels));
    if (level > 0) ids->push_back(static_cast<int64_t>(j) * levels + level);
  }
  if (ids->size() == first) ids->push_back(0);
}

}  // namespace colony::models
