// The horizontal FL master: instruction, confirmations, rounds of local training and
// aggregation, with children that fail or time out left out of the round.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "colony/base/json_util.h"
#include "colony/exec/compute_threads.h"
#include "colony/federated/horizontal.h"
#include "colony/federated/internal/hfl_model.h"
#include "colony/federated/internal/rpc_util.h"
#include "colony/federated/internal/scaffold.h"
#include "colony/federated/internal/secure_mask.h"
#include "colony/horizontal.grpc.pb.h"
#include "colony/rpc/token.h"

namespace colony::fl {
namespace {

using Clock = std::chrono::steady_clock;
namespace rpc = ::colony::fl::hrpc;

constexpr int kFashionMnistDim = 28 * 28;
constexpr int kClasses = 10;

Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return OkStatus();
  return Status(static_cast<StatusCode>(status.error_code()), what + ": " + status.error_message());
}

// Runs `call(i)` for each child index in `who` on its own thread and waits for all.
void ForEachChild(const std::vector<int>& who, const std::function<void(int)>& call) {
  std::vector<std::thread> threads;
  for (int i : who) threads.emplace_back([&call, i] { call(i); });
  for (std::thread& t : threads) t.join();
}

// `count` of `from` drawn without replacement for `round`, in index order; all when count is 0
// or not below their number.
std::vector<int> ChildrenOfRound(const std::vector<int>& from, int count, uint64_t seed,
                                 int round) {
  if (count <= 0 || count >= static_cast<int>(from.size())) return from;
  std::vector<int> drawn = from;
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(round));
  std::shuffle(drawn.begin(), drawn.end(), rng);
  drawn.resize(count);
  std::sort(drawn.begin(), drawn.end());
  return drawn;
}

std::string Join(const std::vector<int>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out.append(std::to_string(values[i]));
  }
  return out;
}

}  // namespace

StatusOr<MasterResult> RunHorizontalMaster(const HorizontalConfig& config,
                                           const MasterOptions& options) {
  const auto start = Clock::now();
  const int k = static_cast<int>(options.children.size());
  if (k == 0) return InvalidArgumentError("the master needs at least one child address (--child)");
  const HorizontalTrainOptions& train = config.train;
  const int quorum = train.quorum == 0 ? k : train.quorum;
  if (quorum > k) {
    return InvalidArgumentError("train.quorum " + std::to_string(quorum) + " exceeds the " +
                                std::to_string(k) + " children given");
  }
  auto log = [&](const std::string& line) {
    if (options.quiet) return;
    std::printf("master: %s\n", line.c_str());
    std::fflush(stdout);
  };
  exec::SetUpCompute(/*threads=*/1);  // One intra-op thread: the nodes share a few cores.
  // The initial shared parameters (the encoder's; with share_head also the head's, which is
  // drawn from train.seed too).
  std::vector<float> encoder;
  {
    COLONY_ASSIGN_OR_RETURN(
        std::unique_ptr<internal::EncoderModel> initial,
        internal::EncoderModel::Create(kFashionMnistDim, config.encoder, kClasses, train, 0));
    encoder = initial->SharedParameters();
  }
  std::vector<float> velocity;  // FedAvgM's server momentum.
  std::vector<float> control;   // SCAFFOLD's global control variate c.
  if (train.scaffold) control.assign(encoder.size(), 0.0f);

  MasterResult result;
  result.encoder_type = config.encoder.TypeName(kFashionMnistDim);
  result.aggregation = train.aggregation;
  result.sample_counts.assign(k, -1);
  std::vector<std::unique_ptr<rpc::HorizontalChild::Stub>> stubs;
  for (size_t i = 0; i < options.children.size(); ++i) {
    COLONY_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                            internal::MakeChannel("master to child " + std::to_string(i),
                                                  options.children[i], config.security, nullptr));
    stubs.push_back(rpc::HorizontalChild::NewStub(channel));
  }
  auto deadline_context = [&](grpc::ClientContext* context) {
    colony::rpc::AddToken(context, config.security.token);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::duration<double>(train.round_timeout_s)));
  };
  auto what = [&](int i) { return "child " + std::to_string(i) + " at " + options.children[i]; };

  // Instruction and confirmations.
  std::vector<int> all(k);
  for (int i = 0; i < k; ++i) all[i] = i;
  std::vector<std::string> refusals(k);
  std::vector<std::string> public_keys(k);
  log("instructing " + std::to_string(k) + " children to train shared encoder '" +
      result.encoder_type + "'");
  ForEachChild(all, [&](int i) {
    rpc::InstructRequest request;
    request.set_encoder_type(result.encoder_type);
    request.set_num_parameters(static_cast<int32_t>(encoder.size()));
    rpc::InstructResponse response;
    grpc::ClientContext context;
    deadline_context(&context);
    context.set_wait_for_ready(true);
    const Status status = FromGrpc(stubs[i]->Instruct(&context, request, &response), what(i));
    if (!status.ok()) {
      refusals[i] = status.ToString();
    } else if (!response.confirmed()) {
      refusals[i] = what(i) + ": " + response.reason();
    } else {
      result.sample_counts[i] = response.sample_count();
      public_keys[i] = response.public_key();
    }
  });
  std::vector<int> confirmed;
  for (int i = 0; i < k; ++i) {
    if (result.sample_counts[i] >= 0) {
      confirmed.push_back(i);
    } else {
      log("left out: " + refusals[i]);
    }
  }
  if (static_cast<int>(confirmed.size()) < quorum) {
    std::string first;
    for (const std::string& r : refusals)
      if (!r.empty() && first.empty()) first = r;
    return UnavailableError(std::to_string(confirmed.size()) + " of " + std::to_string(k) +
                            " children confirmed, quorum is " + std::to_string(quorum) +
                            "; first refusal: " + first);
  }
  log(std::to_string(confirmed.size()) + " children confirmed; sending the initial parameters (" +
      std::to_string(encoder.size()) + " values)");

  // Secure aggregation: the sum of the responders' masked fixed-point vectors (`dim` values:
  // the update, then with SCAFFOLD the control variate update), with the masks toward children
  // that did not answer removed by asking the responders for them. The master never sees one
  // child's vector unmasked.
  auto SecureSum = [&](int round, const std::vector<int>& asked, const std::vector<int>& answered,
                       const std::vector<rpc::TrainResponse>& responses,
                       size_t dim) -> StatusOr<std::vector<uint64_t>> {
    std::vector<uint64_t> sum(dim, 0);
    for (int i : answered) {
      if (static_cast<size_t>(responses[i].masked_size()) != dim) {
        return InvalidArgumentError(what(i) + " sent " +
                                    std::to_string(responses[i].masked_size()) +
                                    " masked values, expected " + std::to_string(dim));
      }
      for (size_t j = 0; j < dim; ++j) sum[j] += responses[i].masked(j);
    }
    rpc::UnmaskRequest request;
    request.set_round(round);
    request.set_dim(static_cast<int64_t>(dim));
    for (int i : asked) {
      if (std::find(answered.begin(), answered.end(), i) != answered.end()) continue;
      request.add_dropped(i);
      request.add_dropped_keys(public_keys[i]);
    }
    if (request.dropped_size() > 0) {
      std::vector<rpc::UnmaskResponse> masks(k);
      std::vector<Status> statuses(k);
      ForEachChild(answered, [&](int i) {
        grpc::ClientContext context;
        deadline_context(&context);
        statuses[i] = FromGrpc(stubs[i]->Unmask(&context, request, &masks[i]), what(i));
      });
      for (int i : answered) {
        if (!statuses[i].ok() || static_cast<size_t>(masks[i].mask_size()) != dim) {
          return AbortedError("cannot remove the masks toward the children that did not answer: " +
                              (statuses[i].ok() ? what(i) + " sent a mask of the wrong size"
                                                : statuses[i].ToString()));
        }
        for (size_t j = 0; j < dim; ++j) sum[j] -= masks[i].mask(j);
      }
    }
    return sum;
  };
  const auto rounds_start = Clock::now();
  for (int round = 1; round <= train.rounds; ++round) {
    const std::vector<int> asked =
        ChildrenOfRound(confirmed, train.children_per_round, train.seed, round);
    const size_t round_quorum = train.quorum == 0 ? asked.size() : train.quorum;
    std::vector<rpc::TrainResponse> responses(k);
    std::vector<Status> statuses(k);
    ForEachChild(asked, [&](int i) {
      rpc::TrainRequest request;
      request.set_round(round);
      request.set_local_epochs(train.local_epochs);
      request.set_local_steps(train.local_steps);
      request.set_learning_rate_scale(
          train.LearningRateScale(static_cast<double>(round - 1) / train.rounds));
      request.mutable_parameters()->Assign(encoder.begin(), encoder.end());
      if (train.scaffold) {
        request.set_scaffold(true);
        request.mutable_control()->Assign(control.begin(), control.end());
        request.set_control_weight_samples(train.scaffold_weights == "samples");
      }
      if (train.secure_aggregation) {
        request.set_secure(true);
        for (int j : asked) {
          request.add_peers(j);
          request.add_peer_keys(public_keys[j]);
        }
      }
      grpc::ClientContext context;
      deadline_context(&context);
      statuses[i] = FromGrpc(stubs[i]->Train(&context, request, &responses[i]), what(i));
    });
    RoundStats stats;
    stats.round = round;
    std::vector<std::vector<float>> updates, control_deltas;
    std::vector<double> weights;
    double previous_accuracy = 0, previous_local = 0, loss = 0;
    for (int i : asked) {
      if (!statuses[i].ok()) {
        log("round " + std::to_string(round) + ": left out " + statuses[i].ToString());
        continue;
      }
      const rpc::TrainResponse& r = responses[i];
      stats.participants.push_back(i);
      if (train.secure_aggregation) {
        updates.emplace_back();  // The masked update stays in `r`.
      } else {
        updates.emplace_back(r.parameters().begin(), r.parameters().end());
      }
      if (train.scaffold && !train.secure_aggregation)
        control_deltas.emplace_back(r.control_delta().begin(), r.control_delta().end());
      weights.push_back(static_cast<double>(r.sample_count()));
      previous_accuracy += r.eval_accuracy() * static_cast<double>(r.sample_count());
      previous_local += r.eval_local_accuracy() * static_cast<double>(r.sample_count());
      loss += r.train_loss() * static_cast<double>(r.sample_count());
    }
    if (stats.participants.size() < round_quorum) {
      return AbortedError("round " + std::to_string(round) + " got " +
                          std::to_string(stats.participants.size()) + " of " +
                          std::to_string(asked.size()) + " updates, quorum is " +
                          std::to_string(round_quorum) + " (train.quorum)");
    }
    double total = 0;
    for (double w : weights) total += w;
    stats.train_loss = total > 0 ? loss / total : 0;
    if (round > 1 && total > 0) {
      result.rounds.back().test_accuracy = previous_accuracy / total;
      result.rounds.back().local_accuracy = previous_local / total;
    }
    const std::string in_round = "round " + std::to_string(round);
    StatusOr<std::vector<float>> next = std::vector<float>();
    std::vector<float> secure_control_sum;  // sum_i w_i delta_c_i, SCAFFOLD under masks.
    if (train.secure_aggregation) {
      const size_t dim = encoder.size();
      StatusOr<std::vector<uint64_t>> sum =
          SecureSum(round, asked, stats.participants, responses, train.scaffold ? 2 * dim : dim);
      if (!sum.ok()) return sum.status().WithContext(in_round);
      next = internal::DecodeFixed(std::span<const uint64_t>(sum->data(), dim), total);
      if (train.scaffold) {
        secure_control_sum = internal::DecodeFixed(std::span(sum->data() + dim, dim), 1.0);
      }
    } else {
      next = Aggregate(train.aggregation, updates, weights, train.trim_fraction);
    }
    if (!next.ok()) return next.status().WithContext(in_round);
    if (train.server_momentum > 0) {
      // v = beta v + (w - aggregate); w -= v.
      velocity.resize(encoder.size(), 0.0f);
      const float beta = static_cast<float>(train.server_momentum);
      for (size_t j = 0; j < encoder.size(); ++j) {
        velocity[j] = beta * velocity[j] + (encoder[j] - (*next)[j]);
        encoder[j] -= velocity[j];
      }
    } else {
      encoder = std::move(next).value();
    }
    std::string scaffold;
    if (train.scaffold) {
      // c += sum over the answering children of w_i delta_c_i / (sum over all children of w_i):
      // w_i = 1 ("children", the paper's (participants / children) * mean(delta_c)) or the
      // sample count ("samples").
      std::vector<double> control_weights = weights;
      double total_weight = 0;
      for (int i : confirmed) total_weight += static_cast<double>(result.sample_counts[i]);
      if (train.scaffold_weights == "children") {
        control_weights.assign(weights.size(), 1.0);
        total_weight = static_cast<double>(confirmed.size());
      }
      if (train.secure_aggregation) {
        // The masked sum already holds sum_i w_i delta_c_i.
        control_deltas = {std::move(secure_control_sum)};
        control_weights = {1.0};
      }
      const Status updated =
          internal::ScaffoldMasterUpdate(control_deltas, control_weights, total_weight, &control);
      if (!updated.ok()) return updated.WithContext(in_round);
      double norm = 0;
      for (float v : control) norm += static_cast<double>(v) * v;
      scaffold = ", |c| " + std::to_string(std::sqrt(norm));
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - rounds_start).count();
    const double eta = elapsed / round * (train.rounds - round);
    char timing[64];
    std::snprintf(timing, sizeof(timing), " (%.1f s, ETA %.0f s)", elapsed, eta);
    log("round " + std::to_string(round) + "/" + std::to_string(train.rounds) + ": aggregated " +
        std::to_string(updates.size()) + " updates (children " + Join(stats.participants) +
        ") by " + train.aggregation + ", local loss " + std::to_string(stats.train_loss) +
        scaffold + timing);
    result.rounds.push_back(stats);
  }

  // The final encoder, evaluated by every confirmed child with its own head.
  std::vector<rpc::EvaluateResponse> evaluations(k);
  std::vector<Status> statuses(k);
  ForEachChild(confirmed, [&](int i) {
    rpc::EvaluateRequest request;
    request.mutable_parameters()->Assign(encoder.begin(), encoder.end());
    grpc::ClientContext context;
    deadline_context(&context);
    statuses[i] = FromGrpc(stubs[i]->Evaluate(&context, request, &evaluations[i]), what(i));
  });
  double accuracy = 0, local = 0, total = 0;
  for (int i : confirmed) {
    if (!statuses[i].ok()) {
      log("evaluation: left out " + statuses[i].ToString());
      continue;
    }
    accuracy += evaluations[i].accuracy() * static_cast<double>(result.sample_counts[i]);
    local += evaluations[i].local_accuracy() * static_cast<double>(result.sample_counts[i]);
    total += static_cast<double>(result.sample_counts[i]);
  }
  if (!(total > 0)) return AbortedError("no child answered the final evaluation");
  result.test_accuracy = accuracy / total;
  result.local_accuracy = local / total;
  result.rounds.back().test_accuracy = result.test_accuracy;
  result.rounds.back().local_accuracy = result.local_accuracy;
  ForEachChild(all, [&](int i) {
    rpc::FinishResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    colony::rpc::AddToken(&context, config.security.token);
    (void)stubs[i]->Finish(&context, rpc::FinishRequest(), &response);
  });
  result.encoder = std::move(encoder);
  result.control = std::move(control);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log("done after " + std::to_string(train.rounds) + " rounds: test accuracy " +
      std::to_string(result.test_accuracy));
  return result;
}

nlohmann::json MasterResult::ToJson() const {
  nlohmann::json json = {{"encoder_type", encoder_type},
                         {"aggregation", aggregation},
                         {"sample_counts", sample_counts},
                         {"rounds", rounds.size()},
                         {"master_seconds", seconds}};
  SetMetric(json, "test_accuracy", test_accuracy);
  SetMetric(json, "local_accuracy", local_accuracy);
  std::vector<double> accuracy, local, loss;
  nlohmann::json participants = nlohmann::json::array();
  for (const RoundStats& r : rounds) {
    accuracy.push_back(r.test_accuracy);
    local.push_back(r.local_accuracy);
    loss.push_back(r.train_loss);
    participants.push_back(r.participants);
  }
  SetMetrics(json, "round_accuracy", accuracy);
  SetMetrics(json, "round_local_accuracy", local);
  SetMetrics(json, "round_train_loss", loss);
  json["round_participants"] = std::move(participants);
  return json;
}

StatusOr<MasterResult> MasterResult::FromJson(const nlohmann::json& json, std::string_view source) {
  const char* key = "";
  try {
    MasterResult r;
    r.encoder_type = json.at(key = "encoder_type").get<std::string>();
    r.aggregation = json.at(key = "aggregation").get<std::string>();
    r.sample_counts = json.at(key = "sample_counts").get<std::vector<int64_t>>();
    r.test_accuracy = MetricValue(json.at(key = "test_accuracy"));
    r.local_accuracy = MetricValue(json.at(key = "local_accuracy"));
    r.seconds = json.at(key = "master_seconds").get<double>();
    const nlohmann::json& accuracy = json.at(key = "round_accuracy");
    const nlohmann::json& local = json.at(key = "round_local_accuracy");
    const nlohmann::json& loss = json.at(key = "round_train_loss");
    const nlohmann::json& participants = json.at(key = "round_participants");
    key = "round_*";
    if (local.size() != accuracy.size() || loss.size() != accuracy.size() ||
        participants.size() != accuracy.size()) {
      return InvalidArgumentError(
          fmt::format("{}: not a master result: the round_* lists differ in length", source));
    }
    for (size_t i = 0; i < accuracy.size(); ++i) {
      RoundStats s;
      s.round = static_cast<int>(i) + 1;
      s.test_accuracy = MetricValue(accuracy[i]);
      s.local_accuracy = MetricValue(local[i]);
      s.train_loss = MetricValue(loss[i]);
      s.participants = participants[i].get<std::vector<int>>();
      r.rounds.push_back(std::move(s));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(
        fmt::format("{}: not a master result: key '{}': {}", source, key, e.what()));
  }
}

}  // namespace colony::fl
