#include <cstdio>

#include "colony/base/config.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/graph/program.h"
#include "colony/models/multitask_models.h"
#include "colony/models/session_models.h"
#include "colony/train/multitask_trainer.h"
#include "colony/train/session_trainer.h"
#include "colony/train/train_options.h"

namespace colony::cli {
namespace {

struct ProgramFlags {
  std::string config;
  std::vector<std::string> overrides;
};

Status Dump(const ProgramFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(flags.config, flags.overrides));
  if (train::IsMultitaskConfig(config)) {
    COLONY_ASSIGN_OR_RETURN(train::MultitaskTrainOptions options,
                            train::ParseMultitaskTrainOptions(config));
    if (options.model.input_dim == 0) {
      return InvalidArgumentError(
          "a multi-task model's program depends on its input width: add --set "
          "model.input_dim=N");
    }
    COLONY_ASSIGN_OR_RETURN(models::MultitaskPrograms programs,
                            models::BuildMultitaskModel(options.model));
    for (size_t k = 0; k < programs.tasks.size(); ++k) {
      std::printf("# task %zu: the shared layers and tower %zu\n%s", k, k,
                  graph::ToText(programs.tasks[k]).c_str());
    }
    return OkStatus();
  }
  if (train::IsSessionConfig(config)) {
    COLONY_ASSIGN_OR_RETURN(train::SessionTrainOptions options,
                            train::ParseSessionTrainOptions(config));
    if (options.model.num_items == 0) {
      return InvalidArgumentError(
          "a session model's program depends on its item count: add --set model.num_items=N");
    }
    COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, models::BuildSessionModel(options.model));
    std::printf("%s", graph::ToText(program).c_str());
    return OkStatus();
  }
  COLONY_ASSIGN_OR_RETURN(train::TrainOptions options, train::ParseTrainOptions(config));
  COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, models::BuildCtrModel(options.model));
  std::printf("%s", graph::ToText(program).c_str());
  return OkStatus();
}

}  // namespace

void AddProgramCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ProgramFlags>();
  CLI::App* program = app.add_subcommand("program", "inspect programs");
  program->require_subcommand(1);
  CLI::App* dump = program->add_subcommand("dump", "print the program of a job's model as text");
  dump->add_option("config", flags->config, "job YAML file")->required();
  dump->add_option("--set", flags->overrides, "override a config key: key.path=value")->take_all();
  dump->callback([flags, exit_code] { *exit_code = ExitCode(Dump(*flags)); });
}

}  // namespace colony::cli
