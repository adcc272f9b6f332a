#include <atomic>
#include <csignal>
#include <cstdio>

#include "colony/base/config.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/train/session_trainer.h"
#include "colony/train/trainer.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

// The first SIGINT/SIGTERM asks the trainer to stop after its step and checkpoint; a second
// one kills the process the default way.
void RequestStop(int signal) {
  g_stop_requested = true;
  std::signal(signal, SIG_DFL);
}

struct TrainFlags {
  std::string config;
  std::vector<std::string> overrides;
  std::string summary_json;
  std::string resume;
};

// Session recommenders (model.name srgnn / attention_graph) have their own trainer.
Status RunSessionTrain(const TrainFlags& flags, const Config& config) {
  if (!flags.resume.empty()) {
    return InvalidArgumentError("--resume is not available for session models yet");
  }
  COLONY_ASSIGN_OR_RETURN(train::SessionTrainOptions options,
                          train::ParseSessionTrainOptions(config));
  options.stop_requested = &g_stop_requested;
  COLONY_ASSIGN_OR_RETURN(train::SessionTrainSummary summary, train::TrainSessions(options));
  std::printf("%s\n", train::SessionSummaryLine(summary).c_str());
  return WriteSummaryJson(flags.summary_json, train::SessionSummaryJson(summary));
}

Status RunTrain(const TrainFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(flags.config, flags.overrides));
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  if (train::IsSessionConfig(config)) return RunSessionTrain(flags, config);
  COLONY_ASSIGN_OR_RETURN(train::TrainOptions options, train::ParseTrainOptions(config));
  options.resume_dir = flags.resume;
  options.stop_requested = &g_stop_requested;
  COLONY_ASSIGN_OR_RETURN(train::TrainSummary summary, train::Train(options));
  std::printf("%s\n", train::SummaryLine(summary).c_str());
  return WriteSummaryJson(flags.summary_json, train::SummaryJson(summary));
}

}  // namespace

void AddTrainCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "train a model in this process (embedded tables)");
  cmd->add_option("config", flags->config, "job YAML file")->required();
  cmd->add_option("--set", flags->overrides, "override a config key: key.path=value")->take_all();
  cmd->add_option("--summary-json", flags->summary_json, "write the final metrics as JSON here");
  cmd->add_option("--resume", flags->resume, "continue from the latest checkpoint in this folder");
  cmd->callback([flags, exit_code] { *exit_code = ExitCode(RunTrain(*flags)); });
}

}  // namespace colony::cli
