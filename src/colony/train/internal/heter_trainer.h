// The training loop of strategy heter (docs/heter.md): an IO trainer thread reads the batches
// of each pass of heter.pass_samples samples, collects their unique keys and fetches the rows
// the built-in PS lacks from the distributed PS, while heter.compute_threads compute trainers
// train the current pass against the built-in PS only; between passes the built-in PS is
// exchanged with the distributed PS. Private to train: RunLoop runs it in place of its step runner
// for CTR tasks.
#pragma once

#include "colony/base/status.h"
#include "colony/train/internal/ctr_task.h"
#include "colony/train/internal/loop_context.h"
#include "colony/train/loop.h"

namespace colony::train::internal {

// Trains `task` from ctx.state() (its epoch and batches_in_epoch are the data position to
// start from) to the end of the last epoch or train.max_steps, updating the state and the
// summary (steps, samples, runner.heter_passes); a stop request ends it after the current
// pass's trained part is pushed (ctx.interrupted()). Every change reaches the distributed PS
// before it returns.
Status RunHeter(LoopContext& ctx, CtrTask& task);

// The `"heter"` member of the summary JSON (the passes' totals and each pass); nothing with
// no passes.
void AddHeterJson(const RunnerSummary& runner, nlohmann::ordered_json& summary);

}  // namespace colony::train::internal
