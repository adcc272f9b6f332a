#include "colony/train/internal/loop_context.h"

#include <fmt/format.h>

#include <cmath>

#include "colony/base/logging.h"
#include "colony/train/internal/parameter_set.h"

namespace colony::train::internal {

LoopContext::LoopContext(const JobOptions& job, Task& task, Model& model, CheckpointState& state,
                         RunSummary& summary)
    : job_(job),
      task_(task),
      model_(model),
      state_(state),
      summary_(summary),
      start_(Clock::now()),
      last_log_(start_) {
  const int64_t planned = task.planned_samples();
  if (planned > 0) planned_ = std::max<int64_t>(1, planned - state.samples);
}

bool LoopContext::ShouldStop() {
  if (job_.loop.max_steps > 0 && state_.global_step >= job_.loop.max_steps) stopped_ = true;
  if (job_.stop_requested != nullptr && job_.stop_requested->load()) set_interrupted();
  return stopped_;
}

Status LoopContext::CountStep(double loss, int64_t samples, int64_t epoch) {
  if (!std::isfinite(loss)) {
    return InvalidArgumentError(fmt::format(
        "loss became {} at step {}; lower the optimizer learning rate", loss, state_.global_step));
  }
  loss_sum_ += loss;
  ++summary_.steps;
  summary_.samples += samples;
  ++state_.global_step;
  state_.samples += samples;
  const LoopOptions& loop = job_.loop;
  if (loop.target_loss > 0) {
    recent_losses_.push_back(loss);
    recent_loss_sum_ += loss;
    if (recent_losses_.size() > LoopOptions::kTargetLossWindow) {
      recent_loss_sum_ -= recent_losses_.front();
      recent_losses_.pop_front();
    }
    summary_.reached_target_loss =
        recent_losses_.size() == LoopOptions::kTargetLossWindow &&
        recent_loss_sum_ / LoopOptions::kTargetLossWindow <= loop.target_loss;
  }
  if (SecondsSince(last_log_) >= loop.log_every_seconds) {
    last_log_ = Clock::now();
    const double rate = summary_.samples / std::max(SecondsSince(start_), 1e-9);
    std::string progress, eta = "?";
    if (planned_ > 0) {
      progress = fmt::format(" ({:.0f}%)", 100.0 * summary_.samples / planned_);
      eta = fmt::format("{:.0f}s", std::max(0.0, (planned_ - summary_.samples) / rate));
    }
    COLONY_LOG_INFO(
        "train epoch {} step {} | {} samples{} | {:.0f} samples/s | loss {:.4f}{} | "
        "eta {}",
        epoch + 1, state_.global_step, summary_.samples, progress, rate, loss_sum_ / summary_.steps,
        task_.Progress(), eta);
  }
  if (job_.checkpoint.every_steps > 0 && state_.global_step % job_.checkpoint.every_steps == 0) {
    COLONY_RETURN_IF_ERROR(WriteCheckpoint());
  }
  if (summary_.reached_target_loss) {
    COLONY_LOG_INFO("train.target_loss {} reached at step {}", loop.target_loss,
                    state_.global_step);
    stopped_ = true;
  }
  return OkStatus();
}

Status LoopContext::EndEpoch(int64_t epoch) {
  task_.EndEpoch();
  // One worker ends the pass on the shared tables: evictions, then the row counts.
  if (job_.worker.rank == 0 && (job_.ps.ttl_passes > 0 || job_.ps.memory_rows > 0)) {
    ParameterSet& parameters = *model_.parameters;
    COLONY_ASSIGN_OR_RETURN(int64_t evicted, parameters.EndPass());
    COLONY_LOG_INFO("pass {} ended: {} rows evicted, {} sparse rows ({} on SSD)", epoch + 1,
                    evicted, parameters.sparse_rows(), parameters.sparse_ssd_rows());
  }
  return OkStatus();
}

Status LoopContext::WriteCheckpoint() {
  if (job_.checkpoint.dir.empty()) return OkStatus();
  COLONY_RETURN_IF_ERROR(model_.parameters->Flush());  // Geo: local copies reach the servers.
  COLONY_ASSIGN_OR_RETURN(summary_.checkpoint,
                          internal::WriteCheckpoint(job_.checkpoint.dir, state_, task_.program(),
                                                    job_.config_text, *model_.parameters));
  COLONY_LOG_INFO("checkpoint {} written", summary_.checkpoint);
  return OkStatus();
}

}  // namespace colony::train::internal
