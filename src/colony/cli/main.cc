// The colony command line: one subcommand a file, each thin over the library layers.
#include <CLI/CLI.hpp>

#include "colony/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"colony: train and serve large sparse and multi-task models"};
  app.require_subcommand(1);
  int exit_code = 0;
  colony::cli::AddTrainCommand(app, &exit_code);
  colony::cli::AddEvalCommands(app, &exit_code);
  colony::cli::AddGenCommand(app, &exit_code);
  colony::cli::AddProgramCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
