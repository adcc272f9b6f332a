#include "colony/train/internal/task_queues.h"

#include <algorithm>

namespace colony::train::internal {

TaskQueues::TaskQueues(int num_tasks, int batch_size, int64_t max_wait_steps)
    : batch_size_(batch_size),
      max_wait_steps_(max_wait_steps),
      queues_(num_tasks),
      stats_(num_tasks) {}

void TaskQueues::Push(int task, int64_t sample) {
  std::deque<Queued>& q = queues_[task];
  q.push_back({sample, arrivals_++, steps_});
  TaskQueueStats& s = stats_[task];
  const int64_t depth = static_cast<int64_t>(q.size());
  s.depth_sum += depth;
  ++s.depth_count;
  s.depth_max = std::max(s.depth_max, depth);
}

template <typename Ready>
int TaskQueues::Oldest(Ready ready) const {
  int best = -1;
  for (int t = 0; t < static_cast<int>(queues_.size()); ++t) {
    if (queues_[t].empty() || !ready(t)) continue;
    if (best < 0 || queues_[t].front().arrival < queues_[best].front().arrival) best = t;
  }
  return best;
}

TaskBatch TaskQueues::Take(int task) {
  std::deque<Queued>& q = queues_[task];
  const size_t n = std::min(q.size(), static_cast<size_t>(batch_size_));
  TaskBatch batch;
  batch.task = task;
  batch.partial = n < static_cast<size_t>(batch_size_);
  TaskQueueStats& s = stats_[task];
  for (size_t i = 0; i < n; ++i) {
    const int64_t staleness = steps_ - q.front().arrival_step;
    s.staleness_sum += staleness;
    s.staleness_max = std::max(s.staleness_max, staleness);
    batch.samples.push_back(q.front().sample);
    q.pop_front();
  }
  s.samples += static_cast<int64_t>(n);
  ++s.batches;
  s.partial_batches += batch.partial;
  ++steps_;
  return batch;
}

std::optional<TaskBatch> TaskQueues::Pop() {
  const int task = Oldest([&](int t) {
    const std::deque<Queued>& q = queues_[t];
    if (q.size() >= static_cast<size_t>(batch_size_)) return true;
    return max_wait_steps_ > 0 && steps_ - q.front().arrival_step >= max_wait_steps_;
  });
  if (task < 0) return std::nullopt;
  return Take(task);
}

std::optional<TaskBatch> TaskQueues::Drain() {
  std::optional<TaskBatch> ready = Pop();
  if (ready) return ready;
  const int task = Oldest([](int) { return true; });
  if (task < 0) return std::nullopt;
  return Take(task);
}

}  // namespace colony::train::internal
