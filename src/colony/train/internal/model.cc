#include "colony/train/internal/model.h"

#include "colony/base/file_util.h"
#include "colony/exec/executor.h"

namespace colony::train::internal {

ps::RemoteTableOptions MakeRemoteOptions(const JobOptions& job) {
  ps::RemoteTableOptions remote;
  remote.servers = job.ps.servers;
  remote.token = job.ps.token;
  remote.tls_ca_file = job.ps.tls_ca;
  remote.deadline_ms = job.ps.deadline_ms;
  remote.batch_dense = job.ps.batch_dense;
  if (job.strategy == Strategy::kSync) remote.sync_workers = job.worker.count;
  return remote;
}

ParameterSetOptions MakeParameterSetOptions(const JobOptions& job,
                                            const TaskParameters& parameters) {
  ParameterSetOptions o;
  o.sparse.optimizer = parameters.sparse_optimizer;
  o.sparse.admit_count = job.ps.admit_count;
  o.sparse.admit_probability = job.ps.admit_probability;
  o.sparse.ttl_passes = job.ps.ttl_passes;
  o.sparse.memory_rows = job.ps.memory_rows;
  o.sparse.ssd_dir = job.ps.ssd_dir;
  o.dense = parameters.dense_optimizer;
  o.seed = job.loop.seed;
  if (!job.ps.servers.empty()) o.remote = MakeRemoteOptions(job);
  o.geo_steps = job.strategy == Strategy::kGeo ? job.ps.geo_steps : 0;
  o.candidate_max_stale = job.ps.late_params == "candidate" ? job.ps.candidate_max_stale : 0;
  o.row_sharded = parameters.row_sharded;
  return o;
}

StatusOr<std::unique_ptr<Model>> MakeModel(const graph::ProgramDesc& program,
                                           const std::vector<const graph::ProgramDesc*>& steps,
                                           const ParameterSetOptions& options, uint64_t seed) {
  auto model = std::make_unique<Model>();
  for (const graph::ProgramDesc* step : steps) {
    if (step->loss().empty()) return InvalidArgumentError("a training program needs a loss");
    COLONY_ASSIGN_OR_RETURN(std::unique_ptr<exec::Executor> executor,
                            exec::Executor::Create(*step, {.seed = seed}));
    model->executors.push_back(std::move(executor));
  }
  COLONY_ASSIGN_OR_RETURN(model->parameters, ParameterSet::Create(program, options));
  return model;
}

StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                           const graph::ProgramDesc& program,
                                           const std::vector<const graph::ProgramDesc*>& steps,
                                           const ParameterSetOptions& options, uint64_t seed) {
  // A worker's checkpoint of a job on servers holds no tables; worker 0's last one of a
  // model without sparse tables holds a copy of the trained parameters (RunLoop).
  if (options.remote.servers.empty() && !PathExists(path + "/dense")) {
    return FailedPreconditionError(
        "checkpoint '" + path +
        "' was written by a worker of a job on parameter servers, whose tables are the "
        "servers' (colony launch --checkpoint-dir); eval and predict read worker 0's last "
        "checkpoint, which holds a copy of the trained parameters");
  }
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, MakeModel(program, steps, options, seed));
  COLONY_RETURN_IF_ERROR(model->parameters->Load(path));
  return model;
}

}  // namespace colony::train::internal
