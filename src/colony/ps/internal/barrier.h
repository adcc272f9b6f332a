// Named, reusable barriers for the workers of a job, held by a parameter server. Private to ps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "colony/base/status.h"

namespace colony::ps::internal {

// Thread-safe.
class BarrierSet {
 public:
  // Blocks until `workers` callers have arrived at `name`, then all return OK and the barrier
  // starts its next round. Gives up at `deadline`, or when `cancelled()` turns true (checked
  // every 100 ms), leaving the count: DeadlineExceeded / Cancelled saying how many had
  // arrived. InvalidArgument when `workers` < 1 or differs from the round's other callers.
  Status Arrive(const std::string& name, int workers,
                std::chrono::system_clock::time_point deadline,
                const std::function<bool()>& cancelled);

 private:
  struct Round {
    int workers = 0;
    int arrived = 0;
    int64_t generation = 0;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Round> rounds_;
};

}  // namespace colony::ps::internal
