// Local training, evaluation and prediction of CTR models with embedded parameter tables.
//   COLONY_ASSIGN_OR_RETURN(TrainOptions options, ParseTrainOptions(config));
//   COLONY_ASSIGN_OR_RETURN(TrainSummary summary, Train(options));
//   std::cout << SummaryLine(summary);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/data/reader.h"
#include "colony/train/train_options.h"

namespace colony::train {

// Strategy heter: one pass of the IO trainer (docs/heter.md).
struct HeterPass {
  int64_t samples = 0;  // Trained in the pass.
  int64_t keys = 0;     // Unique keys of the pass.
  int64_t hits = 0;     // Of those, keys the built-in PS held from the previous pass.
  // With the distributed PS: the pass's rows fetched and refreshed, the dense parameters
  // pulled, and the pass's changes pushed (ids and floats).
  int64_t bytes = 0;
  // The exchange that ended the pass (the first pass: and the one that started it); the
  // compute trainers wait for it.
  double exchange_seconds = 0;
  // Reading the pass, collecting its keys and fetching their rows, while the previous pass
  // trained (the first pass: before any training).
  double fetch_seconds = 0;
  double train_seconds = 0;  // The compute trainers' time on the pass.
};

struct TrainSummary {
  int64_t steps = 0;        // Steps run in this process (after a resume: the new ones).
  int64_t global_step = 0;  // Steps since the job began, across resumes.
  int64_t samples = 0;      // Training samples seen in this process.
  double seconds = 0;       // Wall time of the training loop.
  double samples_per_sec = 0;
  double train_loss = 0;  // Mean loss over this process's steps.
  double train_auc = 0;   // AUC of the training predictions seen (before each update).
  double test_auc = 0;    // Filled when a test file is configured.
  double test_logloss = 0;
  int64_t test_samples = 0;
  int64_t bad_lines = 0;                     // Malformed lines skipped, train and test together.
  std::vector<std::string> first_bad_lines;  // "file:line: reason" of the first few.
  int torch_threads = 0;
  int64_t sparse_rows = 0;  // Rows in the sparse tables at the end (all workers' tables).
  int64_t ssd_rows = 0;     // Of those, rows in the SSD tier.
  // ps.late_params candidate: steps trained on a candidate model (the global parameters
  // were late).
  int64_t candidate_steps = 0;
  bool reached_target_loss = false;     // Stopped because train.target_loss was reached.
  std::string checkpoint;               // Last checkpoint written, "" if none.
  std::vector<HeterPass> heter_passes;  // Strategy heter: each pass.
};

// Trains on options.data and, if a test file is set, evaluates on it. Progress goes to stderr.
// Errors: InvalidArgument/NotFound for bad options or files, DataLoss for a corrupt checkpoint,
// FailedPrecondition when the checkpoint was made by a different model.
StatusOr<TrainSummary> Train(const TrainOptions& options);

struct EvalSummary {
  double auc = 0;
  double logloss = 0;
  int64_t samples = 0;
  int64_t bad_lines = 0;
};

// Evaluates the latest checkpoint under `checkpoint_dir` on `data_file` ("" = the test file of
// the checkpoint's config).
StatusOr<EvalSummary> Evaluate(const std::string& checkpoint_dir, const std::string& data_file);

// Writes one click probability per valid input line to `out_file`.
StatusOr<EvalSummary> Predict(const std::string& checkpoint_dir, const std::string& data_file,
                              const std::string& out_file);

// One human-readable line, and a JSON object with the keys samples_per_sec, train_loss,
// test_auc, test_logloss, bad_lines (and more; with strategy heter a "heter" object with
// the passes' totals and each pass).
std::string SummaryLine(const TrainSummary& summary);
std::string SummaryJson(const TrainSummary& summary);

}  // namespace colony::train
