#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <regex>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cluster/launcher.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
void RequestStop(int) { g_stop_requested = true; }

struct LaunchFlags {
  cluster::LaunchOptions options;
  std::string summary_json;
};

// The number after "key": in one of our flat summary objects; 0 when absent.
double JsonNumber(const std::string& json, const std::string& key) {
  std::smatch match;
  const std::regex pattern("\"" + key + "\": (-?[0-9.eE+-]+)");
  return std::regex_search(json, match, pattern) ? std::stod(match[1]) : 0.0;
}

bool IsSessionSummary(const std::string& json) {
  return json.find("\"p20\": ") != std::string::npos;
}

// The object after "key": in `json` (braces matched; our summaries hold no braces in
// strings), or "" when absent.
std::string JsonObject(const std::string& json, const std::string& key) {
  const size_t start = json.find("\"" + key + "\": {");
  if (start == std::string::npos) return "";
  const size_t open = json.find('{', start);
  int depth = 0;
  for (size_t i = open; i < json.size(); ++i) {
    depth += json[i] == '{' ? 1 : json[i] == '}' ? -1 : 0;
    if (depth == 0) return json.substr(open, i - open + 1);
  }
  return "";
}

// One summary for the job: worker 0's test metrics (it tests the shared model; a
// multi-task job's per-task "tasks" too), the workers' samples and throughput added up,
// their mean training loss.
std::string JobSummaryJson(const cluster::LaunchOptions& o, const cluster::LaunchResult& r) {
  double samples = 0, rate = 0, loss = 0;
  std::string workers;
  for (size_t i = 0; i < r.worker_summaries.size(); ++i) {
    const std::string& w = r.worker_summaries[i];
    samples += JsonNumber(w, "samples");
    rate += JsonNumber(w, "samples_per_sec");
    loss += JsonNumber(w, "train_loss") / r.worker_summaries.size();
    std::string trimmed = w;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    workers += (i ? ", " : "") + trimmed;
  }
  const std::string& first = r.worker_summaries.at(0);
  // Worker 0 tests the shared model: AUC and log loss, or P@20 and MRR@20 (session models).
  const std::string test =
      IsSessionSummary(first)
          ? fmt::format("\"p20\": {:.6f}, \"mrr20\": {:.6f}", JsonNumber(first, "p20"),
                        JsonNumber(first, "mrr20"))
          : fmt::format("\"test_auc\": {:.6f}, \"test_logloss\": {:.6f}",
                        JsonNumber(first, "test_auc"), JsonNumber(first, "test_logloss"));
  const std::string tasks = JsonObject(first, "tasks");
  return fmt::format(
      "{{\"servers\": {}, \"workers\": {}, \"seconds\": {:.3f}, \"samples\": {:.0f}, "
      "\"samples_per_sec\": {:.3f}, \"train_loss\": {:.6f}, {}, \"test_samples\": {:.0f}, "
      "\"bad_lines\": {:.0f}, {}\"worker_summaries\": [{}]}}\n",
      o.servers, o.workers, r.seconds, samples, rate, loss, test, JsonNumber(first, "test_samples"),
      JsonNumber(first, "bad_lines"), tasks.empty() ? "" : "\"tasks\": " + tasks + ", ", workers);
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
  std::mutex print_mu;
  auto print = [&](const std::string& name, const std::string& line) {
    std::lock_guard<std::mutex> lock(print_mu);
    std::printf("[%s] %s\n", name.c_str(), line.c_str());
    std::fflush(stdout);
  };
  COLONY_ASSIGN_OR_RETURN(cluster::LaunchResult result, cluster::Launch(o, print));
  const std::string json = JobSummaryJson(o, result);
  // A multi-task job's test metrics are per task: worker 0's summary lines and "tasks".
  std::string test;
  if (IsSessionSummary(json)) {
    test = fmt::format("test P@20 {:.4f} MRR@20 {:.4f}", JsonNumber(json, "p20"),
                       JsonNumber(json, "mrr20"));
  } else if (!JsonObject(json, "tasks").empty()) {
    test = "per-task test metrics in worker 0's summary and \"tasks\"";
  } else {
    test = fmt::format("test auc {:.4f} logloss {:.4f}", JsonNumber(json, "test_auc"),
                       JsonNumber(json, "test_logloss"));
  }
  std::printf(
      "launch summary: %d servers, %d workers, %.1fs | %.0f samples, %.0f samples/s | train "
      "loss %.4f | %s\n",
      o.servers, o.workers, result.seconds, JsonNumber(json, "samples"),
      JsonNumber(json, "samples_per_sec"), JsonNumber(json, "train_loss"), test.c_str());
  return WriteSummaryJson(flags.summary_json, json);
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
  cmd->add_option("--inject-delay-ms", o.inject_delay_ms,
                  "tests and benchmarks only: servers answer every Pull this many ms late");
  cmd->callback([flags, exit_code] { *exit_code = ExitCode(RunLaunch(*flags)); });
}

}  // namespace colony::cli
