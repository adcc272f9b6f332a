// A child's model for horizontal FL: a shared MLP encoder and a local softmax head, in
// LibTorch behind a torch-free interface. Private to federated.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/horizontal.h"

namespace colony::fl::internal {

class EncoderModel {
 public:
  // Encoder layers input_dim -> hidden..., head -> classes; parameters drawn from `seed`
  // (the encoder from encoder_seed, so every child and the master agree on it).
  static std::unique_ptr<EncoderModel> Create(int input_dim, const EncoderOptions& encoder,
                                              int classes, const HorizontalTrainOptions& train,
                                              uint64_t head_seed);
  virtual ~EncoderModel() = default;

  virtual std::vector<float> EncoderParameters() const = 0;
  // InvalidArgument when the length differs from EncoderParameters().size().
  virtual Status SetEncoderParameters(std::span<const float> values) = 0;
  // `epochs` passes over `data` in seeded mini-batches with this model's optimizer; the mean
  // loss of the last pass.
  virtual double Train(const ImageSet& data, int epochs, uint64_t seed) = 0;
  virtual double Accuracy(const ImageSet& data) = 0;
  // Accuracy on the samples of each label 0..classes-1 (0 for a label without samples).
  virtual std::vector<double> ClassAccuracy(const ImageSet& data) = 0;
};

// Torch runs one intra-op thread per process: children share a few cores.
void UseOneTorchThread();

}  // namespace colony::fl::internal
