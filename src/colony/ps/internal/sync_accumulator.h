// Collects the gradient pushes of one synchronous step from every worker and applies their
// mean to a table once the last worker's push is in. Private to ps.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "colony/base/status.h"

namespace colony::ps::internal {

// Thread-safe. One per table.
class SyncAccumulator {
 public:
  // Applies the mean gradients: sparse `ids` (duplicates allowed) with ids * dim `grads`, or
  // the whole dense vector with `ids` empty.
  using ApplyFn =
      std::function<Status(std::span<const uint64_t> ids, std::span<const float> grads)>;

  // Adds one worker's push of `step`. Dense pushes (`dense`) must all have the same size.
  // The push that completes the step applies it before returning; the others return at once.
  // FailedPrecondition when the step or worker count differs from the step being collected
  // (a worker ran ahead or behind: a barrier is missing).
  Status Add(int64_t step, int workers, bool dense, std::span<const uint64_t> ids,
             std::span<const float> grads, const ApplyFn& apply);

 private:
  std::mutex mu_;
  int64_t step_ = 0;
  int workers_ = 0;
  int arrived_ = 0;  // 0: no step is being collected.
  std::vector<uint64_t> ids_;
  std::vector<float> grads_;  // Sparse: concatenated rows. Dense: the running sum.
};

}  // namespace colony::ps::internal
