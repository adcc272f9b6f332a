// Per-task sample queues of the multi-task trainer (docs/multitask.md). The reader puts each
// sample in its task's queue; Pop returns the next batch to train, from one task:
//   - a queue holding batch_size samples is ready;
//   - a partly full queue whose oldest sample has waited max_wait_steps steps (batches
//     trained, of any task) is ready too, so a rare task still trains (no starvation);
//   - among the ready queues the one whose oldest sample arrived first is served.
// At the end of the data Drain empties the partly full queues, oldest first. Private to train.
//   TaskQueues q(2, 128, 50);
//   q.Push(task, sample);  while (auto b = q.Pop()) Train(*b);
//   while (auto b = q.Drain()) Train(*b);
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace colony::train::internal {

struct TaskBatch {
  int task = 0;
  std::vector<int64_t> samples;  // As given to Push, in arrival order.
  bool partial = false;          // Fewer than batch_size samples.
};

// What one task's queue saw.
struct TaskQueueStats {
  int64_t samples = 0;          // Samples handed out in batches.
  int64_t batches = 0;          // Batches handed out,
  int64_t partial_batches = 0;  // of which partly full (flushed after the bound or drained).
  // Queue depth after each arrival of this task's samples.
  int64_t depth_sum = 0, depth_count = 0, depth_max = 0;
  // Staleness: steps trained between a sample's arrival and its batch.
  int64_t staleness_sum = 0, staleness_max = 0;
  double mean_depth() const { return depth_count ? double(depth_sum) / depth_count : 0.0; }
  double mean_staleness() const { return samples ? double(staleness_sum) / samples : 0.0; }
};

class TaskQueues {
 public:
  // REQUIRES: num_tasks >= 1, batch_size >= 1, max_wait_steps >= 0 (0: partly full queues
  // wait for the end of the data).
  TaskQueues(int num_tasks, int batch_size, int64_t max_wait_steps);

  // REQUIRES: 0 <= task < num_tasks.
  void Push(int task, int64_t sample);
  // The next ready batch, or nullopt. Each batch returned counts as one step.
  std::optional<TaskBatch> Pop();
  // Pop, or when no queue is ready the partly full queue with the oldest sample.
  std::optional<TaskBatch> Drain();

  int64_t steps() const { return steps_; }
  int64_t depth(int task) const { return static_cast<int64_t>(queues_[task].size()); }
  const std::vector<TaskQueueStats>& stats() const { return stats_; }
  // Starts the statistics afresh (the queues keep their samples): a resumed run replays its
  // epoch's batches up to the checkpoint without counting them.
  void ResetStats() { stats_.assign(stats_.size(), TaskQueueStats{}); }

 private:
  struct Queued {
    int64_t sample;
    int64_t arrival;       // Global arrival number (orders queues by their oldest sample).
    int64_t arrival_step;  // steps_ when it arrived.
  };
  // The task to serve among those with ready(task) true; -1 when none.
  template <typename Ready>
  int Oldest(Ready ready) const;
  TaskBatch Take(int task);

  int batch_size_;
  int64_t max_wait_steps_;
  int64_t arrivals_ = 0;
  int64_t steps_ = 0;
  std::vector<std::deque<Queued>> queues_;
  std::vector<TaskQueueStats> stats_;
};

}  // namespace colony::train::internal
