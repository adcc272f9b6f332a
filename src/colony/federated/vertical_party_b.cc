// Party B: holds X_B, serves the VerticalParty service, never sends a feature row.
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>

#include "colony/federated.grpc.pb.h"
#include "colony/federated/internal/party_block.h"
#include "colony/federated/internal/rpc_util.h"
#include "colony/federated/paillier.h"
#include "colony/federated/vertical.h"
#include "colony/rpc/serve.h"

namespace colony::fl {
namespace {

using Clock = std::chrono::steady_clock;
using internal::PartyBlock;

class Service final : public rpc::VerticalParty::Service {
 public:
  Service(const VerticalConfig& config, PartyTable table, std::string out)
      : config_(config), table_(std::move(table)), out_(std::move(out)) {}

  grpc::Status Ids(grpc::ServerContext* context, const rpc::IdsRequest*,
                   rpc::IdsResponse* response) override {
    return Serve(context, [&]() -> Status {
      for (uint64_t id : table_.ids) response->add_ids(id);
      return OkStatus();
    });
  }

  grpc::Status Setup(grpc::ServerContext* context, const rpc::SetupRequest* request,
                     rpc::SetupResponse* response) override {
    return Serve(context, [&]() -> Status {
      if (request->model() != "linear" && request->model() != "logistic") {
        return InvalidArgumentError("Setup: model '" + request->model() + "' is unknown");
      }
      if (!(request->learning_rate() > 0) || !(request->l2() >= 0)) {
        return InvalidArgumentError("Setup: learning_rate must be > 0 and l2 >= 0");
      }
      const std::vector<uint64_t> train(request->train_ids().begin(), request->train_ids().end());
      const std::vector<uint64_t> test(request->test_ids().begin(), request->test_ids().end());
      COLONY_ASSIGN_OR_RETURN(PartyBlock block,
                              PartyBlock::Create(table_, train, test, /*intercept=*/false,
                                                 request->model(), request->l2(), "party b"));
      std::optional<PaillierPublicKey> key;
      if (!request->paillier_n().empty()) {
        COLONY_ASSIGN_OR_RETURN(PaillierPublicKey k,
                                PaillierPublicKey::FromBytes(request->paillier_n(),
                                                             config_.paillier.policy()));
        if (request->precision_bits() < 8 || request->precision_bits() > 40) {
          return InvalidArgumentError("Setup: precision_bits must be in [8, 40]");
        }
        key = std::move(k);
      }
      block_ = std::move(block);
      key_ = std::move(key);
      setup_ = *request;
      iterations_ = 0;
      masks_.clear();
      // B's fixed-point features, column-major, for the encrypted gradient.
      weights_.assign(block_->cols(), std::vector<int64_t>(block_->train_rows()));
      const double scale = std::ldexp(1.0, request->precision_bits());
      for (size_t i = 0; i < block_->train_rows(); ++i)
        for (size_t j = 0; j < block_->cols(); ++j)
          weights_[j][i] = std::llround(block_->train_x()[i * block_->cols() + j] * scale);
      std::printf("party b: session set up: %d training ids, %d held out, %zu features, %s%s\n",
                  request->train_ids_size(), request->test_ids_size(), block_->cols(),
                  request->model().c_str(), key_ ? ", Paillier on" : "");
      std::fflush(stdout);
      response->set_num_features(static_cast<int>(block_->cols()));
      for (double u : block_->TrainPartial()) response->add_partial(u);
      return OkStatus();
    });
  }

  grpc::Status Step(grpc::ServerContext* context, const rpc::StepRequest* request,
                    rpc::StepResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_RETURN_IF_ERROR(CheckSetup("Step"));
      const size_t m = block_->train_rows();
      if (!key_) {
        if (static_cast<size_t>(request->residual_size()) != m) {
          return InvalidArgumentError("Step: " + std::to_string(request->residual_size()) +
                                      " residuals for " + std::to_string(m) + " training ids");
        }
        const std::vector<double> r(request->residual().begin(), request->residual().end());
        return Update(request->iteration(), block_->DataGradient(r), response);
      }
      if (static_cast<size_t>(request->enc_residual_size()) != m) {
        return InvalidArgumentError("Step: " + std::to_string(request->enc_residual_size()) +
                                    " encrypted residuals for " + std::to_string(m) +
                                    " training ids (Paillier is on)");
      }
      const std::vector<std::string> enc(request->enc_residual().begin(),
                                         request->enc_residual().end());
      // Enc(sum_i x_ij r_i + mask_j): A decrypts only masked sums, B unmasks after.
      masks_.clear();
      for (size_t j = 0; j < block_->cols(); ++j) {
        masks_.push_back(RandomDecimal(key_->bits() / 2));
        COLONY_ASSIGN_OR_RETURN(std::string c, key_->WeightedSum(enc, weights_[j], masks_[j]));
        response->add_masked_gradient(std::move(c));
      }
      mask_iteration_ = request->iteration();
      return OkStatus();
    });
  }

  grpc::Status Unmask(grpc::ServerContext* context, const rpc::UnmaskRequest* request,
                      rpc::StepResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_RETURN_IF_ERROR(CheckSetup("Unmask"));
      if (!key_ || masks_.empty() || request->iteration() != mask_iteration_) {
        return FailedPreconditionError("Unmask: no masked gradient pending for iteration " +
                                       std::to_string(request->iteration()));
      }
      if (static_cast<size_t>(request->masked_gradient_size()) != masks_.size()) {
        return InvalidArgumentError("Unmask: " + std::to_string(request->masked_gradient_size()) +
                                    " values for " + std::to_string(masks_.size()) + " features");
      }
      std::vector<double> gradient(masks_.size());
      const double m = static_cast<double>(block_->train_rows());
      for (size_t j = 0; j < masks_.size(); ++j) {
        COLONY_ASSIGN_OR_RETURN(double g, UnmaskDecimal(request->masked_gradient(j), masks_[j],
                                                        2 * setup_.precision_bits()));
        gradient[j] = g / m;
      }
      masks_.clear();
      return Update(request->iteration(), std::move(gradient), response);
    });
  }

  grpc::Status Predict(grpc::ServerContext* context, const rpc::PredictRequest*,
                       rpc::PredictResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_RETURN_IF_ERROR(CheckSetup("Predict"));
      for (double u : block_->TestPartial()) response->add_partial(u);
      return OkStatus();
    });
  }

  grpc::Status Finish(grpc::ServerContext* context, const rpc::FinishRequest*,
                      rpc::FinishResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_RETURN_IF_ERROR(CheckSetup("Finish"));
      if (!out_.empty()) {
        PartyModel model;
        model.party = std::string("b");
        model.model = setup_.model();
        model.feature_names = table_.feature_names;
        model.coefficients = block_->theta();
        model.scaling = block_->scaling();
        model.iterations = iterations_;
        COLONY_RETURN_IF_ERROR(WritePartyModel(out_, model));
      }
      response->set_iterations(iterations_);
      std::printf("party b: finished after %d iterations%s%s\n", iterations_,
                  out_.empty() ? "" : "; model written to ", out_.c_str());
      std::fflush(stdout);
      session_.Finish();
      return OkStatus();
    });
  }

  grpc::Status Health(grpc::ServerContext* context, const rpc::HealthRequest*,
                      rpc::HealthResponse* response) override {
    return Serve(context, [&]() -> Status {
      response->set_status("serving");
      return OkStatus();
    });
  }

  Status Wait(const std::atomic<bool>* stop) {
    return session_.Wait(
        stop, config_.party_b_idle_timeout_s, "party b stopped before party a finished",
        "party b: no call from party a for " + std::to_string(config_.party_b_idle_timeout_s) +
            " s (vertical.party_b.idle_timeout_s)");
  }

 private:
  Status CheckSetup(const char* call) const {
    if (!block_) return FailedPreconditionError(std::string(call) + " before Setup");
    return OkStatus();
  }

  Status Update(int iteration, std::vector<double> gradient, rpc::StepResponse* response) {
    const double moved = block_->Step(std::move(gradient), setup_.learning_rate());
    iterations_ = iteration;
    for (double u : block_->TrainPartial()) response->add_partial(u);
    response->set_max_update(moved);
    return OkStatus();
  }

  // One call at a time: A drives the session sequentially, and the state is small.
  template <typename Body>
  grpc::Status Serve(const grpc::ServerContext* context, Body&& body) {
    return colony::rpc::Serve(context, config_.security.token, [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      session_.Touch();
      return body();
    });
  }

  const VerticalConfig config_;
  const PartyTable table_;
  const std::string out_;
  std::mutex mu_;
  internal::SessionWaiter session_;
  std::optional<PartyBlock> block_;
  std::optional<PaillierPublicKey> key_;
  rpc::SetupRequest setup_;
  std::vector<std::vector<int64_t>> weights_;
  std::vector<std::string> masks_;
  int mask_iteration_ = -1;
  int iterations_ = 0;
};

using GrpcPartyB = internal::Served<VerticalPartyB, Service>;

}  // namespace

StatusOr<std::unique_ptr<VerticalPartyB>> VerticalPartyB::Start(const VerticalConfig& config,
                                                                const PartyBOptions& options) {
  COLONY_ASSIGN_OR_RETURN(PartyTable table, LoadPartyTable(config.party_b));
  if (table.skipped_lines > 0) {
    std::fprintf(stderr, "party b: skipped %lld malformed data lines; first: %s\n",
                 static_cast<long long>(table.skipped_lines), table.skipped_example.c_str());
  }
  auto tap = std::make_unique<internal::MessageTap>("b", options.observer);
  auto service = std::make_unique<Service>(config, std::move(table), options.out);
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<colony::rpc::Server> server,
                          internal::StartServer("party b", options.address, service.get(),
                                                rpc::VerticalParty::service_full_name(), tap.get(),
                                                config.security, options.limits));
  return std::unique_ptr<VerticalPartyB>(
      new GrpcPartyB(std::move(tap), std::move(service), std::move(server)));
}

}  // namespace colony::fl
