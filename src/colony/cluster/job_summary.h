// The summary of a `colony launch` job, merged from its workers' summaries
// (<run_dir>/worker-<rank>.json).
//   COLONY_ASSIGN_OR_RETURN(LaunchResult r, Launch(o, print_line));
//   COLONY_ASSIGN_OR_RETURN(JobSummary job, MergeWorkerSummaries(o, r));
//   COLONY_RETURN_IF_ERROR(WriteJsonFile(path, job.ToJson()));
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/cluster/launcher.h"

namespace colony::cluster {

// Worker 0 tests the model all workers trained, so the job's result keys (test AUC and log
// loss, P@20 and MRR@20, per-task metrics, ...) are worker 0's; the counters of one worker's
// loop give way to the job's: samples and throughput added up, the workers' mean training
// loss.
struct JobSummary {
  int servers = 0, workers = 0;
  double seconds = 0;          // Wall time of the job.
  int64_t samples = 0;         // Summed over the workers.
  double samples_per_sec = 0;  // The workers' rates, summed.
  double train_loss = 0;       // Mean over the workers; NaN when a worker's is not finite.
  nlohmann::json results;      // Worker 0's summary without its per-worker counters.
  std::vector<nlohmann::json> worker_summaries;  // Each worker's own, by rank.

  // `results` with the job's servers, workers, seconds, samples, samples_per_sec and
  // train_loss, and every worker's summary under "worker_summaries".
  nlohmann::json ToJson() const;
};

// The keys of a worker's summary that count that worker's loop (samples, seconds, steps,
// ...): the job's are merged, worker 0's are not copied.
const std::vector<std::string>& PerWorkerSummaryKeys();

// Merges result.worker_summaries. DataLoss naming <run_dir>/worker-<rank>.json when one is not
// a JSON object.
StatusOr<JobSummary> MergeWorkerSummaries(const LaunchOptions& options, const LaunchResult& result);

}  // namespace colony::cluster
