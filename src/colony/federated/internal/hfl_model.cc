#include "colony/federated/internal/hfl_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "colony/exec/executor.h"

namespace colony::fl::internal {
namespace {

bool IsEncoderVar(const std::string& name) {
  return name.rfind(models::kEncoderParameterPrefix, 0) == 0;
}

class ProgramModel final : public EncoderModel {
 public:
  static StatusOr<std::unique_ptr<EncoderModel>> Make(int input_dim,
                                                      const models::ImageEncoderOptions& encoder,
                                                      int classes,
                                                      const HorizontalTrainOptions& train,
                                                      uint64_t head_seed) {
    COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program,
                            models::BuildImageClassifier(input_dim, encoder, classes));
    COLONY_ASSIGN_OR_RETURN(std::unique_ptr<exec::Executor> executor,
                            exec::Executor::Create(program, {.seed = train.seed}));
    auto model = std::unique_ptr<ProgramModel>(new ProgramModel(encoder, train, classes));
    model->executor_ = std::move(executor);
    std::vector<torch::Tensor> all;
    for (const graph::VarDesc& var : program.blocks(0).vars()) {
      if (!var.persistable()) continue;
      const bool shared = IsEncoderVar(var.name()) || train.share_head;
      COLONY_ASSIGN_OR_RETURN(at::Tensor value,
                              exec::MakeInitialValue(var, shared ? train.seed : head_seed));
      value.requires_grad_(true);
      model->params_.emplace_back(var.name(), value);
      if (shared) model->shared_.push_back(value);
      all.push_back(value);
    }
    if (train.optimizer == "adam") {
      model->optimizer_ =
          std::make_unique<torch::optim::Adam>(all, torch::optim::AdamOptions(train.learning_rate));
    } else {
      model->optimizer_ = std::make_unique<torch::optim::SGD>(
          all, torch::optim::SGDOptions(train.learning_rate).momentum(train.momentum));
    }
    return std::unique_ptr<EncoderModel>(std::move(model));
  }

  std::vector<float> SharedParameters() const override {
    std::vector<float> out;
    for (const torch::Tensor& p : shared_) {
      const torch::Tensor flat = p.detach().contiguous().view({-1});
      out.insert(out.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    }
    return out;
  }

  Status SetSharedParameters(std::span<const float> values) override {
    const size_t total = SharedSize();
    if (values.size() != total) {
      return InvalidArgumentError("encoder parameters: got " + std::to_string(values.size()) +
                                  " values, the encoder has " + std::to_string(total));
    }
    torch::NoGradGuard no_grad;
    size_t at = 0;
    anchor_.clear();
    for (torch::Tensor p : shared_) {
      const torch::Tensor src =
          torch::from_blob(const_cast<float*>(values.data() + at), p.sizes(), torch::kFloat32);
      p.copy_(src);
      if (train_.prox_mu > 0) anchor_.push_back(src.clone());
      at += p.numel();
    }
    return OkStatus();
  }

  Status SetGradientCorrection(std::span<const float> correction) override {
    correction_.clear();
    if (correction.empty()) return OkStatus();
    size_t at = 0;
    for (const torch::Tensor& p : shared_) {
      if (at + p.numel() > correction.size()) break;
      correction_.push_back(
          torch::from_blob(const_cast<float*>(correction.data() + at), p.sizes(), torch::kFloat32)
              .clone());
      at += p.numel();
    }
    if (at != correction.size() || correction_.size() != shared_.size()) {
      correction_.clear();
      return InvalidArgumentError("gradient correction: got " + std::to_string(correction.size()) +
                                  " values, the shared parameters have " +
                                  std::to_string(SharedSize()));
    }
    return OkStatus();
  }

  void SetLearningRate(double learning_rate) override {
    for (torch::optim::OptimizerParamGroup& group : optimizer_->param_groups()) {
      group.options().set_lr(learning_rate);
    }
  }

  StatusOr<double> Train(const ImageSet& data, int epochs, int64_t steps, uint64_t seed) override {
    if (data.rows() == 0) return 0.0;
    std::vector<int64_t> order(data.rows());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    const int64_t per_pass = LocalSteps(data.rows(), train_.batch_size, 1, 0);
    int64_t left = LocalSteps(data.rows(), train_.batch_size, epochs, steps);
    epochs = static_cast<int>((left + per_pass - 1) / per_pass);
    double last = 0;
    for (int e = 0; e < epochs; ++e) {
      std::shuffle(order.begin(), order.end(), rng);
      double sum = 0;
      int64_t seen = 0;
      for (size_t b = 0; b < order.size() && left > 0; b += train_.batch_size, --left) {
        const size_t end = std::min(order.size(), b + static_cast<size_t>(train_.batch_size));
        const std::span<const int64_t> rows(order.data() + b, end - b);
        optimizer_->zero_grad();
        COLONY_ASSIGN_OR_RETURN(const torch::Tensor loss, Run(data, rows, /*training=*/true, ""));
        COLONY_RETURN_IF_ERROR(executor_->Backward(scope_));
        if (!anchor_.empty()) AddProximalGradient();
        if (!correction_.empty()) AddGradientCorrection();
        optimizer_->step();
        sum += loss.item<double>() * static_cast<double>(rows.size());
        seen += static_cast<int64_t>(rows.size());
      }
      last = sum / static_cast<double>(seen);
    }
    return last;
  }

  StatusOr<std::vector<float>> MeanGradient(const ImageSet& data) override {
    std::vector<torch::Tensor> sum;
    for (const torch::Tensor& p : shared_) sum.push_back(torch::zeros_like(p.detach()));
    for (int b = 0; b < data.rows(); b += train_.batch_size) {
      std::vector<int64_t> rows(std::min(train_.batch_size, data.rows() - b));
      std::iota(rows.begin(), rows.end(), b);
      optimizer_->zero_grad();
      COLONY_ASSIGN_OR_RETURN(const torch::Tensor loss, Run(data, rows, /*training=*/true, ""));
      COLONY_RETURN_IF_ERROR(executor_->Backward(scope_));
      torch::NoGradGuard no_grad;
      // The loss is the batch mean: weigh each batch by its rows.
      for (size_t i = 0; i < shared_.size(); ++i) {
        const torch::Tensor& grad = shared_[i].grad();
        if (grad.defined()) sum[i].add_(grad, static_cast<double>(rows.size()));
      }
    }
    optimizer_->zero_grad();
    std::vector<float> out;
    const double rows = std::max(1, data.rows());
    for (const torch::Tensor& g : sum) {
      const torch::Tensor flat = (g / rows).contiguous().view({-1});
      out.insert(out.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
    }
    return out;
  }

  StatusOr<std::vector<double>> ClassAccuracy(const ImageSet& data) override {
    std::vector<double> hits(classes_, 0.0), counts(classes_, 0.0);
    COLONY_ASSIGN_OR_RETURN(const std::vector<int64_t> predicted, Predict(data));
    for (int i = 0; i < data.rows(); ++i) {
      counts[data.labels[i]] += 1;
      if (predicted[i] == data.labels[i]) hits[data.labels[i]] += 1;
    }
    for (int c = 0; c < classes_; ++c) hits[c] = counts[c] > 0 ? hits[c] / counts[c] : 0.0;
    return hits;
  }

  StatusOr<double> Accuracy(const ImageSet& data) override {
    if (data.rows() == 0) return 0.0;
    COLONY_ASSIGN_OR_RETURN(const std::vector<int64_t> predicted, Predict(data));
    int hits = 0;
    for (int i = 0; i < data.rows(); ++i) hits += predicted[i] == data.labels[i] ? 1 : 0;
    return static_cast<double>(hits) / data.rows();
  }

 private:
  ProgramModel(const models::ImageEncoderOptions& encoder, const HorizontalTrainOptions& train,
               int classes)
      : encoder_(encoder), train_(train), classes_(classes) {}

  // Feeds `rows` of `data`, runs forward and returns the loss (or, with `fetch`, that var).
  StatusOr<torch::Tensor> Run(const ImageSet& data, std::span<const int64_t> rows, bool training,
                              const std::string& fetch) {
    scope_.Clear();
    const int64_t n = static_cast<int64_t>(rows.size());
    const torch::Tensor index =
        torch::from_blob(const_cast<int64_t*>(rows.data()), {n}, torch::kInt64);
    if (encoder_.type == "embedding") {
      std::vector<int64_t> ids, offsets;
      for (int64_t r : rows) {
        offsets.push_back(static_cast<int64_t>(ids.size()));
        models::AppendPixelIds(std::span<const float>(data.pixels.data() + r * data.dim, data.dim),
                               encoder_.levels, &ids);
      }
      scope_.Set("ids", torch::tensor(ids, torch::kInt64));
      scope_.Set("offsets", torch::tensor(offsets, torch::kInt64));
    } else {
      const torch::Tensor x = torch::from_blob(const_cast<float*>(data.pixels.data()),
                                               {data.rows(), data.dim}, torch::kFloat32);
      scope_.Set("x", x.index_select(0, index));
    }
    std::vector<int64_t> labels;
    for (int64_t r : rows) labels.push_back(data.labels[r]);
    scope_.Set("label", torch::tensor(labels, torch::kInt64));
    for (const auto& [name, value] : params_) scope_.Set(name, value);
    COLONY_RETURN_IF_ERROR(executor_->Forward(scope_, training, step_++));
    return scope_.Get(fetch.empty() ? executor_->program().loss() : fetch);
  }

  StatusOr<std::vector<int64_t>> Predict(const ImageSet& data) {
    std::vector<int64_t> out;
    torch::NoGradGuard no_grad;
    constexpr int kChunk = 1000;
    for (int b = 0; b < data.rows(); b += kChunk) {
      std::vector<int64_t> rows(std::min(kChunk, data.rows() - b));
      std::iota(rows.begin(), rows.end(), b);
      COLONY_ASSIGN_OR_RETURN(const torch::Tensor logits,
                              Run(data, rows, false, executor_->program().fetches(0)));
      const torch::Tensor p = logits.argmax(1).contiguous();
      out.insert(out.end(), p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
    }
    return out;
  }

  // FedProx: the gradient of mu / 2 |w - w_received|^2 on the shared parameters.
  void AddProximalGradient() {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < shared_.size(); ++i) {
      torch::Tensor grad = shared_[i].mutable_grad();
      if (!grad.defined()) continue;
      grad.add_(shared_[i] - anchor_[i], train_.prox_mu);
    }
  }

  // SCAFFOLD: g += c - c_i on the shared parameters (a parameter without a gradient in this
  // batch gets the correction alone).
  void AddGradientCorrection() {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < shared_.size(); ++i) {
      torch::Tensor& grad = shared_[i].mutable_grad();
      if (grad.defined()) {
        grad.add_(correction_[i]);
      } else {
        grad = correction_[i].clone();
      }
    }
  }

  size_t SharedSize() const {
    size_t total = 0;
    for (const torch::Tensor& p : shared_) total += p.numel();
    return total;
  }

  const models::ImageEncoderOptions encoder_;
  const HorizontalTrainOptions train_;
  const int classes_;
  std::unique_ptr<exec::Executor> executor_;
  std::vector<std::pair<std::string, torch::Tensor>> params_;  // Every parameter, program order.
  std::vector<torch::Tensor> shared_;                          // The exchanged ones, program order.
  std::vector<torch::Tensor> anchor_;      // Last received shared values (prox_mu > 0).
  std::vector<torch::Tensor> correction_;  // SCAFFOLD's c - c_i, aligned with shared_.
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  exec::Scope scope_;
  int64_t step_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<EncoderModel>> EncoderModel::Create(
    int input_dim, const models::ImageEncoderOptions& encoder, int classes,
    const HorizontalTrainOptions& train, uint64_t head_seed) {
  return ProgramModel::Make(input_dim, encoder, classes, train, head_seed);
}

int64_t LocalSteps(int rows, int batch_size, int epochs, int64_t steps) {
  if (steps > 0) return steps;
  return int64_t{epochs} * ((rows + batch_size - 1) / batch_size);
}

}  // namespace colony::fl::internal
