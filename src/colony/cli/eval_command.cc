#include <cstdio>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/train/trainer.h"

namespace colony::cli {
namespace {

struct EvalFlags {
  std::string checkpoint;
  std::string data;
  std::string out;
};

void Print(const train::EvalSummary& s) {
  std::printf("eval: auc %.4f logloss %.4f on %lld samples | bad lines %lld\n", s.auc, s.logloss,
              static_cast<long long>(s.samples), static_cast<long long>(s.bad_lines));
}

}  // namespace

void AddEvalCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* eval = app.add_subcommand("eval", "evaluate a checkpoint on a data file");
  eval->add_option("--checkpoint", flags->checkpoint, "checkpoint folder")->required();
  eval->add_option("--data", flags->data, "data file (default: the config's test file)");
  eval->callback([flags, exit_code] {
    StatusOr<train::EvalSummary> s = train::Evaluate(flags->checkpoint, flags->data);
    if (s.ok()) Print(*s);
    *exit_code = ExitCode(s.status());
  });

  CLI::App* predict = app.add_subcommand("predict", "write a checkpoint's predictions");
  predict->add_option("--checkpoint", flags->checkpoint, "checkpoint folder")->required();
  predict->add_option("--data", flags->data, "data file")->required();
  predict->add_option("--out", flags->out, "output file, one probability per line")->required();
  predict->callback([flags, exit_code] {
    StatusOr<train::EvalSummary> s = train::Predict(flags->checkpoint, flags->data, flags->out);
    if (s.ok()) Print(*s);
    *exit_code = ExitCode(s.status());
  });
}

}  // namespace colony::cli
