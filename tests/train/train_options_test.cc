#include "colony/train/train_options.h"

#include "testing/status_matchers.h"

namespace colony::train {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

StatusOr<TrainOptions> Parse(const std::string& text) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Parse(text, "job.yaml"));
  return ParseTrainOptions(config);
}

TEST(TrainOptionsTest, DefaultsAndOverrides) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      TrainOptions o, Parse("model:\n  name: deepfm\n  hidden: [8]\ndata:\n  batch_size: 64\n"));
  EXPECT_EQ(o.model.name, "deepfm");
  EXPECT_EQ(o.model.hidden, (std::vector<int64_t>{8}));
  EXPECT_EQ(o.data.batch_size, 64);
  EXPECT_EQ(o.sparse_optimizer.name, "adagrad");
  EXPECT_EQ(o.dense_optimizer.name, "adam");
  EXPECT_EQ(o.model.num_slots, 26);
  EXPECT_TRUE(o.ps.batch_dense);
  COLONY_ASSERT_OK_AND_ASSIGN(TrainOptions per_table, Parse("ps:\n  batch_dense: false\n"));
  EXPECT_FALSE(per_table.ps.batch_dense);
}

TEST(TrainOptionsTest, CsvSchemaSetsModelWidths) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      TrainOptions o,
      Parse("data:\n  format: csv\n  csv: {label: 0, dense: [1, 2], sparse: [3, 4, 5]}\n"));
  EXPECT_EQ(o.model.num_dense, 2);
  EXPECT_EQ(o.model.num_slots, 3);
}

struct BadCase {
  const char* yaml;
  StatusCode code;
  const char* fragment;
};

TEST(TrainOptionsTest, BadConfigsNameTheKey) {
  const BadCase cases[] = {
      {"modle:\n  name: dnn\n", StatusCode::kInvalidArgument, "job.yaml:1: key 'modle'"},
      {"model:\n  name: dnn\n  widht: 3\n", StatusCode::kInvalidArgument,
       "job.yaml:3: key 'model.widht' is not a known setting"},
      {"data:\n  batch_size: many\n", StatusCode::kInvalidArgument,
       "job.yaml:2: key 'data.batch_size' must be an integer, got 'many'"},
      {"data:\n  batch_size: 0\n", StatusCode::kInvalidArgument, "data.batch_size must be > 0"},
      {"model:\n  embedding_dim: -1\n", StatusCode::kInvalidArgument, "model.embedding_dim"},
      {"strategy: gossip\n", StatusCode::kInvalidArgument, "or 'heter', got 'gossip'"},
      {"ps:\n  geo_steps: 0\n", StatusCode::kInvalidArgument, "ps.geo_steps must be >= 1"},
      {"strategy: async\n", StatusCode::kInvalidArgument, "trains on parameter servers"},
      {"ps:\n  servers: [\"10.1.2.3:7001\"]\n", StatusCode::kInvalidArgument,
       "not on loopback: set ps.tls_ca"},
      {"data:\n  format: parquet\n", StatusCode::kInvalidArgument, "data.format"},
      {"optimizer:\n  sparse: {name: adagrad, learning_rate: -1}\n", StatusCode::kInvalidArgument,
       "optimizer.sparse"},
      {"data:\n  csv: {delimiter: ';;'}\n", StatusCode::kInvalidArgument, "one character"},
      {"checkpoint:\n  every_steps: 5\n", StatusCode::kInvalidArgument, "checkpoint.dir is empty"},
      {"train:\n  epochs: 0\n", StatusCode::kInvalidArgument, "train.epochs must be > 0"},
      {"train:\n  target_loss: low\n", StatusCode::kInvalidArgument,
       "key 'train.target_loss' must be a number"},
      {"ps:\n  batch_dense: sometimes\n", StatusCode::kInvalidArgument, "ps.batch_dense"},
      {"ps:\n  candidate_max_stale: 0\n", StatusCode::kInvalidArgument,
       "ps.candidate_max_stale must be >= 1"},
      {"strategy: heter\ntrain:\n  target_loss: 0.4\n", StatusCode::kInvalidArgument,
       "train.target_loss is not for strategy 'heter'"},
      {"heter:\n  pass_samples: 0\n", StatusCode::kInvalidArgument,
       "job.yaml: heter.pass_samples must be > 0, got 0"},
      {"heter:\n  pass_samples: lots\n", StatusCode::kInvalidArgument,
       "job.yaml:2: key 'heter.pass_samples' must be an integer"},
      {"heter:\n  compute_threads: 0\n", StatusCode::kInvalidArgument,
       "heter.compute_threads must be in [1, 64], got 0"},
      {"heter:\n  compute_threads: 65\n", StatusCode::kInvalidArgument,
       "heter.compute_threads must be in [1, 64], got 65"},
      {"heter:\n  threads: 2\n", StatusCode::kInvalidArgument,
       "job.yaml:2: key 'heter.threads' is not a known setting"},
      {"strategy: heter\ncheckpoint:\n  dir: ck\n  every_steps: 5\n", StatusCode::kInvalidArgument,
       "checkpoint.every_steps is not supported with strategy 'heter'"},
  };
  for (const BadCase& c : cases) {
    EXPECT_THAT(Parse(c.yaml), StatusIs(c.code, HasSubstr(c.fragment))) << c.yaml;
  }
}

TEST(TrainOptionsTest, HeterReadsItsSectionAndNeedsNoServers) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      TrainOptions o,
      Parse("strategy: heter\nheter:\n  pass_samples: 4096\n  compute_threads: 3\n"));
  EXPECT_EQ(o.strategy, Strategy::kHeter);
  EXPECT_EQ(o.heter.pass_samples, 4096);
  EXPECT_EQ(o.heter.compute_threads, 3);
  o.worker.count = 2;  // Several workers share a distributed PS: servers.
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs ps.servers")));
  o.ps.servers = {"127.0.0.1:7001"};
  EXPECT_TRUE(o.Validate().ok());
}

}  // namespace
}  // namespace colony::train
