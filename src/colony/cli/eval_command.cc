#include <fmt/format.h>

#include <cstdio>

#include "colony/base/file_util.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/train/session_trainer.h"
#include "colony/train/trainer.h"

namespace colony::cli {
namespace {

struct EvalFlags {
  std::string checkpoint;
  std::string data;
  std::string out;
  std::string session;
  std::string session_file;
  int k = 20;
};

void Print(const train::EvalSummary& s) {
  std::printf("eval: auc %.4f logloss %.4f on %lld samples | bad lines %lld\n", s.auc, s.logloss,
              static_cast<long long>(s.samples), static_cast<long long>(s.bad_lines));
}

Status RunEval(const EvalFlags& f) {
  if (train::IsSessionCheckpoint(f.checkpoint)) {
    COLONY_ASSIGN_OR_RETURN(train::SessionEval s, train::EvaluateSessions(f.checkpoint, f.data));
    std::printf("eval: P@20 %.4f MRR@20 %.4f on %lld samples | bad lines %lld\n", s.p20, s.mrr20,
                static_cast<long long>(s.samples), static_cast<long long>(s.bad_lines));
    return OkStatus();
  }
  COLONY_ASSIGN_OR_RETURN(train::EvalSummary s, train::Evaluate(f.checkpoint, f.data));
  Print(s);
  return OkStatus();
}

// Top-k items of a session model for sessions from --session or --session-file: one line per
// session, "item:score" pairs best first.
Status RunSessionPredict(const EvalFlags& f) {
  if (!f.session.empty() && !f.session_file.empty()) {
    return InvalidArgumentError("give --session or --session-file, not both");
  }
  std::string text = f.session, where = "--session";
  if (!f.session_file.empty()) {
    COLONY_ASSIGN_OR_RETURN(text, ReadFile(f.session_file));
    where = f.session_file;
  }
  COLONY_ASSIGN_OR_RETURN(auto sessions, train::ParseSessionsText(text, where));
  COLONY_ASSIGN_OR_RETURN(auto top, train::PredictSessions(f.checkpoint, sessions, f.k));
  std::string out;
  for (const auto& row : top) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += (i ? " " : "") + std::to_string(row[i].first) + ":" +
             fmt::format("{:.4f}", row[i].second);
    }
    out += "\n";
  }
  if (f.out.empty()) {
    std::fputs(out.c_str(), stdout);
    return OkStatus();
  }
  return WriteFileAtomic(f.out, out);
}

Status RunPredict(const EvalFlags& f) {
  if (!f.session.empty() || !f.session_file.empty()) return RunSessionPredict(f);
  if (f.data.empty() || f.out.empty()) {
    return InvalidArgumentError(
        "predict needs --data and --out (click models) or --session / --session-file (session "
        "models)");
  }
  COLONY_ASSIGN_OR_RETURN(train::EvalSummary s, train::Predict(f.checkpoint, f.data, f.out));
  Print(s);
  return OkStatus();
}

}  // namespace

void AddEvalCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* eval = app.add_subcommand("eval", "evaluate a checkpoint on a data file");
  eval->add_option("--checkpoint", flags->checkpoint, "checkpoint folder")->required();
  eval->add_option("--data", flags->data, "data file (default: the config's test file)");
  eval->callback([flags, exit_code] { *exit_code = ExitCode(RunEval(*flags)); });

  CLI::App* predict = app.add_subcommand(
      "predict", "write a checkpoint's predictions, or the top-k next items of sessions");
  predict->add_option("--checkpoint", flags->checkpoint, "checkpoint folder")->required();
  predict->add_option("--data", flags->data, "data file (click models)");
  predict->add_option("--out", flags->out,
                      "output file: one probability per line (click models); for sessions "
                      "the top-k lines (default: stdout)");
  predict->add_option("--session", flags->session,
                      "session models: clicked item ids, e.g. \"3 17 5\"; ';' separates sessions");
  predict->add_option("--session-file", flags->session_file,
                      "session models: a file of sessions, one a line");
  predict->add_option("--k", flags->k, "session models: items to return")->capture_default_str();
  predict->callback([flags, exit_code] { *exit_code = ExitCode(RunPredict(*flags)); });
}

}  // namespace colony::cli
