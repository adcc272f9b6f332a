#include "colony/ps/internal/barrier.h"

#include <fmt/format.h>

namespace colony::ps::internal {

Status BarrierSet::Arrive(const std::string& name, int workers,
                          std::chrono::system_clock::time_point deadline,
                          const std::function<bool()>& cancelled) {
  if (workers < 1) {
    return InvalidArgumentError(
        fmt::format("barrier '{}': workers is {}, not >= 1", name, workers));
  }
  std::unique_lock<std::mutex> lock(mu_);
  Round& round = rounds_[name];
  if (round.arrived > 0 && round.workers != workers) {
    return InvalidArgumentError(fmt::format(
        "barrier '{}' of {} workers; this caller says {}: start every worker with the same "
        "worker count",
        name, round.workers, workers));
  }
  round.workers = workers;
  if (++round.arrived == workers) {
    round.arrived = 0;
    ++round.generation;
    cv_.notify_all();
    return OkStatus();
  }
  const int64_t generation = round.generation;
  while (round.generation == generation) {
    const auto wake =
        std::min(deadline, std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    cv_.wait_until(lock, wake);
    if (round.generation != generation) break;
    const bool timed_out = std::chrono::system_clock::now() >= deadline;
    if (timed_out || cancelled()) {
      const int arrived = round.arrived--;
      const std::string what =
          fmt::format("barrier '{}': {} of {} workers arrived", name, arrived, workers);
      return timed_out ? DeadlineExceededError(what + " before the deadline; is a worker down?")
                       : CancelledError(what + " when the caller gave up");
    }
  }
  return OkStatus();
}

}  // namespace colony::ps::internal
