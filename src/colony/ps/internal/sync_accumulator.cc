#include "colony/ps/internal/sync_accumulator.h"

#include <fmt/format.h>

namespace colony::ps::internal {

Status SyncAccumulator::Add(int64_t step, int workers, bool dense, std::span<const uint64_t> ids,
                            std::span<const float> grads, const ApplyFn& apply) {
  std::lock_guard<std::mutex> lock(mu_);
  if (arrived_ == 0) {
    step_ = step;
    workers_ = workers;
    ids_.clear();
    grads_.clear();
  } else if (step != step_ || workers != workers_) {
    return FailedPreconditionError(fmt::format(
        "sync push for step {} of {} workers while step {} of {} workers is collecting ({} "
        "pushes in); every worker must push each step once, between barriers",
        step, workers, step_, workers_, arrived_));
  }
  if (dense) {
    if (grads_.empty()) {
      grads_.assign(grads.begin(), grads.end());
    } else if (grads_.size() != grads.size()) {
      return InvalidArgumentError(fmt::format("sync push of {} floats; this step's pushes have {}",
                                              grads.size(), grads_.size()));
    } else {
      for (size_t i = 0; i < grads.size(); ++i) grads_[i] += grads[i];
    }
  } else {
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    grads_.insert(grads_.end(), grads.begin(), grads.end());
  }
  if (++arrived_ < workers_) return OkStatus();
  arrived_ = 0;
  // The mean over workers: each pushed the gradient of its own batch's mean loss.
  const float scale = 1.0f / static_cast<float>(workers_);
  for (float& g : grads_) g *= scale;
  return apply(ids_, grads_);
}

}  // namespace colony::ps::internal
