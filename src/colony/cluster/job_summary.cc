#include "colony/cluster/job_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "colony/base/json_util.h"

namespace colony::cluster {
namespace {

// A number of `summary`: 0 when absent, NaN when written as null (not finite).
double NumberOf(const nlohmann::json& summary, const std::string& key) {
  const auto it = summary.find(key);
  if (it == summary.end()) return 0;
  return it->is_number() || it->is_null() ? MetricValue(*it) : 0;
}

bool IsPerWorker(const std::string& key) {
  const auto& keys = PerWorkerSummaryKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

const std::vector<std::string>& PerWorkerSummaryKeys() {
  static const auto* keys =
      new std::vector<std::string>{"samples_per_sec", "train_loss",         "train_auc",
                                   "steps",           "global_step",        "samples",
                                   "seconds",         "torch_threads",      "candidate_steps",
                                   "heter",           "reached_target_loss"};
  return *keys;
}

nlohmann::json JobSummary::ToJson() const {
  nlohmann::json json = results;
  json["servers"] = servers;
  json["workers"] = workers;
  json["seconds"] = seconds;
  json["samples"] = samples;
  SetMetric(json, "samples_per_sec", samples_per_sec);
  SetMetric(json, "train_loss", train_loss);
  json["worker_summaries"] = worker_summaries;
  return json;
}

StatusOr<JobSummary> MergeWorkerSummaries(const LaunchOptions& o, const LaunchResult& r) {
  JobSummary job;
  job.servers = o.servers;
  job.workers = o.workers;
  job.seconds = r.seconds;
  const size_t n = r.worker_summaries.size();
  for (size_t rank = 0; rank < n; ++rank) {
    const std::string source = fmt::format("{}/worker-{}.json", o.run_dir, rank);
    StatusOr<nlohmann::json> summary = ParseJson(r.worker_summaries[rank], source);
    if (!summary.ok()) return DataLossError(summary.status().message());
    if (!summary->is_object()) {
      return DataLossError(source + ": a worker summary must be a JSON object");
    }
    job.samples += std::llround(NumberOf(*summary, "samples"));
    job.samples_per_sec += NumberOf(*summary, "samples_per_sec");
    job.train_loss += NumberOf(*summary, "train_loss") / static_cast<double>(n);
    job.worker_summaries.push_back(*std::move(summary));
  }
  if (n == 0) return job;
  job.results = nlohmann::json::object();
  for (const auto& [key, value] : job.worker_summaries[0].items()) {
    if (!IsPerWorker(key) && key != kNonFiniteKey) job.results[key] = value;
  }
  // Worker 0's non-finite metrics the job reports as its own stay listed.
  for (const nlohmann::json& key : job.worker_summaries[0].value(kNonFiniteKey, nlohmann::json())) {
    if (key.is_string() && job.results.contains(key.get<std::string>())) {
      job.results[kNonFiniteKey].push_back(key);
    }
  }
  return job;
}

}  // namespace colony::cluster
