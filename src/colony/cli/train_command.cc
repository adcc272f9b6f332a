#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "colony/base/config.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cli/train_job.h"
#include "colony/train/loop.h"
#include "colony/train/task_registry.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

// The first SIGINT/SIGTERM asks the trainer to stop after its step and checkpoint; a second
// one kills the process the default way.
void RequestStop(int signal) {
  g_stop_requested = true;
  std::signal(signal, SIG_DFL);
}

}  // namespace

Status RunTrainJob(const TrainJobFlags& flags, const cluster::WorkerEnv* worker) {
  // The launcher's servers and token come first, so that an explicit --set still wins.
  std::vector<std::string> overrides;
  if (worker != nullptr && !worker->servers.empty()) {
    overrides.push_back(fmt::format("ps.servers=[{}]", fmt::join(worker->servers, ",")));
  }
  if (worker != nullptr && !worker->token.empty()) overrides.push_back("ps.token=" + worker->token);
  overrides.insert(overrides.end(), flags.overrides.begin(), flags.overrides.end());
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(flags.config, overrides));
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  // The task of the config's model.name (train/task_registry.h).
  COLONY_ASSIGN_OR_RETURN(train::Job job, train::ParseJob(config));
  // What the command line and the launcher say of a job, on top of its config: the worker's
  // rank and count, the checkpoint to resume from, the stop flag.
  if (worker != nullptr && worker->rank) {
    job.options.worker = {*worker->rank, *worker->count};
    COLONY_RETURN_IF_ERROR(job.options.Validate(job.task->traits()).WithContext(worker->source));
  }
  job.options.resume_dir = flags.resume;
  job.options.stop_requested = &g_stop_requested;
  COLONY_ASSIGN_OR_RETURN(train::RunSummary summary, train::RunLoop(job.options, *job.task));
  std::printf("%s\n", train::SummaryLine(summary, *job.task).c_str());
  return WriteSummaryJson(flags.summary_json, train::SummaryJson(summary, *job.task));
}

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<TrainJobFlags>();
  CLI::App* cmd = app.add_subcommand("train", "train a model in this process (embedded tables)");
  cmd->add_option("config", flags->config, "job YAML file")->required();
  cmd->add_option("--set", flags->overrides, "override a config key: key.path=value")->take_all();
  cmd->add_option("--summary-json", flags->summary_json, "write the final metrics as JSON here");
  cmd->add_option("--resume", flags->resume, "continue from the latest checkpoint in this folder");
  cmd->callback([flags, exit_code] { *exit_code = ExitCode(RunTrainJob(*flags, nullptr)); });
}

}  // namespace colony::cli
