// Making a task's Model: executors and parameter tables, for training (as the job says) or
// for evaluation from a checkpoint. Private to train.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"
#include "colony/ps/remote_table.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/job_options.h"
#include "colony/train/loop.h"

namespace colony::train::internal {

// How a worker of `job` reaches its parameter servers; strategy sync makes each push one
// worker's share of a step of all workers.
ps::RemoteTableOptions MakeRemoteOptions(const JobOptions& job);

// The tables of a task's `parameters` in `job`: embedded or on the servers, geo local copies,
// the candidate model, the sparse tables' row policies.
ParameterSetOptions MakeParameterSetOptions(const JobOptions& job,
                                            const TaskParameters& parameters);

// One executor per program of `step_programs` (seeded with `seed`) and the tables of
// `program`.
StatusOr<std::unique_ptr<Model>> MakeModel(const graph::ProgramDesc& program,
                                           const std::vector<const graph::ProgramDesc*>& steps,
                                           const ParameterSetOptions& options, uint64_t seed);

// MakeModel, then the tables loaded from the checkpoint folder `path`. On embedded tables
// FailedPrecondition when the folder holds none (a worker's checkpoint of a job on
// parameter servers, whose tables are the servers').
StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                           const graph::ProgramDesc& program,
                                           const std::vector<const graph::ProgramDesc*>& steps,
                                           const ParameterSetOptions& options, uint64_t seed);

}  // namespace colony::train::internal
