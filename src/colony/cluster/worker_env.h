// Who a process is in a job, from the environment of the launcher that started it:
// colony launch (COLONY_RANK, COLONY_WORKERS, COLONY_SERVERS, COLONY_TOKEN), Open MPI's
// mpirun (OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE) or Slurm's srun (SLURM_PROCID,
// SLURM_NTASKS), in that order of precedence.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::cluster {

struct WorkerEnv {
  std::optional<int> rank;           // This worker's rank, when a launcher set one.
  std::optional<int> count;          // Workers in the job.
  std::vector<std::string> servers;  // COLONY_SERVERS, comma-separated host:port.
  std::string token;                 // COLONY_TOKEN.
  std::string source;                // The variables used, for messages: "COLONY_RANK".
};

using GetEnvFn = std::function<const char*(const char* name)>;

// InvalidArgument naming the variable when one is set but is not a number >= 0 (rank) or
// >= 1 (count), or when only one of a pair is set.
StatusOr<WorkerEnv> ReadWorkerEnv(const GetEnvFn& getenv);

}  // namespace colony::cluster
