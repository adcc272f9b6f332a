// The loop's bookkeeping of one run, shared by its step runners (loop.cc's for local, async,
// sync and geo; internal/heter_trainer.h for heter): stop checks, step counts, the progress
// line, train.target_loss, epoch ends and checkpoints. Private to train.
#pragma once

#include <deque>
#include <string>

#include "colony/base/status.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/job_options.h"
#include "colony/train/loop.h"

namespace colony::train::internal {

// Not thread-safe: a runner with several threads calls it under its own lock.
class LoopContext {
 public:
  // All must outlive the context. `state` is the data position to start from.
  LoopContext(const JobOptions& job, Task& task, Model& model, CheckpointState& state,
              RunSummary& summary);

  const JobOptions& job() const { return job_; }
  Task& task() { return task_; }
  Model& model() { return model_; }
  CheckpointState& state() { return state_; }
  RunSummary& summary() { return summary_; }

  // Before each step: true when training must end now, for train.max_steps or a stop
  // request (then interrupted() is true too).
  bool ShouldStop();
  // After a step of `samples` samples with `loss` in `epoch`: InvalidArgument for a
  // non-finite loss; else counts the step, prints the progress line when due, checks
  // train.target_loss (stopped() turns true when reached) and writes the checkpoint of
  // checkpoint.every_steps. REQUIRES: state().batches_in_epoch already counts the step.
  Status CountStep(double loss, int64_t samples, int64_t epoch);
  // The end of an epoch's data: the task's EndEpoch; on worker 0 with row policies that
  // need it the tables end a pass (evictions). Does not move state().epoch.
  Status EndEpoch(int64_t epoch);
  // Writes a checkpoint of the current state when checkpoint.dir is set.
  Status WriteCheckpoint();

  void set_interrupted() { stopped_ = interrupted_ = true; }
  bool stopped() const { return stopped_; }
  bool interrupted() const { return interrupted_; }
  double loss_sum() const { return loss_sum_; }

 private:
  const JobOptions& job_;
  Task& task_;
  Model& model_;
  CheckpointState& state_;
  RunSummary& summary_;
  bool stopped_ = false, interrupted_ = false;
  double loss_sum_ = 0;
  std::deque<double> recent_losses_;  // The last kTargetLossWindow, for train.target_loss.
  double recent_loss_sum_ = 0;
  int64_t planned_ = 0;  // Samples still to train, for the ETA; 0: unknown.
  Clock::time_point start_, last_log_;
};

}  // namespace colony::train::internal
