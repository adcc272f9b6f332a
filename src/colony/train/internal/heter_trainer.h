// The training loop of strategy heter (docs/heter.md): an IO trainer thread reads the batches
// of each pass of heter.pass_samples samples, collects their unique keys and fetches the rows
// the built-in PS lacks from the distributed PS, while heter.compute_threads compute trainers
// train the current pass against the built-in PS only; between passes the built-in PS is
// exchanged with the distributed PS. Private to train: Train() runs it in place of its loop.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "colony/base/metrics.h"
#include "colony/base/status.h"
#include "colony/data/reader.h"
#include "colony/program.pb.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/train_options.h"
#include "colony/train/trainer.h"

namespace colony::train::internal {

struct HeterJob {
  const TrainOptions* options = nullptr;
  const graph::ProgramDesc* program = nullptr;  // A CTR program: one fetch (the probability).
  ParameterSet* parameters = nullptr;           // The distributed PS.
  data::Reader* reader = nullptr;               // Used by the IO thread only.
  // Reads this worker's next batch of the epoch into the argument; false at the epoch's end.
  std::function<StatusOr<bool>(data::Batch*)> next_batch;
  // Called after each trained batch with (epoch, global step, samples, mean loss, auc so far),
  // from one compute thread at a time.
  std::function<void(int64_t, int64_t, int64_t, double, const AucAccumulator&)> progress;
};

// What the loop leaves besides `state` and `summary` (steps, samples, heter_passes).
struct HeterOutcome {
  bool interrupted = false;  // options.stop_requested was set: the trained part was pushed.
  std::optional<data::ReaderStats> one_pass;  // Reader stats at the end of the first epoch.
  double loss_sum = 0;                        // Of the steps' losses.
};

// Trains from `state` (its epoch and batches_in_epoch are the data position to start from)
// to the end of the last epoch or train.max_steps, updating `state`, `summary` and
// `train_auc`. Every change reaches the distributed PS before it returns.
StatusOr<HeterOutcome> TrainHeter(const HeterJob& job, CheckpointState& state,
                                  TrainSummary& summary, AucAccumulator& train_auc);

// The `"heter": {...}` member of the summary JSON (totals and each pass), "" with no passes.
std::string HeterJson(const TrainSummary& summary);

}  // namespace colony::train::internal
