// A child's model for horizontal FL: the zoo's image classifier (models/image_classifier.h), a
// shared encoder and a local softmax head, trained by the executor (LibTorch) behind a torch-free
// interface.
// The encoder's parameters ("enc.*") are what the children exchange; the head ("head.*") stays
// local unless train.share_head. Private to federated.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/horizontal.h"
#include "colony/models/image_classifier.h"

namespace colony::fl::internal {

class EncoderModel {
 public:
  // The program of models::BuildImageClassifier with its parameters drawn from train.seed (encoder,
  // and the head when train.share_head, so every child and the master agree on them) or head_seed.
  static StatusOr<std::unique_ptr<EncoderModel>> Create(int input_dim,
                                                        const models::ImageEncoderOptions& encoder,
                                                        int classes,
                                                        const HorizontalTrainOptions& train,
                                                        uint64_t head_seed);
  virtual ~EncoderModel() = default;

  // The exchanged parameter set: every "enc.*" parameter in program order, then the head's
  // when train.share_head.
  virtual std::vector<float> SharedParameters() const = 0;
  // InvalidArgument when the length differs from SharedParameters().size(). With
  // train.prox_mu > 0 these values are the anchor of the proximal term in the next Train.
  virtual Status SetSharedParameters(std::span<const float> values) = 0;
  // SCAFFOLD: `correction` (aligned with SharedParameters()) is added to every gradient of the
  // shared parameters in the following Train calls, before the optimizer step; empty: none.
  // InvalidArgument for another non-zero length.
  virtual Status SetGradientCorrection(std::span<const float> correction) = 0;
  // The optimizer's learning rate for the following Train calls (train.lr_schedule).
  virtual void SetLearningRate(double learning_rate) = 0;
  // `epochs` passes over `data` in seeded mini-batches with this model's optimizer, or with
  // `steps` > 0 exactly that many mini-batches (from as many shuffled passes as they need); the
  // mean loss of the last (possibly partial) pass.
  // Internal when the executor fails.
  virtual StatusOr<double> Train(const ImageSet& data, int epochs, int64_t steps,
                                 uint64_t seed) = 0;
  // SCAFFOLD option I: the mean gradient of the loss over `data` with respect to the shared
  // parameters (aligned with SharedParameters()), in mini-batches of train.batch_size, without
  // a step and without the proximal term or the gradient correction.
  virtual StatusOr<std::vector<float>> MeanGradient(const ImageSet& data) = 0;
  virtual StatusOr<double> Accuracy(const ImageSet& data) = 0;
  // Accuracy on the samples of each label 0..classes-1 (0 for a label without samples).
  virtual StatusOr<std::vector<double>> ClassAccuracy(const ImageSet& data) = 0;
};

// The mini-batches Train takes on `rows` samples: `steps` when > 0, else `epochs` passes of
// ceil(rows / batch_size).
int64_t LocalSteps(int rows, int batch_size, int epochs, int64_t steps);

}  // namespace colony::fl::internal
