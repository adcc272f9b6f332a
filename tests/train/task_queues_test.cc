#include "colony/train/internal/task_queues.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace colony::train::internal {
namespace {
using ::testing::ElementsAre;

TEST(TaskQueuesTest, AFullQueueReleasesOneBatchOfItsTask) {
  TaskQueues q(2, 3, 0);
  q.Push(0, 10);
  q.Push(1, 11);
  q.Push(0, 12);
  EXPECT_FALSE(q.Pop());
  q.Push(0, 13);
  std::optional<TaskBatch> b = q.Pop();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->task, 0);
  EXPECT_FALSE(b->partial);
  EXPECT_THAT(b->samples, ElementsAre(10, 12, 13));
  EXPECT_FALSE(q.Pop());
  EXPECT_EQ(q.depth(0), 0);
  EXPECT_EQ(q.depth(1), 1);
  EXPECT_EQ(q.steps(), 1);
}

TEST(TaskQueuesTest, TheQueueWithTheOldestSampleIsServedFirst) {
  TaskQueues q(3, 2, 0);
  for (int64_t s : {0, 1, 2, 3, 4}) q.Push(s == 0 || s >= 3 ? 2 : 1, s);
  // Task 1 holds {1, 2}; task 2 holds {0, 3, 4}: both ready, task 2's oldest is older.
  EXPECT_EQ(q.Pop()->task, 2);
  EXPECT_EQ(q.Pop()->task, 1);
  EXPECT_FALSE(q.Pop());
  EXPECT_EQ(q.depth(2), 1);
}

TEST(TaskQueuesTest, ARareTaskTrainsAPartlyFullBatchAfterTheBound) {
  TaskQueues q(2, 4, /*max_wait_steps=*/3);
  q.Push(1, 100);  // The rare task's only sample.
  int64_t sample = 0;
  std::vector<int> served;
  while (served.size() < 4) {
    q.Push(0, sample++);
    while (std::optional<TaskBatch> b = q.Pop()) served.push_back(b->task);
  }
  // Three batches of task 0 pass, then the rare sample has waited 3 steps and trains.
  EXPECT_THAT(served, ElementsAre(0, 0, 0, 1));
  const TaskQueueStats& rare = q.stats()[1];
  EXPECT_EQ(rare.batches, 1);
  EXPECT_EQ(rare.partial_batches, 1);
  EXPECT_EQ(rare.samples, 1);
  EXPECT_EQ(rare.staleness_max, 3);
  EXPECT_EQ(q.stats()[0].partial_batches, 0);
}

TEST(TaskQueuesTest, WithoutABoundPartlyFullQueuesWaitForDrain) {
  TaskQueues q(2, 4, 0);
  q.Push(1, 100);
  for (int64_t s = 0; s < 40; ++s) {
    q.Push(0, s);
    while (q.Pop()) {
    }
  }
  EXPECT_EQ(q.stats()[1].batches, 0);
  q.Push(0, 40);
  std::optional<TaskBatch> b = q.Drain();  // The oldest partly full queue: task 1.
  ASSERT_TRUE(b);
  EXPECT_EQ(b->task, 1);
  EXPECT_TRUE(b->partial);
  EXPECT_EQ(q.stats()[1].staleness_max, 10);
  EXPECT_THAT(q.Drain()->samples, ElementsAre(40));
  EXPECT_FALSE(q.Drain());
}

TEST(TaskQueuesTest, DepthAndStalenessStatistics) {
  TaskQueues q(1, 2, 0);
  q.Push(0, 0);  // depth 1
  q.Push(0, 1);  // depth 2
  q.Pop();       // step 0: staleness 0, 0
  q.Push(0, 2);  // depth 1, arrives at step 1
  q.Push(0, 3);  // depth 2
  q.Pop();       // step 1: staleness 0, 0
  const TaskQueueStats& s = q.stats()[0];
  EXPECT_EQ(s.depth_max, 2);
  EXPECT_DOUBLE_EQ(s.mean_depth(), 1.5);
  EXPECT_EQ(s.samples, 4);
  EXPECT_EQ(s.batches, 2);
  EXPECT_DOUBLE_EQ(s.mean_staleness(), 0.0);
}

}  // namespace
}  // namespace colony::train::internal
