// The one training loop. A Task (a model and its data) supplies batches, feeds them, names
// the sparse ids a batch needs, and computes its metrics and evaluation; the loop does the
// rest for every task: parameter tables (embedded or on parameter servers), the step runner
// of the strategy (local/async/sync/geo with the candidate model of ps.late_params, or heter),
// worker barriers, resume, checkpoints, stop checks, progress lines, the finite-loss check and
// the summary.
//   COLONY_ASSIGN_OR_RETURN(Job job, ParseJob(config));           // task_registry.h
//   COLONY_ASSIGN_OR_RETURN(RunSummary summary, RunLoop(job.options, *job.task));
//   std::cout << SummaryLine(summary, *job.task);
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"
#include "colony/ps/optimizer.h"
#include "colony/train/job_options.h"

namespace colony::exec {
class Executor;
class Scope;
}  // namespace colony::exec

namespace colony::train {
namespace internal {
class ParameterSet;
}  // namespace internal

// A task's programs ready to run: one executor per step program and the parameter tables of
// the whole program.
struct Model {
  Model();
  ~Model();
  std::vector<std::unique_ptr<exec::Executor>> executors;  // Task::step_programs() order.
  std::unique_ptr<internal::ParameterSet> parameters;
};

// How a task's parameters are updated.
struct TaskParameters {
  ps::OptimizerOptions sparse_optimizer;  // Of the sparse tables (embeddings).
  ps::OptimizerOptions dense_optimizer;   // Of every dense parameter.
  // Dense parameters of shape [rows, dim] that, on parameter servers, live row by row in a
  // sparse table spread over all servers (internal/parameter_set.h).
  std::vector<std::string> row_sharded;
};

// The batch a Task fed: which step program runs it, the sorted unique sparse ids whose rows
// it needs (empty for a model without sparse tables), and its samples.
struct Fed {
  int program = 0;
  std::span<const uint64_t> ids;
  int64_t samples = 0;
};

// Malformed lines skipped (train and test together) and the first few, "file:line: reason".
struct BadLines {
  int64_t count = 0;
  std::vector<std::string> first;
  void Add(int64_t n, const std::vector<std::string>& lines);  // Keeps the first 10.
};

// A model and its data. The loop calls Prepare once, then for each epoch StartEpoch and
// NextBatch/Feed/RecordStep per step, EndEpoch at its end; after training (worker 0)
// Evaluate. A checkpoint's data position is (epoch, batches trained in it): a resumed run
// calls StartEpoch and skips that many batches with NextBatch, so an epoch's batches must
// be a function of the epoch (and the job's seed and worker) alone.
// Not thread-safe: the loop calls one method at a time.
class Task {
 public:
  virtual ~Task() = default;
  virtual TaskTraits traits() const = 0;
  virtual std::string model_name() const = 0;  // model.name, for log lines.
  // Reads the data and builds the programs. NotFound for a missing file, InvalidArgument for
  // data that does not fit the model.
  virtual Status Prepare(const JobOptions& job) = 0;
  // The program holding every parameter: the tables and checkpoints are made from it.
  virtual const graph::ProgramDesc& program() const = 0;
  // The programs a step may run, Fed::program indexing them. Default: program().
  virtual std::vector<const graph::ProgramDesc*> step_programs() const { return {&program()}; }
  virtual TaskParameters parameters() const = 0;
  // This worker's samples over all epochs (train.max_steps included) since the job began,
  // for the progress line's ETA; 0: unknown.
  virtual int64_t planned_samples() const { return 0; }

  // Goes to the first batch of `epoch` (0-based).
  virtual Status StartEpoch(int64_t epoch) = 0;
  // Moves to this worker's next batch; false at the end of the epoch.
  virtual StatusOr<bool> NextBatch() = 0;
  // Puts the current batch's feeds into `scope`.
  virtual StatusOr<Fed> Feed(exec::Scope& scope) = 0;
  // After the step of `fed` (its forward outputs in `scope`, its finite `loss`): training
  // metrics. Default: none.
  virtual void RecordStep(const Fed& fed, const exec::Scope& scope, double loss) {}
  // The epoch's last batch was trained. Default: nothing.
  virtual void EndEpoch() {}
  // Appended to the progress line (" | auc 0.71"). Default: "".
  virtual std::string Progress() const { return ""; }

  // Evaluates `model` on the test data; returns the test samples (0 without test data).
  virtual StatusOr<int64_t> Evaluate(Model& model) = 0;
  virtual BadLines bad_lines() const = 0;
  // The task's part of the summary: JSON members and the end of the summary line
  // (" | train auc 0.71 | test auc 0.79 ...").
  virtual void AddToJson(nlohmann::ordered_json& summary) const = 0;
  virtual std::string SummaryLine() const = 0;
};

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

// What the step runner of the strategy adds to the summary.
struct RunnerSummary {
  // ps.late_params candidate: steps trained on a candidate model (the global parameters
  // were late).
  int64_t candidate_steps = 0;
  std::vector<HeterPass> heter_passes;  // Strategy heter: each pass.
};

// The summary every task shares; the task's own part comes from Task::AddToJson.
struct RunSummary {
  int64_t steps = 0;        // Steps run in this process (after a resume: the new ones).
  int64_t global_step = 0;  // This worker's steps since the job began, across resumes.
  int64_t samples = 0;      // Training samples seen in this process.
  double seconds = 0;       // Wall time of the training loop.
  double samples_per_sec = 0;
  double train_loss = 0;                     // Mean loss over this process's steps.
  int64_t test_samples = 0;                  // Worker 0, with test data.
  int64_t bad_lines = 0;                     // Malformed lines skipped, train and test together.
  std::vector<std::string> first_bad_lines;  // "file:line: reason" of the first few.
  int torch_threads = 0;
  int64_t sparse_rows = 0;           // Rows in the sparse tables at the end (all workers' tables).
  int64_t ssd_rows = 0;              // Of those, rows in the SSD tier.
  bool reached_target_loss = false;  // Stopped because train.target_loss was reached.
  std::string checkpoint;            // Last checkpoint written, "" if none.
  RunnerSummary runner;

  // The keys samples_per_sec, train_loss, steps, global_step, samples, seconds, test_samples,
  // bad_lines, first_bad_lines, torch_threads, sparse_rows, ssd_rows, checkpoint, candidate_steps,
  // reached_target_loss, and with strategy heter "heter" (the passes' totals and each pass).
  // A non-finite number is written as null.
  nlohmann::ordered_json ToJson() const;
  // "summary: 86 steps, 5400 samples in 1.2s (4500 samples/s) | train loss 0.4512 | bad
  // lines 0", then `task_part` and the runner's part.
  std::string Line(std::string_view task_part) const;
};

// The summary and the task's part: one line, and one JSON object (with a final newline).
std::string SummaryLine(const RunSummary& summary, const Task& task);
std::string SummaryJson(const RunSummary& summary, const Task& task);
// A summary object as one line of JSON text: non-finite metrics are null and listed under
// "non_finite" in the object that holds them (colony/base/json_util.h).
std::string SummaryText(nlohmann::ordered_json summary);

// Trains `task` as `job` says (from job.resume_dir's checkpoint when set), then, on worker 0
// with test data, evaluates it. Progress goes to stderr. InvalidArgument/NotFound for bad
// options or files, DataLoss for a corrupt checkpoint, FailedPrecondition when the checkpoint
// holds another model, DeadlineExceeded when the other workers do not come to a barrier,
// Cancelled when job.stop_requested was set (after writing a checkpoint if checkpoint.dir is
// set).
StatusOr<RunSummary> RunLoop(const JobOptions& job, Task& task);

// A typed entry point (Train, TrainSessions, TrainMultitask): validates `options` (a
// JobOptions and the task's options), runs a `TaskType` made from them and returns the summary
// with the task's metrics(). `Summary` derives from RunSummary and the metrics' type.
template <typename Summary, typename TaskType, typename Options>
StatusOr<Summary> RunTask(const Options& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  TaskType task(options);
  COLONY_ASSIGN_OR_RETURN(RunSummary run, RunLoop(options, task));
  Summary summary;
  static_cast<RunSummary&>(summary) = std::move(run);
  using Metrics = std::decay_t<decltype(task.metrics())>;
  static_cast<Metrics&>(summary) = task.metrics();
  return summary;
}

}  // namespace colony::train
