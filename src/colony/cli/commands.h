// One function per subcommand: each declares its flags on `app` and sets a callback that
// stores the exit code in `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace colony::cli {

void AddTrainCommand(CLI::App& app, int* exit_code);
void AddEvalCommands(CLI::App& app, int* exit_code);  // eval and predict
void AddGenCommand(CLI::App& app, int* exit_code);
void AddPrepCommand(CLI::App& app, int* exit_code);  // prep sessions
void AddProgramCommand(CLI::App& app, int* exit_code);
void AddServeCommands(CLI::App& app, int* exit_code);  // serve and ps stats
void AddLaunchCommand(CLI::App& app, int* exit_code);
void AddIndexCommands(CLI::App& app, int* exit_code);  // index build|query|add|remove
void AddFlCommands(CLI::App& app, int* exit_code);     // fl vertical
void AddPipelineCommand(CLI::App& app, int* exit_code);
void AddPackageCommands(CLI::App& app, int* exit_code);  // package prepare

}  // namespace colony::cli
