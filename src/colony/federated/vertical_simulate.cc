// `colony fl vertical simulate`: both parties as child processes on 127.0.0.1, then the
// comparison with the same model fitted centrally on the joined columns.

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/cluster/child_process.h"
#include "colony/federated/internal/dense_math.h"
#include "colony/federated/vertical.h"

namespace colony::fl {
namespace {

using Clock = std::chrono::steady_clock;
using cluster::ChildProcess;

double Metric(const PartyModel& m, const std::string& key) {
  for (const auto& [name, value] : m.metrics)
    if (name == key) return value;
  return 0.0;
}

}  // namespace

StatusOr<VerticalSummary> CompareWithCentral(const VerticalConfig& config, const PartyAResult& a,
                                             const PartyModel& b) {
  COLONY_ASSIGN_OR_RETURN(PartyTable table_a, LoadPartyTable(config.party_a));
  COLONY_ASSIGN_OR_RETURN(PartyTable table_b, LoadPartyTable(config.party_b));
  const std::set<uint64_t> b_ids(table_b.ids.begin(), table_b.ids.end());
  std::vector<uint64_t> common;
  for (uint64_t id : std::set<uint64_t>(table_a.ids.begin(), table_a.ids.end())) {
    if (b_ids.count(id)) common.push_back(id);
  }
  std::vector<uint64_t> train_ids, test_ids;
  SplitTrainTest(common, config.train.test_fraction, config.train.seed, &train_ids, &test_ids);
  // The joined design [1, X_A, X_B], each party's columns standardized on the training rows
  // as the party does itself.
  auto joined = [&](const std::vector<uint64_t>& ids, const ColumnScaling& sa,
                    const ColumnScaling& sb, std::vector<double>* x,
                    std::vector<double>* y) -> Status {
    COLONY_ASSIGN_OR_RETURN(PartyTable ra, SelectRows(table_a, ids));
    COLONY_ASSIGN_OR_RETURN(PartyTable rb, SelectRows(table_b, ids));
    ApplyScaling(sa, ra.features);
    ApplyScaling(sb, rb.features);
    for (size_t i = 0; i < ids.size(); ++i) {
      x->push_back(1.0);
      x->insert(x->end(), ra.features.begin() + i * ra.cols(),
                ra.features.begin() + (i + 1) * ra.cols());
      x->insert(x->end(), rb.features.begin() + i * rb.cols(),
                rb.features.begin() + (i + 1) * rb.cols());
    }
    *y = ra.labels;
    return OkStatus();
  };
  COLONY_ASSIGN_OR_RETURN(PartyTable train_a, SelectRows(table_a, train_ids));
  COLONY_ASSIGN_OR_RETURN(PartyTable train_b, SelectRows(table_b, train_ids));
  const ColumnScaling sa = FitScaling(train_a.features, train_a.cols());
  const ColumnScaling sb = FitScaling(train_b.features, train_b.cols());
  const size_t cols = 1 + table_a.cols() + table_b.cols();
  std::vector<double> x, y;
  COLONY_RETURN_IF_ERROR(joined(train_ids, sa, sb, &x, &y));
  VerticalSummary summary;
  summary.party_a = a;
  summary.party_b = b;
  summary.paillier = config.paillier.enabled;
  StatusOr<std::vector<double>> central =
      config.train.model == "linear" ? internal::FitLinearCentral(x, cols, y, config.train.l2)
                                     : internal::FitLogisticCentral(x, cols, y, config.train.l2);
  if (!central.ok()) return central.status().WithContext("central fit on the joined columns");
  summary.central_coefficients = std::move(central).value();
  std::vector<double> federated = {a.model.intercept};
  federated.insert(federated.end(), a.model.coefficients.begin(), a.model.coefficients.end());
  federated.insert(federated.end(), b.coefficients.begin(), b.coefficients.end());
  if (federated.size() != cols) {
    return FailedPreconditionError("the parties' models have " + std::to_string(federated.size()) +
                                   " coefficients, the joined columns " + std::to_string(cols));
  }
  for (size_t j = 0; j < cols; ++j) {
    summary.max_abs_coef_diff = std::max(summary.max_abs_coef_diff,
                                         std::abs(federated[j] - summary.central_coefficients[j]));
  }
  std::vector<double> ex, ey;
  COLONY_RETURN_IF_ERROR(joined(test_ids.empty() ? train_ids : test_ids, sa, sb, &ex, &ey));
  const std::vector<double> z = internal::Times(ex, cols, summary.central_coefficients);
  const internal::FitQuality quality = internal::Evaluate(z, ey);
  summary.central_rmse = quality.rmse;
  if (config.train.model == "logistic") summary.central_auc = quality.auc;
  return summary;
}

StatusOr<VerticalSummary> SimulateVertical(const VerticalSimulateOptions& options) {
  const auto start = Clock::now();
  if (options.out_dir.empty()) return InvalidArgumentError("simulate needs an output folder");
  COLONY_ASSIGN_OR_RETURN(VerticalConfig config,
                          LoadVerticalConfig(options.config_path, options.overrides));
  COLONY_RETURN_IF_ERROR(MakeDirs(options.out_dir));
  const std::string a_out = options.out_dir + "/party_a.json";
  const std::string b_out = options.out_dir + "/party_b.json";
  auto command = [&](const std::string& role, const std::string& flag, const std::string& addr,
                     const std::string& out) {
    std::vector<std::string> argv = {options.binary,      "fl", "vertical", "--role", role,
                                     options.config_path, flag, addr,       "--out",  out};
    for (const std::string& o : options.overrides) {
      argv.push_back("--set");
      argv.push_back(o);
    }
    return argv;
  };
  std::printf("simulate: starting party b, then party a, on 127.0.0.1\n");
  std::fflush(stdout);
  constexpr char kListening[] = "party b listening on ";
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<ChildProcess> b,
      ChildProcess::Spawn({.name = "b",
                           .argv = command("b", "--listen", "127.0.0.1:0", b_out),
                           .env = {},
                           .awaited_prefixes = {kListening}},
                          cluster::PrintPrefixedLine));
  COLONY_ASSIGN_OR_RETURN(std::string b_address,
                          b->AwaitLine(kListening, std::chrono::seconds(60)));
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> a,
                          ChildProcess::Spawn({.name = "a",
                                               .argv = command("a", "--peer", b_address, a_out),
                                               .env = {},
                                               .awaited_prefixes = {}},
                                              cluster::PrintPrefixedLine));
  COLONY_ASSIGN_OR_RETURN(int a_exit, a->Wait(std::chrono::duration<double>(options.timeout_s)));
  if (a_exit != 0) {
    return AbortedError("party a exited with status " + std::to_string(a_exit) +
                        "; its output is above, prefixed [a]");
  }
  COLONY_ASSIGN_OR_RETURN(int b_exit, b->Wait(std::chrono::seconds(30)));
  if (b_exit != 0) {
    return AbortedError("party b exited with status " + std::to_string(b_exit) +
                        "; its output is above, prefixed [b]");
  }
  COLONY_ASSIGN_OR_RETURN(PartyModel model_a, ReadPartyModel(a_out));
  COLONY_ASSIGN_OR_RETURN(PartyModel model_b, ReadPartyModel(b_out));
  PartyAResult result;
  result.model = model_a;
  result.iterations = model_a.iterations;
  result.converged = Metric(model_a, "converged") != 0;
  result.train_samples = static_cast<int>(Metric(model_a, "train_samples"));
  result.test_samples = static_cast<int>(Metric(model_a, "test_samples"));
  result.train_loss = Metric(model_a, "train_loss");
  result.auc = Metric(model_a, "auc");
  result.rmse = Metric(model_a, "rmse");
  result.seconds = Metric(model_a, "seconds");
  result.iteration_seconds = Metric(model_a, "iteration_seconds");
  result.bytes_sent = static_cast<int64_t>(Metric(model_a, "bytes_sent"));
  result.bytes_received = static_cast<int64_t>(Metric(model_a, "bytes_received"));
  COLONY_ASSIGN_OR_RETURN(VerticalSummary summary, CompareWithCentral(config, result, model_b));
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (config.train.model == "linear") {
    std::printf("simulate: max |coefficient - least squares| = %.3g (%d iterations)\n",
                summary.max_abs_coef_diff, result.iterations);
  } else {
    std::printf("simulate: auc %.6f vs central %.6f; max |coefficient - central| = %.3g\n",
                result.auc, summary.central_auc, summary.max_abs_coef_diff);
  }
  std::fflush(stdout);
  return summary;
}

nlohmann::json VerticalSummary::ToJson() const {
  const PartyAResult& a = party_a;
  nlohmann::json json = {{"model", a.model.model},
                         {"paillier", paillier},
                         {"iterations", a.iterations},
                         {"converged", a.converged},
                         {"train_samples", a.train_samples},
                         {"test_samples", a.test_samples},
                         {"party_a_seconds", a.seconds},
                         {"iteration_seconds", a.iteration_seconds},
                         {"seconds", seconds},
                         {"bytes_a_to_b", a.bytes_sent},
                         {"bytes_b_to_a", a.bytes_received}};
  SetMetric(json, "train_loss", a.train_loss);
  if (a.model.model == "linear") {
    SetMetric(json, "max_abs_coef_diff_vs_ols", max_abs_coef_diff);
    SetMetric(json, "rmse", a.rmse);
    SetMetric(json, "central_rmse", central_rmse);
  } else {
    SetMetric(json, "max_abs_coef_diff_vs_central", max_abs_coef_diff);
    SetMetric(json, "auc", a.auc);
    SetMetric(json, "central_auc", central_auc);
  }
  return json;
}

}  // namespace colony::fl
