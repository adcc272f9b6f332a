// The colony command line: one subcommand a file, each thin over the library layers.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "colony/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"colony: train and serve large sparse and multi-task models"};
  app.require_subcommand(1);
  int exit_code = 0;
  colony::cli::AddTrainCommand(app, &exit_code);
  colony::cli::AddEvalCommands(app, &exit_code);
  colony::cli::AddGenCommand(app, &exit_code);
  colony::cli::AddPrepCommand(app, &exit_code);
  colony::cli::AddProgramCommand(app, &exit_code);
  colony::cli::AddServeCommands(app, &exit_code);
  colony::cli::AddLaunchCommand(app, &exit_code);
  colony::cli::AddIndexCommands(app, &exit_code);
  colony::cli::AddFlCommands(app, &exit_code);
  colony::cli::AddPipelineCommand(app, &exit_code);
  colony::cli::AddPackageCommands(app, &exit_code);
  std::string known;
  bool is_known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
    is_known = is_known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !is_known) {
    std::fprintf(stderr, "colony: error: unknown command '%s'; commands: %s\n", argv[1],
                 known.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
