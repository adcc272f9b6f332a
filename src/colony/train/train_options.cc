#include "colony/train/train_options.h"

#include <algorithm>
#include <set>

#include "colony/rpc/loopback.h"
#include "colony/train/internal/heter_options.h"

namespace colony::train {

Status ReadOptimizer(const ConfigSection& s, ps::OptimizerOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("name", &o->name));
  COLONY_RETURN_IF_ERROR(s.Read("learning_rate", &o->learning_rate));
  COLONY_RETURN_IF_ERROR(s.Read("epsilon", &o->epsilon));
  COLONY_RETURN_IF_ERROR(s.Read("initial_accumulator", &o->initial_accumulator));
  COLONY_RETURN_IF_ERROR(s.Read("beta1", &o->beta1));
  COLONY_RETURN_IF_ERROR(s.Read("beta2", &o->beta2));
  COLONY_RETURN_IF_ERROR(s.Read("l1", &o->l1));
  COLONY_RETURN_IF_ERROR(s.Read("l2", &o->l2));
  COLONY_RETURN_IF_ERROR(s.Read("lr_power", &o->lr_power));
  COLONY_RETURN_IF_ERROR(s.Read("beta", &o->beta));
  Status valid = o->Validate();
  if (!valid.ok()) return InvalidArgumentError(s.Where("") + ": " + std::string(valid.message()));
  return OkStatus();
}

Status ReadLoop(const ConfigSection& s, LoopOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("epochs", &o->epochs));
  COLONY_RETURN_IF_ERROR(s.Read("seed", &o->seed));
  COLONY_RETURN_IF_ERROR(s.Read("threads", &o->threads));
  COLONY_RETURN_IF_ERROR(s.Read("max_steps", &o->max_steps));
  COLONY_RETURN_IF_ERROR(s.Read("log_every_seconds", &o->log_every_seconds));
  return OkStatus();
}

std::string ModelName(const Config& config) {
  std::string name;
  const ConfigSection model = config.Root().Section("model");
  if (!model.Has("name") || !model.Read("name", &name).ok()) return "";
  return name;
}

Status ValidateLoop(const LoopOptions& loop) {
  if (loop.epochs <= 0) {
    return InvalidArgumentError("train.epochs must be > 0, got " + std::to_string(loop.epochs));
  }
  if (loop.threads < 0 || loop.max_steps < 0) {
    return InvalidArgumentError("train.threads and train.max_steps must be >= 0");
  }
  if (loop.log_every_seconds <= 0) {
    return InvalidArgumentError("train.log_every_seconds must be > 0");
  }
  return OkStatus();
}

Status ReadPsConnection(const ConfigSection& s, PsOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("servers", &o->servers));
  COLONY_RETURN_IF_ERROR(s.Read("token", &o->token));
  COLONY_RETURN_IF_ERROR(s.Read("tls_ca", &o->tls_ca));
  COLONY_RETURN_IF_ERROR(s.Read("plaintext", &o->plaintext));
  COLONY_RETURN_IF_ERROR(s.Read("deadline_ms", &o->deadline_ms));
  COLONY_RETURN_IF_ERROR(s.Read("barrier_timeout_ms", &o->barrier_timeout_ms));
  COLONY_RETURN_IF_ERROR(s.Read("batch_dense", &o->batch_dense));
  return OkStatus();
}

Status ReadJobSection(const ConfigSection& s, std::string* dependencies) {
  return s.Read("dependencies", dependencies);
}

Status ValidateJobPlacement(const std::string& strategy, const std::vector<std::string>& strategies,
                            const PsOptions& ps, const WorkerOptions& worker,
                            const std::string& models) {
  if (std::find(strategies.begin(), strategies.end(), strategy) == strategies.end()) {
    std::string known;
    for (size_t i = 0; i < strategies.size(); ++i) {
      known += (i == 0 ? "'" : i + 1 == strategies.size() ? " or '" : ", '") + strategies[i] + "'";
    }
    const std::string for_models = models.empty() ? "" : " for " + models;
    return InvalidArgumentError("strategy must be " + known + for_models + ", got '" + strategy +
                                "'");
  }
  // local and heter (one worker) may train on tables embedded in the process.
  if (strategy != "local" && strategy != "heter" && ps.servers.empty()) {
    return InvalidArgumentError("strategy '" + strategy +
                                "' trains on parameter servers: set ps.servers, or start the job "
                                "with `colony launch --servers N --workers M CONFIG`");
  }
  if (worker.count < 1 || worker.rank < 0 || worker.rank >= worker.count) {
    return InvalidArgumentError("worker rank " + std::to_string(worker.rank) + " of " +
                                std::to_string(worker.count) + " workers is out of range");
  }
  if (strategy == "local" && worker.count > 1) {
    return InvalidArgumentError("strategy 'local' trains one worker, not " +
                                std::to_string(worker.count) + "; use 'async' or 'sync'");
  }
  for (const std::string& server : ps.servers) {
    if (ps.tls_ca.empty() && !ps.plaintext && !rpc::IsLoopbackAddress(server)) {
      return InvalidArgumentError(
          "ps.servers has '" + server +
          "', which is not on loopback: set ps.tls_ca to the servers' CA (scripts/make-certs.sh) "
          "or, on a trusted network, ps.plaintext: true");
    }
  }
  if (ps.deadline_ms <= 0 || ps.barrier_timeout_ms <= 0) {
    return InvalidArgumentError("ps.deadline_ms and ps.barrier_timeout_ms must be > 0");
  }
  return OkStatus();
}

namespace {

Status ReadModel(const ConfigSection& s, models::CtrModelOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("name", &o->name));
  COLONY_RETURN_IF_ERROR(s.Read("embedding_dim", &o->embedding_dim));
  COLONY_RETURN_IF_ERROR(s.Read("hidden", &o->hidden));
  COLONY_RETURN_IF_ERROR(s.Read("dropout", &o->dropout));
  COLONY_RETURN_IF_ERROR(s.Read("init_scale", &o->init_scale));
  return OkStatus();
}

Status ReadData(const ConfigSection& s, DataOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("dir", &o->dir));
  COLONY_RETURN_IF_ERROR(s.Read("format", &o->format));
  COLONY_RETURN_IF_ERROR(s.Read("train", &o->train));
  COLONY_RETURN_IF_ERROR(s.Read("test", &o->test));
  COLONY_RETURN_IF_ERROR(s.Read("batch_size", &o->batch_size));
  COLONY_RETURN_IF_ERROR(s.Read("shuffle_buffer", &o->shuffle_buffer));
  COLONY_RETURN_IF_ERROR(s.Read("prefetch_batches", &o->prefetch_batches));
  const ConfigSection csv = s.Section("csv");
  COLONY_RETURN_IF_ERROR(csv.Read("label", &o->csv.label_column));
  COLONY_RETURN_IF_ERROR(csv.Read("dense", &o->csv.dense_columns));
  COLONY_RETURN_IF_ERROR(csv.Read("sparse", &o->csv.sparse_columns));
  COLONY_RETURN_IF_ERROR(csv.Read("header", &o->csv.header));
  std::string delimiter(1, o->csv.delimiter);
  COLONY_RETURN_IF_ERROR(csv.Read("delimiter", &delimiter));
  if (delimiter.size() != 1) {
    return InvalidArgumentError(csv.Where("delimiter") + " must be one character, got '" +
                                delimiter + "'");
  }
  o->csv.delimiter = delimiter[0];
  return OkStatus();
}

}  // namespace

TrainOptions::TrainOptions() {
  sparse_optimizer.name = "adagrad";
  sparse_optimizer.learning_rate = 0.05f;
  dense_optimizer.name = "adam";
  dense_optimizer.learning_rate = 0.001f;
}

Status TrainOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(
      ValidateJobPlacement(strategy, {"local", "async", "sync", "geo", "heter"}, ps, worker));
  COLONY_RETURN_IF_ERROR(internal::ValidateHeter(*this));
  if (ps.geo_steps < 1) {
    return InvalidArgumentError("ps.geo_steps must be >= 1, got " + std::to_string(ps.geo_steps));
  }
  if (!ps.servers.empty() && !ps.ssd_dir.empty()) {
    return InvalidArgumentError(
        "ps.ssd_dir is for embedded tables; parameter servers keep their SSD tier under "
        "`colony serve --ssd-dir`");
  }
  if (ps.servers.empty() && ps.memory_rows > 0 && ps.ssd_dir.empty()) {
    return InvalidArgumentError("ps.memory_rows is set: name a folder for the rest in ps.ssd_dir");
  }
  if (ps.admit_count < 1 || !(ps.admit_probability > 0 && ps.admit_probability <= 1) ||
      ps.ttl_passes < 0 || ps.memory_rows < 0) {
    return InvalidArgumentError(
        "ps.admit_count must be >= 1, ps.admit_probability in (0, 1], ps.ttl_passes and "
        "ps.memory_rows >= 0");
  }
  if (ps.late_params != "wait" && ps.late_params != "candidate") {
    return InvalidArgumentError("ps.late_params must be 'wait' or 'candidate', got '" +
                                ps.late_params + "'");
  }
  if (ps.late_params == "candidate" && strategy != "async" && strategy != "sync") {
    return InvalidArgumentError(
        "ps.late_params: candidate is for strategy 'async' or 'sync' (workers that pull "
        "global parameters), not '" +
        strategy + "'");
  }
  if (ps.candidate_wait_ms < 0) {
    return InvalidArgumentError(
        "ps.candidate_wait_ms must be >= 0 (0: the measured step time), "
        "got " +
        std::to_string(ps.candidate_wait_ms));
  }
  if (ps.candidate_max_stale < 1) {
    return InvalidArgumentError(
        "ps.candidate_max_stale must be >= 1 (steps ahead of the "
        "global parameters), got " +
        std::to_string(ps.candidate_max_stale));
  }
  static const std::set<std::string> kFormats = {"criteo", "csv", "libsvm"};
  if (!kFormats.count(data.format)) {
    return InvalidArgumentError("data.format must be 'criteo', 'csv' or 'libsvm', got '" +
                                data.format + "'");
  }
  if (data.batch_size <= 0) {
    return InvalidArgumentError("data.batch_size must be > 0, got " +
                                std::to_string(data.batch_size));
  }
  if (data.shuffle_buffer < 0 || data.prefetch_batches < 0) {
    return InvalidArgumentError("data.shuffle_buffer and data.prefetch_batches must be >= 0");
  }
  COLONY_RETURN_IF_ERROR(ValidateLoop(loop));
  if (checkpoint.every_steps < 0) {
    return InvalidArgumentError("checkpoint.every_steps must be >= 0, got " +
                                std::to_string(checkpoint.every_steps));
  }
  if (loop.target_loss < 0) {
    return InvalidArgumentError("train.target_loss must be >= 0 (0: off), got " +
                                std::to_string(loop.target_loss));
  }
  if (loop.target_loss > 0 && (strategy == "sync" || strategy == "heter")) {
    return InvalidArgumentError(
        "train.target_loss is not for strategy '" + strategy +
        "' (sync: a worker that stops alone would leave the others at the step barrier; heter: "
        "its compute trainers do not check it)");
  }
  if (checkpoint.every_steps > 0 && checkpoint.dir.empty()) {
    return InvalidArgumentError("checkpoint.every_steps is set but checkpoint.dir is empty");
  }
  return model.Validate();
}

StatusOr<TrainOptions> ParseTrainOptions(const Config& config) {
  TrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(root.Read("strategy", &o.strategy));
  COLONY_RETURN_IF_ERROR(ReadModel(root.Section("model"), &o.model));
  COLONY_RETURN_IF_ERROR(ReadData(root.Section("data"), &o.data));
  const ConfigSection optimizer = root.Section("optimizer");
  COLONY_RETURN_IF_ERROR(ReadOptimizer(optimizer.Section("sparse"), &o.sparse_optimizer));
  COLONY_RETURN_IF_ERROR(ReadOptimizer(optimizer.Section("dense"), &o.dense_optimizer));
  COLONY_RETURN_IF_ERROR(ReadLoop(root.Section("train"), &o.loop));
  COLONY_RETURN_IF_ERROR(root.Section("train").Read("target_loss", &o.loop.target_loss));
  const ConfigSection ps = root.Section("ps");
  COLONY_RETURN_IF_ERROR(ReadPsConnection(ps, &o.ps));
  COLONY_RETURN_IF_ERROR(ps.Read("geo_steps", &o.ps.geo_steps));
  COLONY_RETURN_IF_ERROR(ps.Read("late_params", &o.ps.late_params));
  COLONY_RETURN_IF_ERROR(ps.Read("candidate_wait_ms", &o.ps.candidate_wait_ms));
  COLONY_RETURN_IF_ERROR(ps.Read("candidate_max_stale", &o.ps.candidate_max_stale));
  COLONY_RETURN_IF_ERROR(ps.Read("admit_count", &o.ps.admit_count));
  COLONY_RETURN_IF_ERROR(ps.Read("admit_probability", &o.ps.admit_probability));
  COLONY_RETURN_IF_ERROR(ps.Read("ttl_passes", &o.ps.ttl_passes));
  COLONY_RETURN_IF_ERROR(ps.Read("memory_rows", &o.ps.memory_rows));
  COLONY_RETURN_IF_ERROR(ps.Read("ssd_dir", &o.ps.ssd_dir));
  const ConfigSection checkpoint = root.Section("checkpoint");
  COLONY_RETURN_IF_ERROR(checkpoint.Read("dir", &o.checkpoint.dir));
  COLONY_RETURN_IF_ERROR(checkpoint.Read("every_steps", &o.checkpoint.every_steps));
  COLONY_RETURN_IF_ERROR(internal::ReadHeter(root.Section("heter"), &o.heter));
  std::string dependencies;
  COLONY_RETURN_IF_ERROR(ReadJobSection(root.Section("job"), &dependencies));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  // The model's input widths follow the data format.
  if (o.data.format == "csv") {
    o.model.num_dense = static_cast<int>(o.data.csv.dense_columns.size());
    o.model.num_slots = static_cast<int>(o.data.csv.sparse_columns.size());
  } else if (o.data.format == "libsvm") {
    o.model.input = "bag";
  }
  Status valid = o.Validate();
  if (!valid.ok()) return valid.WithContext(config.source());
  o.config_text = config.ToYaml();
  return o;
}

}  // namespace colony::train
