// Strategy heter: the built-in PS (internal/builtin_ps.h) and the IO + compute trainers, on
// embedded tables and on real parameter servers on 127.0.0.1.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/data/ctr_generator.h"
#include "colony/models/ctr_models.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/train/internal/builtin_ps.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/trainer.h"
#include "testing/ps_servers.h"
#include "testing/status_matchers.h"
#include "testing/two_workers.h"

namespace colony::train {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using internal::BuiltinPs;
using internal::ParameterSet;
using ::testing::HasSubstr;

class HeterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ =
        new std::string(::testing::TempDir() + "/colony_heter_data_" + std::to_string(::getpid()));
    data::CtrGeneratorOptions gen;
    gen.out_dir = *data_dir_;
    gen.rows = 3000;  // 2700 training rows: 43 batches of 64 per epoch.
    gen.seed = 4;
    ASSERT_TRUE(data::GenerateCtr(gen).ok());
  }

  static TrainOptions Options() {
    TrainOptions o;
    o.strategy = Strategy::kHeter;
    o.model.name = "dnn";
    o.model.embedding_dim = 4;
    o.model.hidden = {16, 8};
    o.model.dropout = 0;
    o.data.dir = *data_dir_;
    o.data.batch_size = 64;
    o.loop.threads = 1;
    o.loop.epochs = 2;
    o.heter.pass_samples = 640;  // 10 batches.
    o.heter.compute_threads = 1;
    return o;
  }

  static std::string* data_dir_;
};
std::string* HeterTest::data_dir_ = nullptr;

TEST_F(HeterTest, OneComputeThreadTrainsLikeLocalAndReportsEachPass) {
  // One compute thread on embedded tables runs the steps of local training in the same
  // order on the same values (a pass's rows round-trip through base + (local - base)).
  TrainOptions heter = Options();
  TrainOptions local = heter;
  local.strategy = Strategy::kLocal;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary h, Train(heter));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary l, Train(local));
  EXPECT_EQ(h.steps, l.steps);
  EXPECT_EQ(h.samples, 5400);
  EXPECT_NEAR(h.train_loss, l.train_loss, 1e-4);
  EXPECT_NEAR(h.test_logloss, l.test_logloss, 1e-4);
  EXPECT_GT(h.test_auc, 0.6);

  // 43 batches per epoch in passes of 10: 10, 10, 10, 10, 3, twice.
  ASSERT_EQ(h.runner.heter_passes.size(), 10u);
  EXPECT_EQ(h.runner.heter_passes[4].samples, 2700 - 4 * 640);
  int64_t samples = 0;
  for (const HeterPass& p : h.runner.heter_passes) {
    samples += p.samples;
    EXPECT_GT(p.keys, 0);
    EXPECT_LE(p.hits, p.keys);
    EXPECT_GT(p.bytes, 0);
  }
  EXPECT_EQ(samples, 5400);
  EXPECT_EQ(h.runner.heter_passes[0].hits, 0) << "the cache starts empty";
  EXPECT_GT(h.runner.heter_passes[1].hits, 0) << "frequent ids stay in the cache";
  const nlohmann::json json = nlohmann::json::parse(SummaryJson(h));
  EXPECT_EQ(json["heter"]["passes"], 10);
  EXPECT_EQ(json["heter"]["total"]["samples"], 5400);
  EXPECT_EQ(json["heter"]["per_pass"].size(), 10u);
  EXPECT_TRUE(json["heter"]["total"].contains("cache_hit_rate"));
  EXPECT_FALSE(nlohmann::json::parse(SummaryJson(l)).contains("heter"));
}

TEST_F(HeterTest, SeveralComputeThreadsTrainEveryBatchOnce) {
  TrainOptions o = Options();
  o.heter.compute_threads = 3;
  o.heter.pass_samples = 1000;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
  EXPECT_EQ(s.steps, 86);
  EXPECT_EQ(s.samples, 5400);
  EXPECT_GT(s.test_auc, 0.6);
  EXPECT_GT(s.sparse_rows, 0);

  o.loop.max_steps = 25;  // Stops within a pass.
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary limited, Train(o));
  EXPECT_EQ(limited.steps, 25);
  EXPECT_EQ(limited.global_step, 25);
}

TEST_F(HeterTest, FeatureBagsAndTwoSparseTables) {
  // libsvm lines (keys from feature_ids) into wide & deep, whose wide part is a second sparse
  // table: label 1 has feature 3, label 0 feature 4, both a noise feature.
  TrainOptions o = Options();
  o.data.dir = ::testing::TempDir() + "/colony_heter_bags_" + std::to_string(::getpid());
  fs::create_directories(o.data.dir);
  std::string lines;
  for (int i = 0; i < 1200; ++i) {
    lines += (i % 2 ? "1 3:1 " : "-1 4:0.5 ") + std::to_string(50 + i % 40) + ":1\n";
  }
  ASSERT_TRUE(WriteFileAtomic(o.data.dir + "/train.txt", lines).ok());
  ASSERT_TRUE(WriteFileAtomic(o.data.dir + "/test.txt", lines).ok());
  o.data.format = "libsvm";
  o.model.input = "bag";
  o.model.name = "wide_deep";
  o.heter.compute_threads = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
  EXPECT_EQ(s.samples, 2400);
  EXPECT_EQ(s.runner.heter_passes.front().keys, 42);  // 3, 4 and 40 noise features.
  EXPECT_GT(s.test_auc, 0.99);
}

TEST_F(HeterTest, TwoWorkersShareRealServers) {
  TrainOptions o = Options();
  o.loop.epochs = 1;
  o.heter.compute_threads = 2;
  const auto servers = testing::StartPsServers(2, &o.ps.servers);
  o.worker.count = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(o, Train));
  const auto& [first, other] = both;
  EXPECT_EQ(first.steps, 22);
  EXPECT_EQ(other.steps, 21);
  EXPECT_EQ(first.samples + other.samples, 2700);
  EXPECT_EQ(other.test_samples, 0) << "only worker 0 tests";
  EXPECT_EQ(first.runner.heter_passes.size(), 3u);  // 22 batches in passes of 10.
  EXPECT_GT(ps::QueryServerStats(o.ps.servers[1], "")->requests, 0);
}

TEST_F(HeterTest, CheckpointsKeepTheDataPositionForResume) {
  TrainOptions o = Options();
  o.checkpoint.dir = ::testing::TempDir() + "/colony_heter_ckpt_" + std::to_string(::getpid());
  fs::remove_all(o.checkpoint.dir);
  // A stop before the first batch: nothing trained, the position stays at the start.
  std::atomic<bool> stop{true};
  o.stop_requested = &stop;
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kCancelled, HasSubstr("--resume")));
  ASSERT_TRUE(fs::exists(o.checkpoint.dir + "/LATEST"));
  stop = false;
  // 15 steps: a pass of 10 batches and one of 5; the tables hold what they trained.
  o.resume_dir = o.checkpoint.dir;
  o.loop.max_steps = 15;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary first, Train(o));
  EXPECT_EQ(first.samples, 15 * 64);
  ASSERT_EQ(first.runner.heter_passes.size(), 2u);
  EXPECT_EQ(first.runner.heter_passes[1].samples, 5 * 64);
  // The rest of the two epochs, from batch 15.
  o.loop.max_steps = 0;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary rest, Train(o));
  EXPECT_EQ(rest.samples, 5400 - 15 * 64);
  EXPECT_EQ(rest.global_step, 86);
  EXPECT_GT(rest.test_auc, 0.6);
}

// A built-in PS in front of embedded tables of a small DNN.
struct Fixture {
  graph::ProgramDesc program;
  std::unique_ptr<ParameterSet> tables;
  std::unique_ptr<BuiltinPs> cache;
};

Fixture MakeFixture() {
  Fixture f;
  models::CtrModelOptions model;
  model.name = "dnn";
  model.embedding_dim = 4;
  model.hidden = {8};
  f.program = models::BuildCtrModel(model).value();
  ps::SparseTableOptions sparse;
  sparse.optimizer.name = "sgd";
  sparse.optimizer.learning_rate = 1.0f;
  ps::OptimizerOptions dense;
  dense.name = "sgd";
  internal::ParameterSetOptions options;
  options.sparse = sparse;
  options.dense = dense;
  f.tables = ParameterSet::Create(f.program, options).value();
  f.cache = BuiltinPs::Create(*f.tables, sparse.optimizer, dense).value();
  return f;
}

TEST(BuiltinPsTest, ExchangePushesTheChangeAndKeepsTheNextPassesKeys) {
  Fixture f = MakeFixture();
  ps::SparseTable* table = f.tables->sparse_tables().at(0).table;
  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Fetched first, f.cache->Fetch({1, 2, 3}));
  EXPECT_EQ(first.missing, (std::vector<uint64_t>{1, 2, 3}));
  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Exchanged in, f.cache->Exchange(std::move(first)));
  EXPECT_EQ(in.hits, 0);
  EXPECT_EQ(f.cache->rows(), 3u);

  // A gradient of 1 on every weight of id 2 with sgd, learning rate 1: -1 each.
  std::vector<float> before(4), after(4);
  const std::vector<uint64_t> id2 = {2};
  ASSERT_TRUE(table->Pull({}, id2, before).ok());
  exec::Scope scope;
  ASSERT_TRUE(f.cache->PullDense(scope).ok());
  ASSERT_TRUE(f.cache->PullSparse(id2, scope).ok());
  at::Tensor rows = scope.Get(f.tables->sparse_tables()[0].name).value();
  rows.sum().backward();
  ASSERT_TRUE(f.cache->PushGradients(id2, scope).ok());  // No dense gradients: none applied.
  ASSERT_TRUE(table->Pull({}, id2, after).ok());
  EXPECT_EQ(after, before) << "the distributed PS sees nothing before the exchange";

  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Fetched next, f.cache->Fetch({2, 4}));
  EXPECT_EQ(next.missing, (std::vector<uint64_t>{4}));
  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Exchanged ex, f.cache->Exchange(std::move(next)));
  EXPECT_EQ(ex.hits, 1);
  EXPECT_EQ(ex.pushed_bytes, static_cast<int64_t>(sizeof(uint64_t) + 4 * sizeof(float)))
      << "only the changed row is pushed";
  ASSERT_TRUE(table->Pull({}, id2, after).ok());
  for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(after[j], before[j] - 1.0f);
  EXPECT_EQ(f.cache->rows(), 2u);

  exec::Scope other;
  EXPECT_THAT(f.cache->PullSparse(std::vector<uint64_t>{1}, other),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("key 1 is not in the built-in")));
  EXPECT_TRUE(f.cache->PullDense(other).ok());
}

TEST(BuiltinPsTest, RowsFetchedBeforeAnotherExchangeAreRefused) {
  Fixture f = MakeFixture();
  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Fetched a, f.cache->Fetch({1, 2}));
  COLONY_ASSERT_OK_AND_ASSIGN(BuiltinPs::Fetched b, f.cache->Fetch({2, 3}));
  ASSERT_TRUE(f.cache->Exchange(std::move(a)).ok());
  // b was fetched when the cache was empty: it fetched 2, which the cache now holds.
  EXPECT_THAT(f.cache->Exchange(std::move(b)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fetched before another exchange")));
  EXPECT_THAT(BuiltinPs::Create(*f.tables, {}, {}, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("workers must be >= 1")));
}

}  // namespace
}  // namespace colony::train
