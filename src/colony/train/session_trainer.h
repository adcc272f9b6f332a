// Training, evaluation and top-k prediction of the session recommenders (SR-GNN, attention
// session graph; models/session_models.h) on session files, in one process with embedded
// tables. `colony train` comes here when model.name is a session model.
//   COLONY_ASSIGN_OR_RETURN(SessionTrainOptions o, ParseSessionTrainOptions(config));
//   COLONY_ASSIGN_OR_RETURN(SessionTrainSummary s, TrainSessions(o));
//   std::cout << SessionSummaryJson(s);   // keys p20, mrr20, samples_per_sec, ...
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/models/session_models.h"
#include "colony/ps/optimizer.h"
#include "colony/train/train_options.h"

namespace colony::train {

struct SessionDataOptions {
  std::string dir = "data/sessions";  // Folder of the files below. Default: "data/sessions".
  std::string train = "train.txt";    // Training sessions. Default: "train.txt".
  std::string test = "test.txt";      // Test sessions; "" skips the test. Default: "test.txt".
  int batch_size = 100;               // Samples (session prefixes) per step. Default: 100.
  int max_length = 20;                // Clicks of a prefix the model sees (the last ones).
};

struct SessionTrainOptions {
  // "local", "async" or "sync", as TrainOptions::strategy. On parameter servers the item
  // embedding matrix is a sparse table spread over all servers by row (every step pulls and
  // pushes all its rows: the scores need every item); the other parameters are dense tables
  // on the first server. Worker r of M trains batches r, r + M, ... of each epoch's shuffled
  // samples (sync: only whole rounds of M batches). Default: "local".
  std::string strategy = "local";
  // model.num_items 0 (the default) takes the largest item id in the train and test files.
  models::SessionModelOptions model;
  SessionDataOptions data;
  ps::OptimizerOptions optimizer;  // Key optimizer. Default: adam, lr 0.001.
  LoopOptions loop;                // Key train. Default epochs here: 3.
  // dir and every_steps, as TrainOptions::checkpoint (worker r of several: <dir>/worker-<r>;
  // on servers a checkpoint holds the program, config and data position only).
  CheckpointOptions checkpoint;
  PsOptions ps;  // Only the connection keys: servers, token, tls_ca, plaintext, deadlines.
  // Not from YAML: set by the command line.
  WorkerOptions worker;
  std::string resume_dir;   // Continue from the latest checkpoint under this folder.
  std::string config_text;  // Stored in checkpoints.
  const std::atomic<bool>* stop_requested = nullptr;  // As TrainOptions::stop_requested.
  SessionTrainOptions();
  Status Validate() const;
};

// True when the config's model.name is a session model (then use the functions below).
bool IsSessionConfig(const Config& config);
// InvalidArgument naming file, line and key for an unknown key or a bad value.
StatusOr<SessionTrainOptions> ParseSessionTrainOptions(const Config& config);

struct SessionTrainSummary {
  int64_t steps = 0, samples = 0;  // In this process (after a resume: the new ones).
  int64_t global_step = 0;         // This worker's steps since the job began, across resumes.
  double seconds = 0, samples_per_sec = 0;
  double train_loss = 0;  // Mean over the steps.
  double p20 = 0;         // Share of test samples whose next item is in the top 20.
  double mrr20 = 0;       // Mean reciprocal rank of the next item, 0 beyond 20.
  int64_t test_samples = 0;
  int64_t num_items = 0;
  int64_t bad_lines = 0;  // Train and test together.
  std::vector<std::string> first_bad_lines;
  int torch_threads = 0;
  std::string checkpoint;
};

// Trains (from resume_dir's checkpoint when set), then evaluates on the test file; in a job
// of several workers worker 0 evaluates the shared model after all have finished, the
// others report no test metrics. Progress goes to stderr. NotFound for a missing data file
// or checkpoint, InvalidArgument for bad options or items beyond model.num_items,
// FailedPrecondition when the checkpoint holds another model, Cancelled when
// stop_requested was set (after writing a checkpoint if checkpoint.dir is set).
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
