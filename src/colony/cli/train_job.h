// Runs a training job from its YAML file: `colony train` and `colony serve --role worker`.
#pragma once

#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/cluster/worker_env.h"

namespace colony::cli {

struct TrainJobFlags {
  std::string config;
  std::vector<std::string> overrides;  // key.path=value
  std::string summary_json;
  std::string resume;
};

// Trains, prints the summary line and writes the summary JSON. With `worker` (a worker of a
// distributed job) its rank, worker count, servers and token apply where the config leaves
// them unset. SIGINT/SIGTERM stop after the current step.
Status RunTrainJob(const TrainJobFlags& flags, const cluster::WorkerEnv* worker);

}  // namespace colony::cli
