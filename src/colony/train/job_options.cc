#include "colony/train/job_options.h"

#include <algorithm>

#include "colony/ps/remote_table.h"
#include "colony/rpc/loopback.h"

namespace colony::train {
namespace {

constexpr Strategy kAllStrategies[] = {Strategy::kLocal, Strategy::kAsync, Strategy::kSync,
                                       Strategy::kGeo, Strategy::kHeter};

bool Supports(const TaskTraits& traits, Strategy strategy) {
  return std::find(traits.strategies.begin(), traits.strategies.end(), strategy) !=
         traits.strategies.end();
}

// "strategy must be 'local', 'async' or 'sync' for session models, got 'geo'".
Status StrategyError(const TaskTraits& traits, std::string_view got) {
  std::string known;
  const size_t n = traits.strategies.size();
  for (size_t i = 0; i < n; ++i) {
    known += (i == 0       ? "'"
              : i + 1 == n ? " or '"
                           : ", '") +
             std::string(StrategyName(traits.strategies[i])) + "'";
  }
  const std::string for_models = traits.models.empty() ? "" : " for " + traits.models;
  return InvalidArgumentError("strategy must be " + known + for_models + ", got '" +
                              std::string(got) + "'");
}

Status ReadLoop(const ConfigSection& s, LoopOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("epochs", &o->epochs));
  COLONY_RETURN_IF_ERROR(s.Read("seed", &o->seed));
  COLONY_RETURN_IF_ERROR(s.Read("threads", &o->threads));
  COLONY_RETURN_IF_ERROR(s.Read("max_steps", &o->max_steps));
  COLONY_RETURN_IF_ERROR(s.Read("log_every_seconds", &o->log_every_seconds));
  return s.Read("target_loss", &o->target_loss);
}

Status ReadPs(const ConfigSection& s, const TaskTraits& traits, PsOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("servers", &o->servers));
  COLONY_RETURN_IF_ERROR(s.Read("token", &o->token));
  COLONY_RETURN_IF_ERROR(s.Read("tls_ca", &o->tls_ca));
  COLONY_RETURN_IF_ERROR(s.Read("plaintext", &o->plaintext));
  COLONY_RETURN_IF_ERROR(s.Read("deadline_ms", &o->deadline_ms));
  COLONY_RETURN_IF_ERROR(s.Read("barrier_timeout_ms", &o->barrier_timeout_ms));
  COLONY_RETURN_IF_ERROR(s.Read("batch_dense", &o->batch_dense));
  if (Supports(traits, Strategy::kGeo)) COLONY_RETURN_IF_ERROR(s.Read("geo_steps", &o->geo_steps));
  if (traits.late_params) {
    COLONY_RETURN_IF_ERROR(s.Read("late_params", &o->late_params));
    COLONY_RETURN_IF_ERROR(s.Read("candidate_wait_ms", &o->candidate_wait_ms));
    COLONY_RETURN_IF_ERROR(s.Read("candidate_max_stale", &o->candidate_max_stale));
  }
  if (traits.sparse_tables) {
    COLONY_RETURN_IF_ERROR(s.Read("admit_count", &o->admit_count));
    COLONY_RETURN_IF_ERROR(s.Read("admit_probability", &o->admit_probability));
    COLONY_RETURN_IF_ERROR(s.Read("ttl_passes", &o->ttl_passes));
    COLONY_RETURN_IF_ERROR(s.Read("memory_rows", &o->memory_rows));
    COLONY_RETURN_IF_ERROR(s.Read("ssd_dir", &o->ssd_dir));
  }
  return OkStatus();
}

Status ValidatePlacement(const JobOptions& o, const TaskTraits& traits) {
  if (!Supports(traits, o.strategy)) return StrategyError(traits, StrategyName(o.strategy));
  const std::string name(StrategyName(o.strategy));
  // local and heter (one worker) may train on tables embedded in the process.
  if (o.strategy != Strategy::kLocal && o.strategy != Strategy::kHeter && o.ps.servers.empty()) {
    return InvalidArgumentError("strategy '" + name +
                                "' trains on parameter servers: set ps.servers, or start the job "
                                "with `colony launch --servers N --workers M CONFIG`");
  }
  const WorkerOptions& worker = o.worker;
  if (worker.count < 1 || worker.rank < 0 || worker.rank >= worker.count) {
    return InvalidArgumentError("worker rank " + std::to_string(worker.rank) + " of " +
                                std::to_string(worker.count) + " workers is out of range");
  }
  if (o.strategy == Strategy::kLocal && worker.count > 1) {
    return InvalidArgumentError("strategy 'local' trains one worker, not " +
                                std::to_string(worker.count) + "; use 'async' or 'sync'");
  }
  for (const std::string& server : o.ps.servers) {
    if (o.ps.tls_ca.empty() && !o.ps.plaintext && !rpc::IsLoopbackAddress(server)) {
      return InvalidArgumentError(
          "ps.servers has '" + server +
          "', which is not on loopback: set ps.tls_ca to the servers' CA (scripts/make-certs.sh) "
          "or, on a trusted network, ps.plaintext: true");
    }
  }
  if (o.ps.deadline_ms <= 0 || o.ps.barrier_timeout_ms <= 0) {
    return InvalidArgumentError("ps.deadline_ms and ps.barrier_timeout_ms must be > 0");
  }
  return OkStatus();
}

Status ValidateHeter(const JobOptions& o) {
  if (o.heter.pass_samples <= 0) {
    return InvalidArgumentError("heter.pass_samples must be > 0, got " +
                                std::to_string(o.heter.pass_samples));
  }
  if (o.heter.compute_threads < 1 || o.heter.compute_threads > 64) {
    return InvalidArgumentError("heter.compute_threads must be in [1, 64], got " +
                                std::to_string(o.heter.compute_threads));
  }
  if (o.strategy != Strategy::kHeter) return OkStatus();
  if (o.checkpoint.every_steps > 0) {
    return InvalidArgumentError(
        "checkpoint.every_steps is not supported with strategy 'heter', which checkpoints at "
        "the end of training (or when interrupted); set it to 0");
  }
  if (o.ps.servers.empty() && o.worker.count > 1) {
    return InvalidArgumentError("strategy 'heter' with " + std::to_string(o.worker.count) +
                                " workers needs ps.servers (the distributed PS they share)");
  }
  return OkStatus();
}

Status ValidatePsPolicies(const JobOptions& o) {
  const PsOptions& ps = o.ps;
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
  if (ps.late_params == "candidate" && o.strategy != Strategy::kAsync &&
      o.strategy != Strategy::kSync) {
    return InvalidArgumentError(
        "ps.late_params: candidate is for strategy 'async' or 'sync' (workers that pull "
        "global parameters), not '" +
        std::string(StrategyName(o.strategy)) + "'");
  }
  if (ps.candidate_wait_ms < 0) {
    return InvalidArgumentError(
        "ps.candidate_wait_ms must be >= 0 (0: the measured step time), got " +
        std::to_string(ps.candidate_wait_ms));
  }
  if (ps.candidate_max_stale < 1) {
    return InvalidArgumentError(
        "ps.candidate_max_stale must be >= 1 (steps ahead of the global parameters), got " +
        std::to_string(ps.candidate_max_stale));
  }
  return OkStatus();
}

Status ValidateLoop(const JobOptions& o) {
  const LoopOptions& loop = o.loop;
  if (loop.epochs <= 0) {
    return InvalidArgumentError("train.epochs must be > 0, got " + std::to_string(loop.epochs));
  }
  if (loop.threads < 0 || loop.max_steps < 0) {
    return InvalidArgumentError("train.threads and train.max_steps must be >= 0");
  }
  if (loop.log_every_seconds <= 0) {
    return InvalidArgumentError("train.log_every_seconds must be > 0");
  }
  if (loop.target_loss < 0) {
    return InvalidArgumentError("train.target_loss must be >= 0 (0: off), got " +
                                std::to_string(loop.target_loss));
  }
  if (loop.target_loss > 0 && (o.strategy == Strategy::kSync || o.strategy == Strategy::kHeter)) {
    return InvalidArgumentError(
        "train.target_loss is not for strategy '" + std::string(StrategyName(o.strategy)) +
        "' (sync: a worker that stops alone would leave the others at the step barrier; heter: "
        "its compute trainers do not check it)");
  }
  if (o.checkpoint.every_steps < 0) {
    return InvalidArgumentError("checkpoint.every_steps must be >= 0, got " +
                                std::to_string(o.checkpoint.every_steps));
  }
  if (o.checkpoint.every_steps > 0 && o.checkpoint.dir.empty()) {
    return InvalidArgumentError("checkpoint.every_steps is set but checkpoint.dir is empty");
  }
  return OkStatus();
}

}  // namespace

std::string_view StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kLocal:
      return "local";
    case Strategy::kAsync:
      return "async";
    case Strategy::kSync:
      return "sync";
    case Strategy::kGeo:
      return "geo";
    case Strategy::kHeter:
      return "heter";
  }
  return "?";
}

Status JobOptions::Validate(const TaskTraits& traits) const {
  COLONY_RETURN_IF_ERROR(ValidatePlacement(*this, traits));
  COLONY_RETURN_IF_ERROR(ValidateHeter(*this));
  COLONY_RETURN_IF_ERROR(ValidatePsPolicies(*this));
  return ValidateLoop(*this);
}

Status ReadJobSections(const Config& config, const TaskTraits& traits, JobOptions* job) {
  const ConfigSection root = config.Root();
  std::string strategy(StrategyName(job->strategy));
  COLONY_RETURN_IF_ERROR(root.Read("strategy", &strategy));
  auto known = std::find_if(std::begin(kAllStrategies), std::end(kAllStrategies),
                            [&](Strategy s) { return StrategyName(s) == strategy; });
  if (known == std::end(kAllStrategies) || !Supports(traits, *known)) {
    return StrategyError(traits, strategy).WithContext(config.source());
  }
  job->strategy = *known;
  COLONY_RETURN_IF_ERROR(ReadLoop(root.Section("train"), &job->loop));
  const ConfigSection checkpoint = root.Section("checkpoint");
  COLONY_RETURN_IF_ERROR(checkpoint.Read("dir", &job->checkpoint.dir));
  COLONY_RETURN_IF_ERROR(checkpoint.Read("every_steps", &job->checkpoint.every_steps));
  COLONY_RETURN_IF_ERROR(ReadPs(root.Section("ps"), traits, &job->ps));
  if (Supports(traits, Strategy::kHeter)) {
    const ConfigSection heter = root.Section("heter");
    COLONY_RETURN_IF_ERROR(heter.Read("pass_samples", &job->heter.pass_samples));
    COLONY_RETURN_IF_ERROR(heter.Read("compute_threads", &job->heter.compute_threads));
  }
  std::string dependencies;  // `colony launch` prepares them (cluster/job_dependencies.h).
  return root.Section("job").Read("dependencies", &dependencies);
}

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

std::string ModelName(const Config& config) {
  std::string name;
  const ConfigSection model = config.Root().Section("model");
  if (!model.Has("name") || !model.Read("name", &name).ok()) return "";
  return name;
}

}  // namespace colony::train
