// `colony fl simulate`: K children and the master as child processes on 127.0.0.1, then the
// same model trained centrally on the union of the children's samples.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/cluster/child_process.h"
#include "colony/exec/compute_threads.h"
#include "colony/federated/horizontal.h"
#include "colony/federated/internal/hfl_model.h"

namespace colony::fl {
namespace {

using Clock = std::chrono::steady_clock;
using cluster::ChildProcess;

// Reads the master's --out file back.
StatusOr<MasterResult> ReadMasterResult(const std::string& path) {
  COLONY_ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  return MasterResult::FromJson(json, path);
}

}  // namespace

StatusOr<CentralResult> TrainCentral(const HorizontalConfig& config, int children) {
  exec::SetUpCompute(/*threads=*/1);  // One intra-op thread: the nodes share a few cores.
  const HorizontalDataOptions& d = config.data;
  COLONY_ASSIGN_OR_RETURN(ImageSet train, LoadFashionMnist(d.dir, true, d.train_samples));
  COLONY_ASSIGN_OR_RETURN(ImageSet test, LoadFashionMnist(d.dir, false, d.test_samples));
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<internal::EncoderModel> model,
      internal::EncoderModel::Create(train.dim, config.encoder, 10, config.train, 0));
  const HorizontalTrainOptions& t = config.train;
  const int64_t asked =
      t.children_per_round > 0 ? std::min(t.children_per_round, children) : children;
  // As many samples as the children asked take in all rounds, in epochs rounded up.
  int64_t epochs = (int64_t{t.rounds} * t.local_epochs * asked + children - 1) / children;
  if (t.local_steps > 0) {
    const int64_t samples = int64_t{t.rounds} * asked * t.local_steps * t.batch_size;
    epochs = (samples + train.rows() - 1) / train.rows();
  }
  epochs = std::max<int64_t>(1, epochs);
  for (int64_t e = 0; e < epochs; ++e) {
    model->SetLearningRate(t.learning_rate * t.LearningRateScale(static_cast<double>(e) / epochs));
    COLONY_ASSIGN_OR_RETURN(const double loss, model->Train(train, 1, 0, t.seed * 7919 + e));
    std::printf("central: epoch %lld/%lld on %d samples, loss %.4f\n",
                static_cast<long long>(e + 1), static_cast<long long>(epochs), train.rows(), loss);
    std::fflush(stdout);
  }
  CentralResult result;
  COLONY_ASSIGN_OR_RETURN(result.accuracy, model->Accuracy(test));
  COLONY_ASSIGN_OR_RETURN(const std::vector<double> per_class, model->ClassAccuracy(test));
  for (int label : train.labels) result.local_accuracy += per_class[label] / train.rows();
  return result;
}

StatusOr<HorizontalSummary> SimulateHorizontal(const HorizontalSimulateOptions& options) {
  const auto start = Clock::now();
  if (options.out_dir.empty()) return InvalidArgumentError("simulate needs an output folder");
  COLONY_ASSIGN_OR_RETURN(HorizontalConfig config,
                          LoadHorizontalConfig(options.config_path, options.overrides));
  const int k = options.children > 0 ? options.children : config.children.count;
  COLONY_RETURN_IF_ERROR(MakeDirs(options.out_dir));
  auto command = [&](const std::vector<std::string>& head) {
    // `fl child|master CONFIG` first: --child and --set take every value that follows.
    std::vector<std::string> argv = {options.binary, "fl", head[0], options.config_path};
    argv.insert(argv.end(), head.begin() + 1, head.end());
    for (const std::string& o : options.overrides) {
      argv.push_back("--set");
      argv.push_back(o);
    }
    return argv;
  };
  std::printf("simulate: starting %d children, then the master, on 127.0.0.1\n", k);
  std::fflush(stdout);
  std::vector<std::unique_ptr<ChildProcess>> children;
  std::vector<std::string> addresses;
  auto listening = [](int i) { return "child " + std::to_string(i) + " listening on "; };
  for (int i = 0; i < k; ++i) {
    COLONY_ASSIGN_OR_RETURN(
        std::unique_ptr<ChildProcess> child,
        ChildProcess::Spawn({.name = "child " + std::to_string(i),
                             .argv = command({"child", "--index", std::to_string(i), "--children",
                                              std::to_string(k), "--listen", "127.0.0.1:0"}),
                             .env = {},
                             .awaited_prefixes = {listening(i)}},
                            cluster::PrintPrefixedLine));
    children.push_back(std::move(child));
  }
  for (int i = 0; i < k; ++i) {
    COLONY_ASSIGN_OR_RETURN(std::string address,
                            children[i]->AwaitLine(listening(i), std::chrono::seconds(120)));
    addresses.push_back(address);
  }
  const std::string out = options.out_dir + "/master.json";
  std::vector<std::string> master_args = {"master", "--out", out};
  for (const std::string& a : addresses) {
    master_args.push_back("--child");
    master_args.push_back(a);
  }
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<ChildProcess> master,
      ChildProcess::Spawn(
          {.name = "master", .argv = command(master_args), .env = {}, .awaited_prefixes = {}},
          cluster::PrintPrefixedLine));
  COLONY_ASSIGN_OR_RETURN(int master_exit,
                          master->Wait(std::chrono::duration<double>(options.timeout_s)));
  if (master_exit != 0) {
    return AbortedError("the master exited with status " + std::to_string(master_exit) +
                        "; its output is above, prefixed [master]");
  }
  for (int i = 0; i < k; ++i) {
    // A child the master left out may still be busy; it has no result to give.
    StatusOr<int> exit = children[i]->Wait(std::chrono::seconds(30));
    if (exit.ok() && *exit != 0) {
      std::printf("simulate: child %d exited with status %d\n", i, *exit);
    }
  }
  HorizontalSummary summary;
  COLONY_ASSIGN_OR_RETURN(summary.master, ReadMasterResult(out));
  summary.children = k;
  summary.split = config.data.split;
  summary.alpha = config.data.alpha;
  if (options.central) {
    std::printf("simulate: training the same model centrally on the union of the samples\n");
    std::fflush(stdout);
    COLONY_ASSIGN_OR_RETURN(summary.central, TrainCentral(config, k));
  }
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "simulate: after %zu rounds: federated accuracy %.4f (central %.4f); on each child's label "
      "distribution %.4f (central %.4f)\n",
      summary.master.rounds.size(), summary.master.test_accuracy, summary.central.accuracy,
      summary.master.local_accuracy, summary.central.local_accuracy);
  std::fflush(stdout);
  return summary;
}

nlohmann::json HorizontalSummary::ToJson() const {
  nlohmann::json json = master.ToJson();
  std::vector<size_t> participants;
  for (const RoundStats& r : master.rounds) participants.push_back(r.participants.size());
  json["round_participants"] = participants;
  json["children"] = children;
  json["split"] = split;
  json["alpha"] = alpha;
  SetMetric(json, "central_accuracy", central.accuracy);
  SetMetric(json, "central_local_accuracy", central.local_accuracy);
  json["seconds"] = seconds;
  return json;
}

}  // namespace colony::fl
