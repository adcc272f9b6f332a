#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdio>
#include <set>
#include <string_view>

#include "colony/base/json.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cluster/job_dependencies.h"
#include "colony/cluster/launcher.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
void RequestStop(int) { g_stop_requested = true; }

struct LaunchFlags {
  cluster::LaunchOptions options;
  std::string summary_json;
  std::string package_cache = "runs/package-cache";
};

// Worker r's summary as a JSON object.
StatusOr<JsonValue> WorkerSummary(const cluster::LaunchOptions& o, const cluster::LaunchResult& r,
                                  size_t rank) {
  const std::string source = fmt::format("{}/worker-{}.json", o.run_dir, rank);
  COLONY_ASSIGN_OR_RETURN(JsonValue summary, ParseJson(r.worker_summaries.at(rank), source));
  if (summary.type() != JsonValue::Type::kObject) {
    return DataLossError(source + ": a worker summary must be a JSON object");
  }
  return summary;
}

double NumberOf(const JsonValue& summary, std::string_view key) {
  const JsonValue* value = summary.Find(key);
  return value != nullptr ? value->AsNumber() : 0.0;
}

// One summary for the job. Worker 0 tests the model all workers trained, so the job's result
// keys (test AUC and log loss, P@20 and MRR@20, per-task metrics, ...) are worker 0's; the
// counters of one worker's loop give way to the job's: samples and throughput added up, the
// workers' mean training loss. Every worker's own summary is under "worker_summaries".
StatusOr<JsonValue> JobSummary(const cluster::LaunchOptions& o, const cluster::LaunchResult& r) {
  static const std::set<std::string, std::less<>> kPerWorker = {"samples_per_sec",
                                                                "train_loss",
                                                                "train_auc",
                                                                "steps",
                                                                "global_step",
                                                                "samples",
                                                                "seconds",
                                                                "torch_threads",
                                                                "candidate_steps",
                                                                "reached_target_loss",
                                                                "heter"};
  JsonValue workers = JsonValue::Array();
  double samples = 0, rate = 0, loss = 0;
  for (size_t rank = 0; rank < r.worker_summaries.size(); ++rank) {
    COLONY_ASSIGN_OR_RETURN(JsonValue summary, WorkerSummary(o, r, rank));
    samples += NumberOf(summary, "samples");
    rate += NumberOf(summary, "samples_per_sec");
    loss += NumberOf(summary, "train_loss") / r.worker_summaries.size();
    workers.Append(std::move(summary));
  }
  JsonValue job = JsonValue::Object();
  job.Set("servers", JsonValue::Number(o.servers));
  job.Set("workers", JsonValue::Number(o.workers));
  job.Set("seconds", JsonValue::NumberText(fmt::format("{:.3f}", r.seconds)));
  job.Set("samples", JsonValue::NumberText(fmt::format("{:.0f}", samples)));
  job.Set("samples_per_sec", JsonValue::NumberText(fmt::format("{:.3f}", rate)));
  job.Set("train_loss", JsonValue::NumberText(fmt::format("{:.6f}", loss)));
  for (const auto& [key, value] : workers.items().at(0).members()) {
    if (!kPerWorker.contains(key)) job.Set(key, value);
  }
  job.Set("worker_summaries", std::move(workers));
  return job;
}

// The test metrics of the summary line: AUC and log loss, P@20 and MRR@20 (session models),
// or a pointer to the per-task metrics (multi-task models).
std::string TestLine(const JsonValue& job) {
  if (job.Find("p20") != nullptr) {
    return fmt::format("test P@20 {:.4f} MRR@20 {:.4f}", NumberOf(job, "p20"),
                       NumberOf(job, "mrr20"));
  }
  if (job.Find("tasks") != nullptr) {
    return "per-task test metrics in worker 0's summary and \"tasks\"";
  }
  return fmt::format("test auc {:.4f} logloss {:.4f}", NumberOf(job, "test_auc"),
                     NumberOf(job, "test_logloss"));
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : "";
}

Status RunLaunch(LaunchFlags& flags) {
  cluster::LaunchOptions& o = flags.options;
  o.binary = SelfPath();
  if (o.run_dir.empty()) o.run_dir = fmt::format("runs/launch-{}", ::getpid());
  o.stop_requested = &g_stop_requested;
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  COLONY_ASSIGN_OR_RETURN(auto deps, cluster::PrepareJobDependencies(
                                         {.config = o.config,
                                          .overrides = o.overrides,
                                          .cache_dir = flags.package_cache,
                                          .task_id = fmt::format("launch-{}", ::getpid())}));
  if (deps) {
    std::printf("%s\n", cluster::DescribePrepared(*deps).c_str());
    std::fflush(stdout);
    o.worker_env.emplace_back(cluster::kDepsDirEnv, deps->unpacked_dir);
  }
  COLONY_ASSIGN_OR_RETURN(cluster::LaunchResult result,
                          cluster::Launch(o, cluster::PrintPrefixedLine));
  COLONY_ASSIGN_OR_RETURN(JsonValue job, JobSummary(o, result));
  std::printf(
      "launch summary: %d servers, %d workers, %.1fs | %.0f samples, %.0f samples/s | train "
      "loss %.4f | %s\n",
      o.servers, o.workers, result.seconds, NumberOf(job, "samples"),
      NumberOf(job, "samples_per_sec"), NumberOf(job, "train_loss"), TestLine(job).c_str());
  return WriteSummaryJson(flags.summary_json, job.ToString() + "\n");
}

}  // namespace

void AddLaunchCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<LaunchFlags>();
  cluster::LaunchOptions& o = flags->options;
  CLI::App* cmd = app.add_subcommand(
      "launch", "run a distributed job on this machine: parameter servers and workers");
  cmd->add_option("config", o.config, "job YAML file")->required();
  cmd->add_option("--servers", o.servers, "parameter-server processes")->capture_default_str();
  cmd->add_option("--workers", o.workers, "worker processes")->capture_default_str();
  cmd->add_option("--set", o.overrides, "override a config key for every worker")->take_all();
  cmd->add_option("--summary-json", flags->summary_json, "write the job's metrics as JSON here");
  cmd->add_option("--run-dir", o.run_dir, "where workers write their summaries");
  cmd->add_option("--token", o.token, "shared token of the servers (default: a random one)");
  cmd->add_option("--checkpoint-dir", o.checkpoint_dir,
                  "servers restore from and save to DIR/server-<i>");
  cmd->add_option("--checkpoint-every-seconds", o.checkpoint_every_seconds,
                  "servers also save this often");
  cmd->add_option("--ssd-dir", o.ssd_dir, "servers keep SSD-tier rows under DIR/server-<i>");
  cmd->add_option("--resume", o.resume_dir,
                  "workers continue from DIR/worker-<rank> (the job's checkpoint.dir)");
  cmd->add_option("--package-cache", flags->package_cache,
                  "cache folder for the job's job.dependencies packages")
      ->capture_default_str();
  cmd->add_option("--inject-delay-ms", o.inject_delay_ms,
                  "tests and benchmarks only: servers answer every Pull this many ms late");
  cmd->callback([flags, exit_code] { *exit_code = ExitCode(RunLaunch(*flags)); });
}

}  // namespace colony::cli
