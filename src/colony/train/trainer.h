// The CTR task (models lr, dnn, deepfm, wide_deep on Criteo TSV, CSV or libsvm files) and its
// typed entry points: training through the loop (loop.h), evaluation and prediction of a
// checkpoint.
//   COLONY_ASSIGN_OR_RETURN(TrainOptions options, ParseTrainOptions(config));
//   COLONY_ASSIGN_OR_RETURN(TrainSummary summary, Train(options));
//   std::cout << SummaryLine(summary);
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "colony/base/status.h"
#include "colony/train/loop.h"
#include "colony/train/train_options.h"

namespace colony::train {

// The CTR task's part of the summary.
struct CtrMetrics {
  double train_auc = 0;  // AUC of the training predictions seen (before each update).
  double test_auc = 0;   // Filled when a test file is configured (worker 0).
  double test_logloss = 0;
  // The keys train_auc, test_auc, test_logloss.
  void AddToJson(nlohmann::ordered_json& summary) const;
  // " | train auc 0.7012 | test auc 0.7110 logloss 0.5012 on 300 samples".
  std::string Line(int64_t test_samples) const;
};

struct TrainSummary : RunSummary, CtrMetrics {};

// Trains on options.data and, if a test file is set, evaluates on it (RunLoop's errors).
StatusOr<TrainSummary> Train(const TrainOptions& options);

// "summary: ... | train loss 0.4512 | bad lines 0 | train auc 0.7012 | test auc ...", and the JSON
// object: RunSummary::ToJson's keys and CtrMetrics's.
std::string SummaryLine(const TrainSummary& summary);
std::string SummaryJson(const TrainSummary& summary);

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

}  // namespace colony::train
