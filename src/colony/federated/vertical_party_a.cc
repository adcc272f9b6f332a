// Party A: holds X_A and y, drives the session; never sends a feature row or a label.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "colony/federated.grpc.pb.h"
#include "colony/federated/internal/dense_math.h"
#include "colony/federated/internal/party_block.h"
#include "colony/federated/internal/rpc_util.h"
#include "colony/federated/paillier.h"
#include "colony/federated/vertical.h"
#include "colony/rpc/grpc_status.h"
#include "colony/rpc/token.h"

namespace colony::fl {
namespace {

using internal::PartyBlock;

// The client side of one session: each call with the configured deadline.
class PeerB {
 public:
  PeerB(const std::string& address, double timeout_s, const ServiceSecurity& security,
        std::shared_ptr<grpc::Channel> channel)
      : address_(address),
        timeout_s_(timeout_s),
        security_(security),
        stub_(rpc::VerticalParty::NewStub(std::move(channel))) {}

  template <typename Request, typename Response, typename Method>
  Status Call(Method method, const char* name, const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::microseconds(static_cast<int64_t>(timeout_s_ * 1e6)));
    colony::rpc::AddToken(&context, security_.token);
    const grpc::Status status = (stub_.get()->*method)(&context, request, response);
    received_ += static_cast<int64_t>(response->ByteSizeLong());
    Status s =
        colony::rpc::FromGrpcStatus(status, std::string(name) + " to party b at " + address_);
    if (IsUnavailable(s)) {
      s = Status(s.code(), std::string(s.message()) +
                               " (is party b running there? start it first with colony fl "
                               "vertical --role b)");
    }
    return s;
  }

  rpc::VerticalParty::Stub* stub() { return stub_.get(); }
  int64_t received() const { return received_; }

 private:
  std::string address_;
  double timeout_s_;
  ServiceSecurity security_;
  std::unique_ptr<rpc::VerticalParty::Stub> stub_;
  int64_t received_ = 0;
};

Status CheckSize(size_t got, size_t want, const std::string& what) {
  if (got == want) return OkStatus();
  return InternalError("party b sent " + std::to_string(got) + " " + what + ", expected " +
                       std::to_string(want));
}

// Loss of the estimate z (the sum of both parties' partial products) against y.
double Loss(const std::string& model, std::span<const double> z, std::span<const double> y) {
  double total = 0.0;
  for (size_t i = 0; i < z.size(); ++i) {
    if (model == "linear") {
      total += 0.5 * (z[i] - y[i]) * (z[i] - y[i]);
    } else {
      const double p = std::clamp(internal::Sigmoid(z[i]), 1e-15, 1 - 1e-15);
      total -= y[i] * std::log(p) + (1 - y[i]) * std::log(1 - p);
    }
  }
  return z.empty() ? 0.0 : total / static_cast<double>(z.size());
}

}  // namespace

StatusOr<PartyAResult> RunVerticalPartyA(const VerticalConfig& config,
                                         const PartyAOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const VerticalTrainOptions& t = config.train;
  COLONY_RETURN_IF_ERROR(t.Validate());
  COLONY_ASSIGN_OR_RETURN(PartyTable table, LoadPartyTable(config.party_a));
  if (table.skipped_lines > 0) {
    std::fprintf(stderr, "party a: skipped %lld malformed data lines; first: %s\n",
                 static_cast<long long>(table.skipped_lines), table.skipped_example.c_str());
  }
  if (t.model == "logistic") {
    for (size_t i = 0; i < table.labels.size(); ++i) {
      if (table.labels[i] != 0.0 && table.labels[i] != 1.0) {
        return InvalidArgumentError("logistic needs labels 0 or 1; sample id " +
                                    std::to_string(table.ids[i]) + " has " +
                                    std::to_string(table.labels[i]));
      }
    }
  }
  const std::string peer_address = options.peer.empty() ? config.party_b_address : options.peer;
  internal::MessageTap tap("a", options.observer);
  COLONY_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> channel,
      internal::MakeChannel("party a to party b", peer_address, config.security, &tap));
  PeerB peer(peer_address, t.rpc_timeout_s, config.security, std::move(channel));
  using Stub = rpc::VerticalParty::Stub;

  // 1. Align ids (a plain intersection; a private set intersection would hide the rest).
  rpc::IdsResponse ids;
  COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Ids, "Ids", rpc::IdsRequest(), &ids));
  const std::set<uint64_t> theirs(ids.ids().begin(), ids.ids().end());
  std::vector<uint64_t> common;
  for (uint64_t id : std::set<uint64_t>(table.ids.begin(), table.ids.end())) {
    if (theirs.count(id)) common.push_back(id);
  }
  if (common.empty()) {
    return FailedPreconditionError("parties a and b share no sample id (a holds " +
                                   std::to_string(table.rows()) + ", b " +
                                   std::to_string(theirs.size()) + "); check the id columns");
  }
  std::vector<uint64_t> train_ids, test_ids;
  SplitTrainTest(common, t.test_fraction, t.seed, &train_ids, &test_ids);
  COLONY_ASSIGN_OR_RETURN(
      PartyBlock block,
      PartyBlock::Create(table, train_ids, test_ids, /*intercept=*/true, t.model, t.l2, "party a"));
  const size_t m = train_ids.size();

  // 2. Setup, with the Paillier public key when encryption is on.
  std::optional<PaillierPrivateKey> key;
  rpc::SetupRequest setup;
  setup.set_model(t.model);
  for (uint64_t id : train_ids) setup.add_train_ids(id);
  for (uint64_t id : test_ids) setup.add_test_ids(id);
  setup.set_learning_rate(t.learning_rate);
  setup.set_l2(t.l2);
  if (config.paillier.enabled) {
    COLONY_ASSIGN_OR_RETURN(PaillierPrivateKey k,
                            PaillierPrivateKey::Generate(config.paillier.key_bits,
                                                         config.paillier.policy()));
    key = std::move(k);
    setup.set_paillier_n(key->public_key().n_bytes());
    setup.set_precision_bits(config.paillier.precision_bits);
  }
  rpc::SetupResponse setup_response;
  COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Setup, "Setup", setup, &setup_response));
  COLONY_RETURN_IF_ERROR(CheckSize(setup_response.partial_size(), m, "partial products"));
  std::vector<double> partial_b(setup_response.partial().begin(), setup_response.partial().end());
  const int b_features = setup_response.num_features();
  if (!options.quiet) {
    std::printf(
        "party a: %zu common ids (%zu train, %zu held out), a has %zu features, b %d; "
        "%s regression%s\n",
        common.size(), m, test_ids.size(), block.cols() - 1, b_features, t.model.c_str(),
        key ? ", Paillier on" : "");
    std::fflush(stdout);
  }

  const std::vector<double>& y = block.train_labels();
  auto estimate = [&](std::vector<double>* z, std::vector<double>* residual) {
    *z = block.TrainPartial();
    residual->resize(m);
    for (size_t i = 0; i < m; ++i) {
      (*z)[i] += partial_b[i];
      const double f = t.model == "linear" ? (*z)[i] : internal::Sigmoid((*z)[i]);
      (*residual)[i] = f - y[i];
    }
  };

  // 3. Iterate: A steps on theta_A with B's partial products, then sends the new residual.
  const double scale = key ? std::ldexp(1.0, config.paillier.precision_bits) : 1.0;
  // Residuals rounded to 2^-precision_bits keep the steps from shrinking much below that.
  const double tolerance = key ? std::max(t.tolerance, 1.0 / scale) : t.tolerance;
  const int log_every = t.log_every > 0 ? t.log_every : std::max(1, t.iterations / 10);
  PartyAResult result;
  std::vector<double> z, residual;
  int iteration = 0;
  const auto loop_start = std::chrono::steady_clock::now();
  for (iteration = 1; iteration <= t.iterations; ++iteration) {
    estimate(&z, &residual);
    double moved = block.Step(block.DataGradient(residual), t.learning_rate);
    estimate(&z, &residual);
    result.train_loss = Loss(t.model, z, y);
    rpc::StepRequest step;
    step.set_iteration(iteration);
    rpc::StepResponse response;
    if (!key) {
      for (double r : residual) step.add_residual(r);
      COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Step, "Step", step, &response));
    } else {
      for (double r : residual) {
        step.add_enc_residual(key->Encrypt(std::llround(r * scale)));
      }
      rpc::StepResponse masked;
      COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Step, "Step", step, &masked));
      COLONY_RETURN_IF_ERROR(
          CheckSize(masked.masked_gradient_size(), b_features, "masked gradients"));
      rpc::UnmaskRequest unmask;
      unmask.set_iteration(iteration);
      for (const std::string& c : masked.masked_gradient()) {
        COLONY_ASSIGN_OR_RETURN(std::string value, key->Decrypt(c));
        unmask.add_masked_gradient(std::move(value));
      }
      COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Unmask, "Unmask", unmask, &response));
    }
    COLONY_RETURN_IF_ERROR(CheckSize(response.partial_size(), m, "partial products"));
    partial_b.assign(response.partial().begin(), response.partial().end());
    moved = std::max(moved, response.max_update());
    result.converged = moved <= tolerance;
    if (!options.quiet && (iteration % log_every == 0 || result.converged)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("party a: iteration %d/%d loss %.8g max update %.3g (%.1f it/s)\n", iteration,
                  t.iterations, result.train_loss, moved, iteration / std::max(seconds, 1e-9));
      std::fflush(stdout);
    }
    if (result.converged) break;
  }
  result.iterations = std::min(iteration, t.iterations);
  result.iteration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();

  // 4. Evaluate on the held-out ids (or the training ids when none are held out).
  std::vector<double> eval_z, eval_y;
  if (!test_ids.empty()) {
    rpc::PredictResponse predicted;
    COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Predict, "Predict", rpc::PredictRequest(), &predicted));
    COLONY_RETURN_IF_ERROR(CheckSize(predicted.partial_size(), test_ids.size(), "predictions"));
    eval_z = block.TestPartial();
    for (size_t i = 0; i < eval_z.size(); ++i) eval_z[i] += predicted.partial(i);
    eval_y = block.test_labels();
  } else {
    estimate(&z, &residual);
    eval_z = z;
    eval_y = y;
  }
  const internal::FitQuality quality = internal::Evaluate(eval_z, eval_y);
  result.rmse = quality.rmse;
  if (t.model == "logistic") result.auc = quality.auc;
  rpc::FinishResponse finished;
  COLONY_RETURN_IF_ERROR(peer.Call(&Stub::Finish, "Finish", rpc::FinishRequest(), &finished));

  result.train_samples = static_cast<int>(m);
  result.test_samples = static_cast<int>(test_ids.size());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.bytes_sent = tap.bytes;
  result.bytes_received = peer.received();
  PartyModel& model = result.model;
  model.party = std::string("a");  // Not = "a": GCC 12 -Wrestrict false positive.
  model.model = t.model;
  model.feature_names = table.feature_names;
  model.intercept = block.theta()[0];
  model.coefficients.assign(block.theta().begin() + 1, block.theta().end());
  model.scaling = block.scaling();
  model.iterations = result.iterations;
  model.metrics = {{"iterations", result.iterations},
                   {"converged", result.converged ? 1 : 0},
                   {"train_samples", result.train_samples},
                   {"test_samples", result.test_samples},
                   {"train_loss", result.train_loss},
                   {"auc", result.auc},
                   {"rmse", result.rmse},
                   {"seconds", result.seconds},
                   {"iteration_seconds", result.iteration_seconds},
                   {"bytes_sent", static_cast<double>(result.bytes_sent)},
                   {"bytes_received", static_cast<double>(result.bytes_received)}};
  if (!options.out.empty()) COLONY_RETURN_IF_ERROR(WritePartyModel(options.out, model));
  if (!options.quiet) {
    std::printf(
        "party a: done after %d iterations (%s) in %.2f s: train loss %.8g, %s %.6g; "
        "%lld bytes sent, %lld received\n",
        result.iterations, result.converged ? "converged" : "iteration limit", result.seconds,
        result.train_loss, t.model == "logistic" ? "auc" : "rmse",
        t.model == "logistic" ? result.auc : result.rmse, static_cast<long long>(result.bytes_sent),
        static_cast<long long>(result.bytes_received));
    std::fflush(stdout);
  }
  return result;
}

}  // namespace colony::fl
