// A horizontal FL child: its share of the samples, its own encoder copy, head and optimizer.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "colony/exec/compute_threads.h"
#include "colony/federated/horizontal.h"
#include "colony/federated/internal/hfl_model.h"
#include "colony/federated/internal/rpc_util.h"
#include "colony/federated/internal/scaffold.h"
#include "colony/federated/internal/secure_mask.h"
#include "colony/horizontal.grpc.pb.h"
#include "colony/rpc/serve.h"

namespace colony::fl {
namespace {

using Clock = std::chrono::steady_clock;
namespace rpc = ::colony::fl::hrpc;

bool Contains(const std::vector<int>& list, int value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

class Service final : public rpc::HorizontalChild::Service {
 public:
  Service(const HorizontalConfig& config, int index, int children, ImageSet local, ImageSet test,
          internal::MaskKeyPair keys, std::unique_ptr<internal::EncoderModel> model)
      : config_(config),
        keys_(std::move(keys)),
        index_(index),
        children_(children),
        local_(std::move(local)),
        test_(std::move(test)),
        model_(std::move(model)),
        poisoned_(Contains(config.children.poisoned, index)),
        slow_(Contains(config.children.slow, index)) {
    label_share_.assign(10, 0.0);
    for (int label : local_.labels) label_share_[label] += 1.0 / local_.rows();
    test_share_.assign(10, 0.0);
    for (int label : test_.labels) test_share_[label] += 1.0 / test_.rows();
  }

  int64_t sample_count() const { return local_.rows(); }

  grpc::Status Instruct(grpc::ServerContext* context, const rpc::InstructRequest* request,
                        rpc::InstructResponse* response) override {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      Touch();
      const std::string mine = config_.encoder.TypeName(local_.dim);
      const int64_t params = static_cast<int64_t>(model_->SharedParameters().size());
      response->set_sample_count(local_.rows());
      response->set_public_key(keys_.public_key);
      if (request->encoder_type() != mine) {
        response->set_reason("child " + std::to_string(index_) + " has no samples for encoder '" +
                             request->encoder_type() + "' (it holds images for '" + mine + "')");
      } else if (request->num_parameters() != params) {
        response->set_reason("child " + std::to_string(index_) + "'s encoder has " +
                             std::to_string(params) + " parameters, the master's " +
                             std::to_string(request->num_parameters()));
      } else if (local_.rows() == 0) {
        response->set_reason("child " + std::to_string(index_) + " holds no samples");
      } else {
        response->set_confirmed(true);
      }
      std::printf("child %d: instructed to train '%s': %s (%d samples)\n", index_,
                  request->encoder_type().c_str(),
                  response->confirmed() ? "confirmed" : response->reason().c_str(), local_.rows());
      std::fflush(stdout);
      return OkStatus();
    });
  }

  grpc::Status Train(grpc::ServerContext* context, const rpc::TrainRequest* request,
                     rpc::TrainResponse* response) override {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      const std::vector<int>& slow_rounds = config_.children.slow_rounds;
      if (slow_ && (slow_rounds.empty() || Contains(slow_rounds, request->round()))) {
        std::this_thread::sleep_for(std::chrono::duration<double>(config_.children.slow_delay_s));
      }
      std::lock_guard<std::mutex> lock(mu_);
      Touch();
      // The master gave up on this call (its round went on without us): skip the work.
      if (context->IsCancelled()) {
        return CancelledError("round " + std::to_string(request->round()) + " is over");
      }
      const std::vector<float> received(request->parameters().begin(), request->parameters().end());
      const std::string round = "round " + std::to_string(request->round());
      Status set = model_->SetSharedParameters(received);
      if (!set.ok()) return set.WithContext(round);
      response->set_round(request->round());
      double accuracy = 0, local = 0;
      Status evaluated = Evaluate(&accuracy, &local);
      if (!evaluated.ok()) return evaluated.WithContext(round);
      response->set_eval_accuracy(accuracy);
      response->set_eval_local_accuracy(local);
      const int epochs = std::max(1, request->local_epochs());
      const double scale = request->learning_rate_scale() > 0 ? request->learning_rate_scale() : 1;
      const double learning_rate = config_.train.learning_rate * scale;
      model_->SetLearningRate(learning_rate);
      Status corrected = SetCorrection(*request, learning_rate);
      if (!corrected.ok()) return corrected.WithContext(round);
      std::vector<float> gradient;  // SCAFFOLD option I: the mean gradient at the received x.
      if (request->scaffold() && config_.train.scaffold_option == 1) {
        StatusOr<std::vector<float>> mean = model_->MeanGradient(local_);
        if (!mean.ok()) return mean.status().WithContext(round);
        gradient = std::move(mean).value();
      }
      const StatusOr<double> loss =
          model_->Train(local_, epochs, request->local_steps(),
                        config_.train.seed * 7919 + request->round() * 131 + index_);
      if (!loss.ok()) return loss.status().WithContext(round);
      response->set_train_loss(*loss);
      response->set_sample_count(local_.rows());
      std::vector<float> update = model_->SharedParameters();
      std::vector<float> control_delta;
      if (request->scaffold()) {
        const int64_t steps = internal::LocalSteps(local_.rows(), config_.train.batch_size, epochs,
                                                   request->local_steps());
        StatusOr<std::vector<float>> delta =
            gradient.empty()
                ? internal::ScaffoldChildUpdate(
                      std::span<const float>(request->control().data(), request->control_size()),
                      received, update, steps, step_size_, &control_)
                : internal::ScaffoldChildUpdateOptionOne(gradient, &control_);
        if (!delta.ok()) return delta.status().WithContext(round);
        control_delta = std::move(delta).value();
        response->set_local_steps(steps);
      }
      if (poisoned_) Poison(request->round(), &update);
      if (request->secure()) {
        // [n_i x parameters, w_i x control_delta] in fixed point, masked as one vector.
        std::vector<uint64_t> masked = internal::EncodeFixed(update, local_.rows());
        if (request->scaffold()) {
          const double weight = request->control_weight_samples() ? local_.rows() : 1.0;
          const std::vector<uint64_t> control = internal::EncodeFixed(control_delta, weight);
          masked.insert(masked.end(), control.begin(), control.end());
        }
        StatusOr<std::vector<uint64_t>> mask =
            PeerMask(request->round(), request->peers(), request->peer_keys(), masked.size());
        if (!mask.ok()) return mask.status();
        for (size_t i = 0; i < masked.size(); ++i) masked[i] += (*mask)[i];
        response->mutable_masked()->Assign(masked.begin(), masked.end());
      } else {
        response->mutable_parameters()->Assign(update.begin(), update.end());
        response->mutable_control_delta()->Assign(control_delta.begin(), control_delta.end());
      }
      std::printf("child %d: round %d: accuracy of the received encoder %.4f, local loss %.4f%s\n",
                  index_, request->round(), response->eval_accuracy(), *loss,
                  poisoned_ ? " (sending a poisoned update)" : "");
      std::fflush(stdout);
      return OkStatus();
    });
  }

  grpc::Status Unmask(grpc::ServerContext* context, const rpc::UnmaskRequest* request,
                      rpc::UnmaskResponse* response) override {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      Touch();
      // The master's dim sizes the mask this child computes: only the round's vector lengths
      // (the parameters, twice that with SCAFFOLD's control variates) are accepted.
      const int64_t params = static_cast<int64_t>(model_->SharedParameters().size());
      if (request->dim() != 0 && request->dim() != params && request->dim() != 2 * params) {
        return InvalidArgumentError("Unmask: dim " + std::to_string(request->dim()) +
                                    " is not this child's " + std::to_string(params) +
                                    " shared parameters (or " + std::to_string(2 * params) +
                                    " with SCAFFOLD)");
      }
      const size_t dim = static_cast<size_t>(request->dim() > 0 ? request->dim() : params);
      StatusOr<std::vector<uint64_t>> mask =
          PeerMask(request->round(), request->dropped(), request->dropped_keys(), dim);
      if (!mask.ok()) return mask.status();
      response->mutable_mask()->Assign(mask->begin(), mask->end());
      return OkStatus();
    });
  }

  grpc::Status Evaluate(grpc::ServerContext* context, const rpc::EvaluateRequest* request,
                        rpc::EvaluateResponse* response) override {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      Touch();
      const std::vector<float> received(request->parameters().begin(), request->parameters().end());
      Status set = model_->SetSharedParameters(received);
      if (!set.ok()) return set.WithContext("evaluate");
      double accuracy = 0, local = 0;
      Status evaluated = Evaluate(&accuracy, &local);
      if (!evaluated.ok()) return evaluated.WithContext("evaluate");
      response->set_accuracy(accuracy);
      response->set_local_accuracy(local);
      response->set_test_samples(test_.rows());
      return OkStatus();
    });
  }

  grpc::Status Finish(grpc::ServerContext* context, const rpc::FinishRequest*,
                      rpc::FinishResponse*) override {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      session_.Finish();
      return OkStatus();
    });
  }

  Status Wait(const std::atomic<bool>* stop) {
    return session_.Wait(stop, config_.child_idle_timeout_s,
                         "child stopped before the master finished",
                         "child " + std::to_string(index_) + ": no call from the master for " +
                             std::to_string(config_.child_idle_timeout_s) +
                             " s (horizontal.children.idle_timeout_s)");
  }

 private:
  void Touch() { session_.Touch(); }

  template <typename Ids, typename Keys>
  StatusOr<std::vector<uint64_t>> PeerMask(int round, const Ids& ids, const Keys& keys,
                                           size_t dim) const {
    if (keys_.secret_key.empty()) {
      return FailedPreconditionError("child " + std::to_string(index_) +
                                     " has no mask keys: horizontal.train.secure_aggregation "
                                     "is off in its config");
    }
    if (ids.size() != keys.size()) {
      return InvalidArgumentError("got " + std::to_string(ids.size()) + " peers but " +
                                  std::to_string(keys.size()) + " public keys");
    }
    // Each peer costs a key exchange and a dim-long stream: only children of this job, each
    // once (the master's list includes this child, which PairwiseMask skips).
    std::vector<bool> seen(static_cast<size_t>(children_), false);
    std::vector<std::pair<int, std::string>> peers;
    for (int i = 0; i < ids.size(); ++i) {
      const int id = ids[i];
      if (id < 0 || id >= children_ || seen[static_cast<size_t>(id)]) {
        return InvalidArgumentError("peer " + std::to_string(id) + " is not a child in [0, " +
                                    std::to_string(children_) + ") or is named twice");
      }
      seen[static_cast<size_t>(id)] = true;
      peers.emplace_back(id, keys[i]);
    }
    return internal::PairwiseMask(keys_, index_, peers, round, dim);
  }

  // SCAFFOLD: the gradient correction c - c_i for this round's training (none without
  // request.scaffold). This child's c_i starts at zero and lives as long as the process.
  Status SetCorrection(const rpc::TrainRequest& request, double learning_rate) {
    if (!request.scaffold()) return model_->SetGradientCorrection({});
    StatusOr<double> step =
        internal::ScaffoldStepSize(config_.train.optimizer, learning_rate, config_.train.momentum);
    if (!step.ok()) return step.status().WithContext("child " + std::to_string(index_));
    step_size_ = *step;
    if (control_.empty()) control_.assign(request.parameters_size(), 0.0f);
    COLONY_ASSIGN_OR_RETURN(
        const std::vector<float> correction,
        internal::ScaffoldCorrection(
            std::span<const float>(request.control().data(), request.control_size()), control_));
    return model_->SetGradientCorrection(correction);
  }

  // Test accuracy, and the same with each class weighted by its share of this child's samples.
  Status Evaluate(double* accuracy, double* local) {
    COLONY_ASSIGN_OR_RETURN(const std::vector<double> per_class, model_->ClassAccuracy(test_));
    *accuracy = 0;
    *local = 0;
    for (size_t c = 0; c < per_class.size(); ++c) {
      *accuracy += test_share_[c] * per_class[c];
      *local += label_share_[c] * per_class[c];
    }
    return OkStatus();
  }

  void Poison(int round, std::vector<float>* update) const {
    if (config_.children.poison == "scale") {
      for (float& v : *update) v = static_cast<float>(v * config_.children.poison_scale);
      return;
    }
    std::mt19937_64 rng(config_.train.seed + 17 * round + index_);
    std::normal_distribution<float> noise(0.0f, 100.0f);
    for (float& v : *update) v = noise(rng);
  }

  const HorizontalConfig config_;
  const internal::MaskKeyPair keys_;  // Empty without secure aggregation.
  const int index_;
  const int children_;  // Children of the job; peers' indices are below it.
  const ImageSet local_;
  const ImageSet test_;
  std::unique_ptr<internal::EncoderModel> model_;
  const bool poisoned_;
  const bool slow_;
  std::vector<double> label_share_;  // Of this child's samples, by label.
  std::vector<double> test_share_;   // Of the test samples, by label.
  std::vector<float> control_;       // SCAFFOLD: this child's control variate c_i.
  double step_size_ = 0;             // SCAFFOLD: the optimizer's step size per unit gradient.
  std::mutex mu_;                    // One call at a time works on the model.
  internal::SessionWaiter session_;
};

class GrpcChild final : public internal::Served<HorizontalChild, Service> {
 public:
  using Served::Served;
  int64_t sample_count() const override { return service().sample_count(); }
};

}  // namespace

StatusOr<std::unique_ptr<HorizontalChild>> HorizontalChild::Start(const HorizontalConfig& config,
                                                                  const ChildOptions& options) {
  if (options.children <= 0) return InvalidArgumentError("--children must be > 0");
  if (options.index < 0 || options.index >= options.children) {
    return InvalidArgumentError("--index " + std::to_string(options.index) + " is not in [0, " +
                                std::to_string(options.children) + ") (--children " +
                                std::to_string(options.children) + ")");
  }
  exec::SetUpCompute(/*threads=*/1);  // One intra-op thread: the nodes share a few cores.
  const HorizontalDataOptions& d = config.data;
  COLONY_ASSIGN_OR_RETURN(ImageSet train, LoadFashionMnist(d.dir, true, d.train_samples));
  COLONY_ASSIGN_OR_RETURN(ImageSet test, LoadFashionMnist(d.dir, false, d.test_samples));
  COLONY_ASSIGN_OR_RETURN(std::vector<std::vector<int>> parts,
                          SplitByChild(train.labels, options.children, d.split, d.alpha, d.seed));
  internal::MaskKeyPair keys;
  if (config.train.secure_aggregation) {
    COLONY_ASSIGN_OR_RETURN(keys, internal::GenerateMaskKeys());
  }
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<internal::EncoderModel> model,
      internal::EncoderModel::Create(train.dim, config.encoder, 10, config.train,
                                     config.train.seed * 1000003 + options.index + 1));
  auto service =
      std::make_unique<Service>(config, options.index, options.children,
                                SelectImages(train, parts[options.index]), std::move(test),
                                std::move(keys), std::move(model));
  auto tap = std::make_unique<internal::MessageTap>("child " + std::to_string(options.index),
                                                    options.observer);
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<colony::rpc::Server> server,
      internal::StartServer("child " + std::to_string(options.index), options.address,
                            service.get(), rpc::HorizontalChild::service_full_name(), tap.get(),
                            config.security));
  return std::unique_ptr<HorizontalChild>(
      new GrpcChild(std::move(tap), std::move(service), std::move(server)));
}

}  // namespace colony::fl
