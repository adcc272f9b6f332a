// How a worker of a job reaches its parameter servers, from the job's ps section and
// strategy. Shared by the CTR and session trainers. Private to train.
#pragma once

#include <string>

#include "colony/ps/remote_table.h"
#include "colony/train/train_options.h"

namespace colony::train::internal {

// Strategy "sync" makes each push one worker's share of a step of `workers`.
inline ps::RemoteTableOptions MakeRemoteOptions(const PsOptions& ps, const std::string& strategy,
                                                int workers) {
  ps::RemoteTableOptions remote;
  remote.servers = ps.servers;
  remote.token = ps.token;
  remote.tls_ca_file = ps.tls_ca;
  remote.deadline_ms = ps.deadline_ms;
  remote.batch_dense = ps.batch_dense;
  if (strategy == "sync") remote.sync_workers = workers;
  return remote;
}

}  // namespace colony::train::internal
