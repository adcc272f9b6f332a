#include <cstdio>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/data/ctr_generator.h"

namespace colony::cli {

void AddGenCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<data::CtrGeneratorOptions>();
  CLI::App* gen = app.add_subcommand("gen", "generate data sets with a known truth");
  gen->require_subcommand(1);
  CLI::App* ctr = gen->add_subcommand(
      "ctr", "Criteo-format click data from a planted model, with truth.json (bayes_auc)");
  ctr->add_option("--rows", options->rows, "rows in all (train + test)")->capture_default_str();
  ctr->add_option("--out", options->out_dir, "output folder")->required();
  ctr->add_option("--seed", options->seed, "random seed")->capture_default_str();
  ctr->add_option("--test-fraction", options->test_fraction, "share of rows in test.txt")
      ->capture_default_str();
  ctr->callback([options, exit_code] {
    Status s = data::GenerateCtr(*options);
    if (s.ok()) std::printf("wrote %s/{train.txt,test.txt,truth.json}\n", options->out_dir.c_str());
    *exit_code = ExitCode(s);
  });
}

}  // namespace colony::cli
