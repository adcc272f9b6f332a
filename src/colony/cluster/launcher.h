// Runs a whole distributed job on this machine: N parameter servers and M workers as child
// processes of the colony binary on 127.0.0.1, their output streamed with a role prefix.
//   LaunchOptions o{.binary = "/path/colony", .config = "job.yaml", .servers = 2, .workers = 2};
//   COLONY_ASSIGN_OR_RETURN(LaunchResult r, Launch(o, print_line));
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/cluster/child_process.h"

namespace colony::cluster {

struct LaunchOptions {
  std::string binary;                  // The colony executable. Required.
  std::string config;                  // The job's YAML file. Required.
  std::vector<std::string> overrides;  // key=value, passed to every worker as --set.
  int servers = 1;                     // Parameter servers, >= 1.
  int workers = 1;                     // Workers, >= 1.
  std::string run_dir;  // Workers write their summaries here (worker-<rank>.json). Required.
  // Shared token of the servers; "" makes a random one for this job. Default: "".
  std::string token;
  // Server i checkpoints to <checkpoint_dir>/server-<i> and at start restores its share of
  // what is there (re-sharded when the last run had another number of servers); the Save
  // and Load RPCs are confined to it. "": none.
  std::string checkpoint_dir;
  int checkpoint_every_seconds = 0;  // Also checkpoint periodically; 0: only at the end.
  // Passed to every worker as --resume: each continues from its checkpoint under
  // <resume_dir>/worker-<rank> (the job's checkpoint.dir), the servers from checkpoint_dir.
  std::string resume_dir;
  // Server i keeps the SSD tier of its tables (ps.memory_rows) under <ssd_dir>/server-<i>.
  std::string ssd_dir;
  // Tests and benchmarks only: servers answer every Pull this many ms late. Default: 0.
  int inject_delay_ms = 0;
  // Added to every worker's environment, e.g. {"COLONY_DEPS_DIR", <unpacked dependencies>}.
  std::vector<std::pair<std::string, std::string>> worker_env;
  int start_timeout_ms = 60000;  // For every server to report its port.
  // When it turns true the workers get SIGTERM, then the servers. Optional.
  const std::atomic<bool>* stop_requested = nullptr;
};

struct LaunchResult {
  std::vector<std::string> servers;           // host:port of each server.
  std::vector<std::string> worker_summaries;  // Each worker's summary JSON, by rank.
  double seconds = 0;                         // Wall time from the first start to the end.
};

// Starts the servers (port 0: each prints the port it got), then the workers with
// COLONY_RANK, COLONY_WORKERS, COLONY_SERVERS and COLONY_TOKEN set, and waits. When every
// worker exits 0 the servers get SIGTERM (and save, with a checkpoint dir) and the result
// is returned. When any process fails, or a server ends early, the others are stopped and
// the error is Aborted naming the failed role and its exit code.
StatusOr<LaunchResult> Launch(const LaunchOptions& options, const LineSink& sink);

}  // namespace colony::cluster
