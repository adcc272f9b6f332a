// Training of multi-task models (shared-bottom, MMoE; models/multitask_models.h) with
// per-task sample queues (internal/task_queues.h): the reader puts each sample in its task's
// queue, and each batch a queue releases trains the shared layers and that task's tower,
// whose gradients update both in the parameter tables (embedded, or parameter servers with
// strategy async): the multi-task task of the loop (loop.h), registered for model.name
// shared_bottom and mmoe. See docs/multitask.md.
//   COLONY_ASSIGN_OR_RETURN(MultitaskTrainOptions o, ParseMultitaskTrainOptions(config));
//   COLONY_ASSIGN_OR_RETURN(MultitaskTrainSummary s, TrainMultitask(o));
//   std::cout << MultitaskSummaryJson(s);   // keys samples_per_sec, tasks, ...
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/models/multitask_models.h"
#include "colony/ps/optimizer.h"
#include "colony/train/job_options.h"
#include "colony/train/loop.h"

namespace colony::train {

struct MultitaskDataOptions {
  std::string dir = "data/multitask";  // Folder of the files below. Default: "data/multitask".
  std::string train = "train.txt";     // Training samples. Default: "train.txt".
  std::string test = "test.txt";       // Test samples; "" skips the test. Default: "test.txt".
  int batch_size = 128;                // Samples per batch (of one task). Default: 128.
};

struct TaskQueueOptions {
  // A partly full queue whose oldest sample has waited this many steps (batches of any task)
  // trains as a smaller batch, so a rare task is not starved; 0: only at the end of each
  // pass over the data. Default: 50.
  int64_t max_wait_steps = 50;
};

// The multi-task task's own sections: model, data, queues and optimizer.
struct MultitaskTaskOptions {
  // model.input_dim 0 (the default here) takes the data's feature count.
  models::MultitaskModelOptions model;
  MultitaskDataOptions data;
  TaskQueueOptions queues;         // Key queues.
  ps::OptimizerOptions optimizer;  // Key optimizer. Default: adam, lr 0.001.
  MultitaskTaskOptions();
  Status Validate() const;
};

// Strategies "local" (embedded tables, or ps.servers) or "async" (workers of a job push and
// pull without waiting for each other; needs ps.servers). Worker r trains samples r,
// r + count, ... A checkpoint's data position is the batches of the epoch trained: a resumed
// run replays the epoch's queues up to it without training, so it trains the same batches.
TaskTraits MultitaskTraits();

// A multi-task job: the shared sections (train.epochs defaults to 10 here) and the task's.
struct MultitaskTrainOptions : JobOptions, MultitaskTaskOptions {
  MultitaskTrainOptions();
  Status Validate() const;
};

// True when the config's model.name is a multi-task model.
bool IsMultitaskConfig(const Config& config);
// InvalidArgument naming file, line and key for an unknown key or a bad value.
StatusOr<MultitaskTrainOptions> ParseMultitaskTrainOptions(const Config& config);

struct TaskSummary {
  int64_t samples = 0, batches = 0, partial_batches = 0;
  double train_loss = 0;  // Mean over this task's batches.
  double queue_depth_mean = 0;
  int64_t queue_depth_max = 0;
  double staleness_mean = 0;  // Steps between a sample's arrival and its training.
  int64_t staleness_max = 0;
  // Test set (worker 0 only): MSE for regression; AUC and log loss for classification.
  int64_t test_samples = 0;
  double test_mse = 0, test_auc = 0, test_logloss = 0;
};

// The multi-task task's part of the summary.
struct MultitaskMetrics {
  std::string task_type;
  std::vector<TaskSummary> tasks;
  // The keys task_type and tasks: {"0": {...}, ...}.
  void AddToJson(nlohmann::ordered_json& summary) const;
  std::string Line() const;  // One line per task.
};

struct MultitaskTrainSummary : RunSummary, MultitaskMetrics {};

// Trains through RunLoop (its errors), then (worker 0) evaluates each task on the test file.
// Progress, with each task's samples, queue depth and staleness, goes to stderr.
StatusOr<MultitaskTrainSummary> TrainMultitask(const MultitaskTrainOptions& options);

std::string MultitaskSummaryLine(const MultitaskTrainSummary& summary);
// Flat keys (samples_per_sec, train_loss, steps, samples, ...) and "tasks": {"0": {...}, ...}.
std::string MultitaskSummaryJson(const MultitaskTrainSummary& summary);

}  // namespace colony::train
