#include "colony/train/multitask_trainer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/data/multitask_generator.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "testing/json_fields.h"
#include "testing/ps_servers.h"
#include "testing/status_matchers.h"

namespace colony::train {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::ParseJsonOrFail;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

std::string Dir(const std::string& name) {
  return ::testing::TempDir() + "/colony_multitask_trainer_" + name + "_" +
         std::to_string(getpid());
}

// Small generated data: 6000 samples of 10 features.
std::string Generate(const std::string& name, std::vector<double> mix, double correlation) {
  data::MultitaskGeneratorOptions g;
  g.out_dir = Dir(name);
  fs::remove_all(g.out_dir);
  g.rows = 6000;
  g.dim = 10;
  g.task_mix = std::move(mix);
  g.correlation = correlation;
  EXPECT_TRUE(data::GenerateMultitask(g).ok());
  return g.out_dir;
}

double LabelVariance(const std::string& dir, int task) {
  const nlohmann::json truth = ParseJsonOrFail(ReadFile(dir + "/truth.json").value_or(""));
  const nlohmann::json variance = truth.value("test_label_variance", nlohmann::json());
  EXPECT_TRUE(variance.is_array() && variance.size() == 2) << truth;
  return variance.is_array() && variance.size() == 2 ? variance[task].get<double>() : 0;
}

MultitaskTrainOptions Options(const std::string& dir, const std::string& model) {
  MultitaskTrainOptions o;
  o.model.name = model;
  o.model.bottom_hidden = {32};
  o.model.experts = 4;
  o.model.expert_hidden = {8};
  o.data.dir = dir;
  o.data.batch_size = 64;
  o.optimizer.learning_rate = 0.01f;
  o.loop.epochs = 4;
  return o;
}

TEST(MultitaskTrainerTest, BothModelsLearnBothTasks) {
  const std::string dir = Generate("learn", {0.5, 0.5}, 0.5);
  for (const std::string model : {"shared_bottom", "mmoe"}) {
    COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary s, TrainMultitask(Options(dir, model)));
    ASSERT_EQ(s.tasks.size(), 2u);
    EXPECT_EQ(s.samples, 4 * 5400);
    for (int k = 0; k < 2; ++k) {
      const TaskSummary& t = s.tasks[k];
      EXPECT_GT(t.test_samples, 200) << model;
      // Far below predicting the mean (the label variance, about 9 here).
      EXPECT_LT(t.test_mse, 0.2 * LabelVariance(dir, k)) << model << " task " << k;
      EXPECT_GT(t.batches, 0);
      EXPECT_LE(t.queue_depth_max, 64);
    }
    EXPECT_EQ(s.tasks[0].samples + s.tasks[1].samples, s.samples);
    const nlohmann::json json = nlohmann::json::parse(MultitaskSummaryJson(s));
    EXPECT_EQ(json["tasks"]["0"]["samples"], s.tasks[0].samples);
    EXPECT_EQ(json["tasks"]["1"]["staleness_max"], s.tasks[1].staleness_max);
    EXPECT_THAT(MultitaskSummaryLine(s), HasSubstr("task 1: "));
  }
}

TEST(MultitaskTrainerTest, ServersWithBatchedOrPerTableCallsTrainLikeEmbeddedTables) {
  // One worker on two real servers (dense tables spread over both): every step pulls what
  // it pushed before, in one PullMany/PushMany per server or one call per table.
  const std::string dir = Generate("servers", {0.5, 0.5}, 0.5);
  MultitaskTrainOptions o = Options(dir, "mmoe");
  o.loop.epochs = 1;
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary embedded, TrainMultitask(o));
  for (bool batch : {true, false}) {
    const auto servers = testing::StartPsServers(2, &o.ps.servers);
    o.ps.batch_dense = batch;
    COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary remote, TrainMultitask(o));
    for (int k = 0; k < 2; ++k) {
      EXPECT_EQ(remote.tasks[k].test_mse, embedded.tasks[k].test_mse) << batch << " task " << k;
    }
    for (const std::string& server : o.ps.servers) {
      COLONY_ASSERT_OK_AND_ASSIGN(ps::ServerStats stats, ps::QueryServerStats(server, ""));
      EXPECT_GT(stats.tables.size(), 0u) << server << " holds none of the dense tables";
    }
  }
}

TEST(MultitaskTrainerTest, ARareTaskTrainsWithinTheWaitBound) {
  const std::string dir = Generate("rare", {0.99, 0.01}, 0.5);
  MultitaskTrainOptions o = Options(dir, "mmoe");
  o.loop.epochs = 1;
  o.queues.max_wait_steps = 10;
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary bounded, TrainMultitask(o));
  const TaskSummary& rare = bounded.tasks[1];
  EXPECT_GT(rare.samples, 20);  // About 54 rare samples among 5400.
  EXPECT_GT(rare.partial_batches, 0);
  EXPECT_LE(rare.staleness_max, 10);               // Never waits past the bound.
  EXPECT_EQ(bounded.tasks[0].partial_batches, 1);  // Only its end-of-data remainder.

  o.queues.max_wait_steps = 0;  // Partly full queues wait for the end of the data.
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary unbounded, TrainMultitask(o));
  EXPECT_GT(unbounded.tasks[1].staleness_max, 10);
  EXPECT_EQ(unbounded.tasks[1].samples, rare.samples);  // Every sample still trains once.
}

// The bytes of every dense table a checkpoint folder holds.
std::string DenseTables(const std::string& checkpoint) {
  std::string bytes;
  for (const auto& entry : fs::directory_iterator(checkpoint + "/dense")) {
    bytes += entry.path().filename().string() + ReadFile(entry.path().string()).value_or("?");
  }
  return bytes;
}

TEST(MultitaskTrainerTest, AStoppedAndResumedRunEqualsTheUninterruptedOne) {
  // Two epochs with partly full queues flushed mid-epoch (max_wait_steps 10). The run is
  // stopped inside epoch 1 (step 40) and inside epoch 2 (step 130), resumed each time from
  // its checkpoint: the queues replay the epoch up to the position, so the same batches train
  // in the same order and the parameters, optimizer state and test metrics end bit-exact.
  const std::string dir = Generate("resume", {0.7, 0.3}, 0.5);
  MultitaskTrainOptions whole = Options(dir, "mmoe");
  whole.loop.epochs = 2;
  whole.queues.max_wait_steps = 10;
  whole.checkpoint.dir = Dir("resume_whole");
  fs::remove_all(whole.checkpoint.dir);
  whole.config_text = "model: {name: mmoe}\n";
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary uninterrupted, TrainMultitask(whole));
  ASSERT_GT(uninterrupted.global_step, 130) << "the second stop must fall before the end";

  MultitaskTrainOptions part = whole;
  part.checkpoint.dir = Dir("resume_parts");
  fs::remove_all(part.checkpoint.dir);
  part.loop.max_steps = 40;
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary first, TrainMultitask(part));
  EXPECT_EQ(first.global_step, 40);
  part.resume_dir = part.checkpoint.dir;
  part.loop.max_steps = 130;
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary second, TrainMultitask(part));
  EXPECT_EQ(second.steps, 90);
  part.loop.max_steps = 0;
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary rest, TrainMultitask(part));
  EXPECT_EQ(rest.global_step, uninterrupted.global_step);
  EXPECT_EQ(first.samples + second.samples + rest.samples, uninterrupted.samples);
  // A resumed run's task statistics count only the batches it trained.
  EXPECT_EQ(rest.tasks[0].samples + rest.tasks[1].samples, rest.samples);
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(rest.tasks[k].test_mse, uninterrupted.tasks[k].test_mse) << "task " << k;
  }
  const std::string last = fmt::format("/ckpt-{:09d}", uninterrupted.global_step);
  const std::string expected = DenseTables(whole.checkpoint.dir + last);
  EXPECT_FALSE(expected.empty());
  EXPECT_TRUE(DenseTables(part.checkpoint.dir + last) == expected) << "parameters differ";

  MultitaskTrainOptions other = whole;  // Another model cannot continue this checkpoint.
  other.model.name = "shared_bottom";
  other.resume_dir = part.checkpoint.dir;
  EXPECT_THAT(TrainMultitask(other),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("holds a different model")));
}

TEST(MultitaskTrainerTest, ClassificationReportsAuc) {
  data::MultitaskGeneratorOptions g;
  g.out_dir = Dir("class");
  g.rows = 6000;
  g.dim = 10;
  g.labels = "classification";
  COLONY_ASSERT_OK(data::GenerateMultitask(g));
  MultitaskTrainOptions o = Options(g.out_dir, "mmoe");
  o.model.task_type = "classification";
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskTrainSummary s, TrainMultitask(o));
  for (const TaskSummary& t : s.tasks) EXPECT_GT(t.test_auc, 0.85);
  // Regression data has labels that are not 0/1: every line is bad.
  o.data.dir = Generate("notclass", {0.5, 0.5}, 0.5);
  EXPECT_THAT(TrainMultitask(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not 0 or 1 (classification)")));
}

TEST(MultitaskTrainerTest, BadDataAndConfig) {
  MultitaskTrainOptions o = Options(Dir("missing"), "mmoe");
  EXPECT_THAT(TrainMultitask(o), StatusIs(StatusCode::kNotFound, HasSubstr("train.txt")));
  o.data.dir = Generate("dim", {0.5, 0.5}, 0.5);
  o.model.input_dim = 7;  // The data has 10 features.
  EXPECT_THAT(TrainMultitask(o), StatusIs(StatusCode::kInvalidArgument,
                                          HasSubstr("no valid sample (first bad line: ")));

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"strategy: sync\n", "'local' or 'async'"},
      {"strategy: async\n", "set ps.servers"},
      {"queues: {max_wait_steps: -1}\n", "queues.max_wait_steps must be >= 0"},
      {"model: {name: mmoe, experts: 0}\n", "model.experts must be >= 1"},
      {"model: {name: mmoe, task_type: ranking}\n", "model.task_type"},
      {"model: {name: mmoe, tower_hidden: [0]}\n", "model.tower_hidden widths must be > 0"},
      {"data: {batch_size: 0}\n", "data.batch_size must be > 0"},
      {"data: {shuffle: 3}\n", "shuffle"},
      {"ps: {servers: ['10.1.2.3:7001']}\n", "not on loopback"},
  };
  for (const auto& [yaml, message] : cases) {
    const std::string text = yaml.starts_with("model:") ? yaml : "model: {name: mmoe}\n" + yaml;
    COLONY_ASSERT_OK_AND_ASSIGN(Config config, Config::Parse(text, "job.yaml"));
    EXPECT_THAT(ParseMultitaskTrainOptions(config),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)))
        << yaml;
  }
  COLONY_ASSERT_OK_AND_ASSIGN(Config good, Config::Parse("model: {name: shared_bottom}\n", "j"));
  EXPECT_TRUE(IsMultitaskConfig(good));
  COLONY_ASSERT_OK_AND_ASSIGN(Config ctr, Config::Parse("model: {name: dnn}\n", "j"));
  EXPECT_FALSE(IsMultitaskConfig(ctr));
}

}  // namespace
}  // namespace colony::train
