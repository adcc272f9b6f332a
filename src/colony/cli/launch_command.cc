#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <set>
#include <string_view>
#include <nlohmann/json.hpp>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cluster/job_dependencies.h"
#include "colony/cluster/job_summary.h"
#include "colony/cluster/launcher.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
void RequestStop(int) { g_stop_requested = true; }

struct LaunchFlags {
  cluster::LaunchOptions options;
  std::string summary_json;
  std::string package_cache = "runs/package-cache";
  std::string token, token_file;  // Resolved into options.token by ResolveToken.
};

// The test metrics of the summary line: AUC and log loss, P@20 and MRR@20 (session models),
// or a pointer to the per-task metrics (multi-task models).
std::string TestLine(const nlohmann::json& results) {
  auto number = [&](const char* key) {  // NaN when absent or not finite (null).
    const auto it = results.find(key);
    return it != results.end() && it->is_number() ? it->get<double>() : std::nan("");
  };
  if (results.contains("p20")) {
    return fmt::format("test P@20 {:.4f} MRR@20 {:.4f}", number("p20"), number("mrr20"));
  }
  if (results.contains("tasks")) return "per-task test metrics in worker 0's summary and \"tasks\"";
  return fmt::format("test auc {:.4f} logloss {:.4f}", number("test_auc"), number("test_logloss"));
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : "";
}

Status RunLaunch(LaunchFlags& flags) {
  cluster::LaunchOptions& o = flags.options;
  COLONY_ASSIGN_OR_RETURN(o.token, ResolveToken(flags.token, flags.token_file));
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
  COLONY_ASSIGN_OR_RETURN(cluster::LaunchResult result, cluster::Launch(o, cluster::PrintPrefixedLine));
  COLONY_ASSIGN_OR_RETURN(cluster::JobSummary job, cluster::MergeWorkerSummaries(o, result));
  std::printf(
      "launch summary: %d servers, %d workers, %.1fs | %lld samples, %.0f samples/s | train "
      "loss %.4f | %s\n",
      o.servers, o.workers, result.seconds, static_cast<long long>(job.samples),
      job.samples_per_sec, job.train_loss, TestLine(job.results).c_str());
  return WriteSummaryJson(flags.summary_json, job.ToJson());
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
  cmd->add_option("--token-file", flags->token_file,
                  "file whose first line is the servers' shared token (default: COLONY_TOKEN, "
                  "else a random one)");
  cmd->add_option("--token", flags->token,
                  "the token itself (visible to every user in ps: prefer --token-file)");
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
