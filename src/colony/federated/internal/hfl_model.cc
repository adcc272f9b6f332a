#include "colony/federated/internal/hfl_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace colony::fl::internal {
namespace {

class TorchEncoderModel final : public EncoderModel {
 public:
  TorchEncoderModel(int input_dim, const EncoderOptions& encoder, int classes,
                    const HorizontalTrainOptions& train, uint64_t head_seed)
      : batch_size_(train.batch_size), classes_(classes) {
    // The encoder's initial draw depends on train.seed only, the head's on head_seed.
    torch::manual_seed(train.seed);
    int in = input_dim;
    for (int width : encoder.hidden) {
      encoder_->push_back(torch::nn::Linear(in, width));
      encoder_->push_back(torch::nn::ReLU());
      in = width;
    }
    torch::manual_seed(head_seed);
    head_ = torch::nn::Linear(in, classes);
    std::vector<torch::Tensor> params = encoder_->parameters();
    for (const torch::Tensor& p : head_->parameters()) params.push_back(p);
    if (train.optimizer == "adam") {
      optimizer_ = std::make_unique<torch::optim::Adam>(
          params, torch::optim::AdamOptions(train.learning_rate));
    } else {
      optimizer_ = std::make_unique<torch::optim::SGD>(
          params, torch::optim::SGDOptions(train.learning_rate).momentum(0.9));
    }
  }

  std::vector<double> ClassAccuracy(const ImageSet& data) override {
    std::vector<double> hits(classes_, 0.0), counts(classes_, 0.0);
    if (data.rows() > 0) {
      torch::NoGradGuard no_grad;
      const torch::Tensor predicted = Forward(Images(data)).argmax(1).contiguous();
      const int64_t* p = predicted.data_ptr<int64_t>();
      for (int i = 0; i < data.rows(); ++i) {
        counts[data.labels[i]] += 1;
        if (p[i] == data.labels[i]) hits[data.labels[i]] += 1;
      }
    }
    for (int c = 0; c < classes_; ++c) hits[c] = counts[c] > 0 ? hits[c] / counts[c] : 0.0;
    return hits;
  }

  std::vector<float> EncoderParameters() const override {
    std::vector<float> out;
    for (const torch::Tensor& p : encoder_->parameters()) {
      const torch::Tensor flat = p.detach().contiguous().view({-1});
      out.insert(out.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    }
    return out;
  }

  Status SetEncoderParameters(std::span<const float> values) override {
    size_t total = 0;
    for (const torch::Tensor& p : encoder_->parameters()) total += p.numel();
    if (values.size() != total) {
      return InvalidArgumentError("encoder parameters: got " + std::to_string(values.size()) +
                                  " values, the encoder has " + std::to_string(total));
    }
    torch::NoGradGuard no_grad;
    size_t at = 0;
    for (torch::Tensor p : encoder_->parameters()) {
      const torch::Tensor src =
          torch::from_blob(const_cast<float*>(values.data() + at), p.sizes(), torch::kFloat32);
      p.copy_(src);
      at += p.numel();
    }
    return OkStatus();
  }

  double Train(const ImageSet& data, int epochs, uint64_t seed) override {
    if (data.rows() == 0) return 0.0;
    const torch::Tensor x = Images(data);
    const torch::Tensor y = Labels(data);
    std::vector<int64_t> order(data.rows());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    double last = 0;
    for (int e = 0; e < epochs; ++e) {
      std::shuffle(order.begin(), order.end(), rng);
      double sum = 0;
      int64_t seen = 0;
      for (size_t b = 0; b < order.size(); b += batch_size_) {
        const size_t end = std::min(order.size(), b + batch_size_);
        const torch::Tensor index =
            torch::from_blob(order.data() + b, {static_cast<int64_t>(end - b)}, torch::kInt64);
        const torch::Tensor logits = Forward(x.index_select(0, index));
        const torch::Tensor loss =
            torch::nn::functional::cross_entropy(logits, y.index_select(0, index));
        optimizer_->zero_grad();
        loss.backward();
        optimizer_->step();
        sum += loss.item<double>() * static_cast<double>(end - b);
        seen += static_cast<int64_t>(end - b);
      }
      last = sum / static_cast<double>(seen);
    }
    return last;
  }

  double Accuracy(const ImageSet& data) override {
    if (data.rows() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    const torch::Tensor predicted = Forward(Images(data)).argmax(1);
    return predicted.eq(Labels(data)).sum().item<double>() / data.rows();
  }

 private:
  static torch::Tensor Images(const ImageSet& data) {
    return torch::from_blob(const_cast<float*>(data.pixels.data()), {data.rows(), data.dim},
                            torch::kFloat32);
  }
  static torch::Tensor Labels(const ImageSet& data) {
    return torch::tensor(std::vector<int64_t>(data.labels.begin(), data.labels.end()),
                         torch::kInt64);
  }
  torch::Tensor Forward(const torch::Tensor& x) { return head_->forward(encoder_->forward(x)); }

  int batch_size_;
  int classes_;
  torch::nn::Sequential encoder_;
  torch::nn::Linear head_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace

std::unique_ptr<EncoderModel> EncoderModel::Create(int input_dim, const EncoderOptions& encoder,
                                                   int classes, const HorizontalTrainOptions& train,
                                                   uint64_t head_seed) {
  return std::make_unique<TorchEncoderModel>(input_dim, encoder, classes, train, head_seed);
}

void UseOneTorchThread() { torch::set_num_threads(1); }

}  // namespace colony::fl::internal
