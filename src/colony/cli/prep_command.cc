#include <cstdio>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/data/session_data.h"

namespace colony::cli {

void AddPrepCommand(CLI::App& app, int* exit_code) {
  CLI::App* prep = app.add_subcommand("prep", "turn raw public data sets into colony's formats");
  prep->require_subcommand(1);
  auto o = std::make_shared<data::SessionLogOptions>();
  CLI::App* sessions = prep->add_subcommand(
      "sessions",
      "Diginetica / YOOCHOOSE click log -> train.txt, test.txt, items.tsv (standard filtering, "
      "time-based test split)");
  sessions->add_option("--log", o->log_file, "raw click log")->required();
  sessions->add_option("--format", o->format, "diginetica or yoochoose")->capture_default_str();
  sessions->add_option("--out", o->out_dir, "output folder")->required();
  sessions->add_option("--min-item-count", o->min_item_count, "drop items clicked fewer times")
      ->capture_default_str();
  sessions
      ->add_option("--test-days", o->test_days,
                   "days at the end that form the test split (0: 7 for diginetica, 1 for "
                   "yoochoose)")
      ->capture_default_str();
  sessions->callback([o, exit_code] {
    StatusOr<data::SessionLogStats> s = data::PreprocessSessionLog(*o);
    if (s.ok()) {
      std::printf(
          "wrote %s/{train.txt,test.txt,items.tsv}: %lld train / %lld test sessions, "
          "%lld items, %lld bad lines\n",
          o->out_dir.c_str(), static_cast<long long>(s->train_sessions),
          static_cast<long long>(s->test_sessions), static_cast<long long>(s->items),
          static_cast<long long>(s->bad_lines));
    }
    *exit_code = ExitCode(s.status());
  });
}

}  // namespace colony::cli
