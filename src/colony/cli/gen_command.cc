#include <cstdio>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/data/ctr_generator.h"
#include "colony/data/multitask_generator.h"
#include "colony/data/session_generator.h"

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

  auto so = std::make_shared<data::SessionGeneratorOptions>();
  CLI::App* sessions = gen->add_subcommand(
      "sessions",
      "click sessions from a planted next-item model, with truth.json (oracle_p20, oracle_mrr20)");
  sessions->add_option("--out", so->out_dir, "output folder")->required();
  sessions->add_option("--sessions", so->sessions, "sessions in all (train + test)")
      ->capture_default_str();
  sessions->add_option("--items", so->items, "distinct items")->capture_default_str();
  sessions->add_option("--seed", so->seed, "random seed")->capture_default_str();
  sessions->add_option("--test-fraction", so->test_fraction, "share of sessions in test.txt")
      ->capture_default_str();
  sessions->add_option("--successors", so->successors, "items per successor list")
      ->capture_default_str();
  sessions->add_option("--buckets", so->buckets, "position buckets with their own lists")
      ->capture_default_str();
  sessions
      ->add_option("--position-dependence", so->position_dependence,
                   "share of transitions drawn from the position bucket's list (0: none)")
      ->capture_default_str();
  sessions->add_option("--noise", so->noise, "share of clicks drawn from popularity")
      ->capture_default_str();
  sessions->add_option("--continue-prob", so->continue_prob, "probability of another click")
      ->capture_default_str();
  sessions->add_option("--max-length", so->max_length, "longest session")->capture_default_str();
  sessions->callback([so, exit_code] {
    Status s = data::GenerateSessions(*so);
    if (s.ok()) std::printf("wrote %s/{train.txt,test.txt,truth.json}\n", so->out_dir.c_str());
    *exit_code = ExitCode(s);
  });
  auto mo = std::make_shared<data::MultitaskGeneratorOptions>();
  auto mix = std::make_shared<std::string>("0.5,0.5");
  CLI::App* multitask = gen->add_subcommand(
      "multitask",
      "two tasks of tunable correlation as in the MMoE paper, a task id per sample, with "
      "truth.json (label_correlation)");
  multitask->add_option("--out", mo->out_dir, "output folder")->required();
  multitask->add_option("--rows", mo->rows, "samples in all (train + test)")->capture_default_str();
  multitask->add_option("--test-fraction", mo->test_fraction, "share of samples in test.txt")
      ->capture_default_str();
  multitask->add_option("--dim", mo->dim, "features per sample")->capture_default_str();
  multitask->add_option("--correlation", mo->correlation, "cosine of the two tasks' weights")
      ->capture_default_str();
  multitask->add_option("--task-mix", *mix, "share of each task in train.txt, e.g. 0.95,0.05")
      ->capture_default_str();
  multitask->add_option("--labels", mo->labels, "regression or classification")
      ->capture_default_str();
  multitask->add_option("--sin-terms", mo->sin_terms, "sin terms of each label")
      ->capture_default_str();
  multitask->add_option("--scale", mo->scale, "norm of the task weights (c)")
      ->capture_default_str();
  multitask->add_option("--noise", mo->noise, "label noise std")->capture_default_str();
  multitask->add_option("--seed", mo->seed, "random seed")->capture_default_str();
  multitask->callback([mo, mix, exit_code] {
    StatusOr<std::vector<double>> shares = data::ParseTaskMix(*mix, "gen multitask: --task-mix");
    Status s = shares.status();
    if (s.ok()) {
      mo->task_mix = *shares;
      s = data::GenerateMultitask(*mo);
    }
    if (s.ok()) std::printf("wrote %s/{train.txt,test.txt,truth.json}\n", mo->out_dir.c_str());
    *exit_code = ExitCode(s);
  });
}

}  // namespace colony::cli
