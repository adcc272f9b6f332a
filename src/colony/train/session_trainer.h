// Training, evaluation and top-k prediction of the session recommenders (SR-GNN, attention
// session graph; models/session_models.h) on session files, in one process with embedded
// tables or on parameter servers: the session task of the loop (loop.h), registered for
// model.name srgnn and attention_graph.
//   COLONY_ASSIGN_OR_RETURN(SessionTrainOptions o, ParseSessionTrainOptions(config));
//   COLONY_ASSIGN_OR_RETURN(SessionTrainSummary s, TrainSessions(o));
//   std::cout << SessionSummaryJson(s);   // keys p20, mrr20, samples_per_sec, ...
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/models/session_models.h"
#include "colony/ps/optimizer.h"
#include "colony/train/job_options.h"
#include "colony/train/loop.h"

namespace colony::train {

struct SessionDataOptions {
  std::string dir = "data/sessions";  // Folder of the files below. Default: "data/sessions".
  std::string train = "train.txt";    // Training sessions. Default: "train.txt".
  std::string test = "test.txt";      // Test sessions; "" skips the test. Default: "test.txt".
  int batch_size = 100;               // Samples (session prefixes) per step. Default: 100.
  int max_length = 20;                // Clicks of a prefix the model sees (the last ones).
};

// The session task's own sections: model, data and optimizer.
struct SessionTaskOptions {
  // model.num_items 0 (the default) takes the largest item id in the train and test files.
  models::SessionModelOptions model;
  SessionDataOptions data;
  ps::OptimizerOptions optimizer;  // Key optimizer. Default: adam, lr 0.001.
  SessionTaskOptions();
  Status Validate() const;
};

// Strategies "local", "async" or "sync". On parameter servers the item embedding matrix is a
// sparse table spread over all servers by row (every step pulls and pushes all its rows: the
// scores need every item); the other parameters are dense tables on the first server. Worker
// r of M trains batches r, r + M, ... of each epoch's shuffled samples (sync: only whole
// rounds of M batches). On servers, worker 0's last checkpoint also holds a copy of the
// trained parameters for eval and predict.
TaskTraits SessionTraits();

// A session job: the shared sections (train.epochs defaults to 3 here) and the task's.
struct SessionTrainOptions : JobOptions, SessionTaskOptions {
  SessionTrainOptions();
  Status Validate() const;
};

// True when the config's model.name is a session model (then use the functions below).
bool IsSessionConfig(const Config& config);
// InvalidArgument naming file, line and key for an unknown key or a bad value.
StatusOr<SessionTrainOptions> ParseSessionTrainOptions(const Config& config);

// The session task's part of the summary.
struct SessionMetrics {
  double p20 = 0;    // Share of test samples whose next item is in the top 20.
  double mrr20 = 0;  // Mean reciprocal rank of the next item, 0 beyond 20.
  int64_t num_items = 0;
  void AddToJson(nlohmann::ordered_json& summary) const;  // Keys p20, mrr20, num_items.
  std::string Line(int64_t test_samples) const;
};

struct SessionTrainSummary : RunSummary, SessionMetrics {};

// Trains through RunLoop (its errors), then evaluates on the test file (worker 0).
// InvalidArgument for items beyond model.num_items.
StatusOr<SessionTrainSummary> TrainSessions(const SessionTrainOptions& options);

std::string SessionSummaryLine(const SessionTrainSummary& summary);
std::string SessionSummaryJson(const SessionTrainSummary& summary);

// True when the latest checkpoint under `dir` holds a session model.
bool IsSessionCheckpoint(const std::string& dir);

struct SessionEval {
  double p20 = 0, mrr20 = 0;
  int64_t samples = 0, bad_lines = 0;
};
// P@20 and MRR@20 of the checkpoint on a session file ("" = the config's test file).
StatusOr<SessionEval> EvaluateSessions(const std::string& checkpoint_dir,
                                       const std::string& data_file);

// The k best next items (id, score), best first, for each session. InvalidArgument naming the
// session and position for an empty session or an item id outside 1..num_items, and for k < 1.
StatusOr<std::vector<std::vector<std::pair<int64_t, float>>>> PredictSessions(
    const std::string& checkpoint_dir, const std::vector<std::vector<int64_t>>& sessions, int k);

// Parses sessions given as text: one session a line (or separated by ';'), items separated by
// spaces or commas. InvalidArgument naming the session and token for a non-integer item or an
// empty session; `where` names the source (a flag or a file) in messages.
StatusOr<std::vector<std::vector<int64_t>>> ParseSessionsText(const std::string& text,
                                                              const std::string& where);

}  // namespace colony::train
