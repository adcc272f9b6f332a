#include "colony/train/session_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "colony/data/session_generator.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/train/internal/session_feeder.h"
#include "testing/ps_servers.h"
#include "testing/status_matchers.h"
#include "testing/two_workers.h"

namespace colony::train {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int64_t> Values(const exec::Scope& scope, const std::string& name) {
  at::Tensor t = scope.Get(name)->contiguous();
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}
std::vector<float> Floats(const exec::Scope& scope, const std::string& name) {
  at::Tensor t = scope.Get(name)->contiguous();
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

TEST(SessionFeederTest, BuildsTheFlatSessionGraphs) {
  const std::vector<data::Session> sessions = {{5, 7, 5, 9, 4}, {3, 8}};
  // Sample 0: [5, 7, 5, 9] -> 4. Sample 1: [3] -> 8.
  const std::vector<data::SessionSample> samples = {{0, 4}, {1, 1}};
  exec::Scope scope;
  internal::FeedSessions(sessions, samples, {.max_length = 20, .position = "forward"}, scope);
  EXPECT_THAT(Values(scope, "node_items"), ElementsAre(5, 7, 9, 3));
  EXPECT_THAT(Values(scope, "node_pos"), ElementsAre(2, 1, 3, 0));  // Last click of each node.
  EXPECT_THAT(Values(scope, "click_node"), ElementsAre(0, 1, 0, 2, 3));
  EXPECT_THAT(Values(scope, "click_session"), ElementsAre(0, 0, 0, 0, 1));
  EXPECT_THAT(Values(scope, "last_node"), ElementsAre(2, 3));
  EXPECT_THAT(Values(scope, "label"), ElementsAre(4, 8));
  // Distinct transitions 5->7, 5->9, 7->5 (sorted by local ids).
  EXPECT_THAT(Values(scope, "edge_src"), ElementsAre(0, 0, 1));
  EXPECT_THAT(Values(scope, "edge_dst"), ElementsAre(1, 2, 0));
  EXPECT_THAT(Floats(scope, "in_weight"), ElementsAre(1.0f, 1.0f, 1.0f));
  EXPECT_THAT(Floats(scope, "out_weight"), ElementsAre(0.5f, 0.5f, 1.0f));
  // Per session: a self loop per node, then an in and an out edge per transition.
  EXPECT_THAT(Values(scope, "att_rel"), ElementsAre(0, 0, 0, 1, 2, 1, 2, 1, 2, 0));
  EXPECT_THAT(Values(scope, "att_dst"), ElementsAre(0, 1, 2, 1, 0, 2, 0, 0, 1, 3));

  internal::FeedSessions(sessions, samples,
                         {.max_length = 2, .position = "reverse", .max_position = 20}, scope);
  // Sample 0 keeps its last two clicks [5, 9].
  EXPECT_THAT(Values(scope, "node_items"), ElementsAre(5, 9, 3));
  EXPECT_THAT(Values(scope, "node_pos"), ElementsAre(1, 0, 0));
}

class SessionTrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // ctest runs each case in its own process, possibly at once: one folder per process.
    data_dir_ = new std::string(::testing::TempDir() + "/colony_session_trainer_data_" +
                                std::to_string(getpid()));
    data::SessionGeneratorOptions gen;
    gen.out_dir = *data_dir_;
    gen.sessions = 1500;
    gen.items = 80;
    gen.seed = 4;
    ASSERT_TRUE(data::GenerateSessions(gen).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*data_dir_);
    delete data_dir_;
  }
  static SessionTrainOptions Options(const std::string& model) {
    SessionTrainOptions o;
    o.model.name = model;
    o.model.embedding_dim = 16;
    o.data.dir = *data_dir_;
    o.data.batch_size = 50;
    o.optimizer.learning_rate = 0.01f;
    o.loop.epochs = 3;
    o.config_text =
        "model:\n  name: " + model + "\n  embedding_dim: 16\ndata:\n  dir: " + *data_dir_ + "\n";
    return o;
  }
  static std::string Fresh(const std::string& name) {
    const std::string dir =
        ::testing::TempDir() + "/colony_session_trainer_" + name + "_" + std::to_string(getpid());
    fs::remove_all(dir);
    return dir;
  }
  static std::string* data_dir_;
};
std::string* SessionTrainerTest::data_dir_ = nullptr;

TEST_F(SessionTrainerTest, BothModelsLearnBeyondOneStep) {
  for (const char* model : {"srgnn", "attention_graph"}) {
    SessionTrainOptions one = Options(model);
    one.loop.max_steps = 1;
    COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary before, TrainSessions(one));
    COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary after, TrainSessions(Options(model)));
    EXPECT_EQ(after.num_items, 80);
    EXPECT_GT(after.test_samples, 0);
    EXPECT_EQ(before.steps, 1);
    EXPECT_GT(after.p20, before.p20 + 0.1) << model;
    EXPECT_GT(after.mrr20, before.mrr20) << model;
    EXPECT_LE(after.mrr20, after.p20);
    const nlohmann::json json = nlohmann::json::parse(SessionSummaryJson(after));
    EXPECT_EQ(json["p20"], after.p20);
    EXPECT_EQ(json["mrr20"], after.mrr20);
  }
}

TEST_F(SessionTrainerTest, CheckpointEvaluatesAndPredictsTopK) {
  SessionTrainOptions o = Options("srgnn");
  o.loop.epochs = 1;
  o.checkpoint.dir = Fresh("ckpt");
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary s, TrainSessions(o));
  EXPECT_TRUE(IsSessionCheckpoint(o.checkpoint.dir));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionEval eval, EvaluateSessions(o.checkpoint.dir, ""));
  EXPECT_NEAR(eval.p20, s.p20, 1e-9);  // Same model, same test file.
  EXPECT_NEAR(eval.mrr20, s.mrr20, 1e-9);

  COLONY_ASSERT_OK_AND_ASSIGN(auto sessions, ParseSessionsText("3 5 7; 12,4\n9", "--session"));
  ASSERT_EQ(sessions.size(), 3u);
  EXPECT_THAT(sessions[1], ElementsAre(12, 4));
  COLONY_ASSERT_OK_AND_ASSIGN(auto top, PredictSessions(o.checkpoint.dir, sessions, 5));
  ASSERT_EQ(top.size(), 3u);
  for (const auto& row : top) {
    ASSERT_EQ(row.size(), 5u);
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_GE(row[i].first, 1);
      EXPECT_LE(row[i].first, 80);
      if (i > 0) {
        EXPECT_GE(row[i - 1].second, row[i].second);
      }
    }
  }
  // One session alone gets the same answer as within a batch.
  COLONY_ASSERT_OK_AND_ASSIGN(auto alone, PredictSessions(o.checkpoint.dir, {sessions[1]}, 5));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(alone[0][i].first, top[1][i].first);

  EXPECT_THAT(PredictSessions(o.checkpoint.dir, {{3, 0}}, 5),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("session 1, click 2: item id 0 is not an item of this model "
                                 "(ids 1..80)")));
  EXPECT_THAT(PredictSessions(o.checkpoint.dir, {{3}, {81}}, 5),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("session 2, click 1: item id 81")));
  EXPECT_THAT(PredictSessions(o.checkpoint.dir, {{3}, {}}, 5),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("session 2 is empty")));
  EXPECT_THAT(PredictSessions(o.checkpoint.dir, {{3}}, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("k must be >= 1")));
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_F(SessionTrainerTest, ResumedRunsMatchAnUninterruptedOne) {
  // 2 epochs; the interrupted run stops at step 130 (inside epoch 2) with checkpoints every
  // 60 steps. Resuming from step 60 or from step 130 must end exactly where one run ends:
  // same data order, same parameters and optimizer state.
  SessionTrainOptions whole = Options("srgnn");
  whole.loop.epochs = 2;
  whole.checkpoint.dir = Fresh("resume_whole");
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary uninterrupted, TrainSessions(whole));
  ASSERT_GT(uninterrupted.global_step, 130) << "the stop must fall before the end";

  SessionTrainOptions first = whole;
  first.checkpoint.dir = Fresh("resume_parts");
  first.checkpoint.every_steps = 60;
  first.loop.max_steps = 130;
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary part, TrainSessions(first));
  EXPECT_EQ(part.global_step, 130);
  ASSERT_TRUE(fs::exists(first.checkpoint.dir + "/ckpt-000000060/state.yaml"));
  const std::string dense = "/ckpt-" + fmt::format("{:09d}", uninterrupted.global_step) +
                            "/dense/" + models::kItemEmbedding + ".bin";
  for (const std::string from : {"/ckpt-000000060", ""}) {
    SessionTrainOptions resumed = whole;
    resumed.checkpoint.dir = Fresh("resume_rest");
    resumed.resume_dir = first.checkpoint.dir + from;
    COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary rest, TrainSessions(resumed));
    EXPECT_EQ(rest.global_step, uninterrupted.global_step) << from;
    EXPECT_EQ(rest.steps, uninterrupted.global_step - (from.empty() ? 130 : 60)) << from;
    EXPECT_EQ(rest.p20, uninterrupted.p20) << from;
    EXPECT_EQ(rest.mrr20, uninterrupted.mrr20) << from;
    const std::string mine = FileBytes(resumed.checkpoint.dir + dense);
    EXPECT_FALSE(mine.empty()) << resumed.checkpoint.dir + dense;
    EXPECT_TRUE(mine == FileBytes(whole.checkpoint.dir + dense)) << "item embeddings " << from;
  }

  SessionTrainOptions other = whole;  // Another model cannot continue this checkpoint.
  other.model.embedding_dim = 8;
  other.resume_dir = first.checkpoint.dir;
  EXPECT_THAT(TrainSessions(other),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("holds a different model")));
  other = whole;
  other.resume_dir = Fresh("no_checkpoint");
  EXPECT_THAT(TrainSessions(other), StatusIs(StatusCode::kNotFound, HasSubstr("no checkpoint in")));
}

class SessionServersTest : public SessionTrainerTest {
 protected:
  // Two real parameter servers on 127.0.0.1 for `o`; replaces any servers before.
  void StartServers(SessionTrainOptions& o) {
    servers_.clear();  // Down before new ones start.
    servers_ = testing::StartPsServers(2, &o.ps.servers);
  }
  // Worker 0 and worker 1 of `first`'s job, the second in a thread.
  static StatusOr<std::pair<SessionTrainSummary, SessionTrainSummary>> RunPair(
      const SessionTrainOptions& first) {
    return testing::RunTwoWorkers(first, TrainSessions);
  }
  std::vector<std::unique_ptr<ps::PsServer>> servers_;
};

TEST_F(SessionServersTest, ItemEmbeddingRowsAreSpreadOverTheServers) {
  SessionTrainOptions o = Options("srgnn");
  o.loop.epochs = 1;
  StartServers(o);
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary s, TrainSessions(o));
  EXPECT_GT(s.p20, 0.2);
  int64_t rows = 0;
  for (const std::string& server : o.ps.servers) {
    COLONY_ASSERT_OK_AND_ASSIGN(ps::ServerStats stats, ps::QueryServerStats(server, ""));
    for (const ps::ServerStats::Table& t : stats.tables) {
      if (t.name != models::kItemEmbedding) continue;
      EXPECT_TRUE(t.sparse);
      EXPECT_EQ(t.dim, 16);
      EXPECT_GT(t.rows, 20) << server << ": a share of the 81 rows";
      rows += t.rows;
    }
  }
  EXPECT_EQ(rows, 81);  // Items 1..80 and the padding row 0.
  // The last checkpoint holds a copy of the servers' parameters: eval and predict read it
  // after the servers are gone.
  o.checkpoint.dir = Fresh("on_servers");
  o.loop.max_steps = 20;
  o.config_text += fmt::format("ps:\n  servers: [\"{}\"]\n", fmt::join(o.ps.servers, "\", \""));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary short_run, TrainSessions(o));
  servers_.clear();
  COLONY_ASSERT_OK_AND_ASSIGN(SessionEval eval, EvaluateSessions(o.checkpoint.dir, ""));
  EXPECT_EQ(eval.p20, short_run.p20);
  EXPECT_EQ(eval.mrr20, short_run.mrr20);
  COLONY_ASSERT_OK_AND_ASSIGN(auto top, PredictSessions(o.checkpoint.dir, {{3, 5}}, 4));
  EXPECT_EQ(top[0].size(), 4u);
}

TEST_F(SessionServersTest, BatchedDenseCallsTrainLikePerTableCalls) {
  // SR-GNN's dense parameters in one PullMany/PushMany per server and step, or one call per
  // parameter, on fresh servers: the same model.
  SessionTrainOptions o = Options("srgnn");
  o.loop.epochs = 1;
  o.loop.max_steps = 15;
  std::vector<SessionTrainSummary> runs;
  for (bool batch : {true, false}) {
    StartServers(o);
    o.ps.batch_dense = batch;
    COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary run, TrainSessions(o));
    runs.push_back(run);
  }
  EXPECT_EQ(runs[0].train_loss, runs[1].train_loss);
  EXPECT_EQ(runs[0].p20, runs[1].p20);
}

TEST_F(SessionServersTest, SyncWorkersEqualOneWorkerOnTheGlobalBatch) {
  // Both on servers (the same initial rows): two sync workers on batches of 25 apply the
  // mean gradient of the 50 samples one worker trains at once.
  SessionTrainOptions sync = Options("srgnn");
  sync.loop.epochs = 1;
  sync.loop.max_steps = 30;
  sync.data.batch_size = 25;
  sync.strategy = Strategy::kSync;
  sync.worker.count = 2;
  StartServers(sync);
  COLONY_ASSERT_OK_AND_ASSIGN(auto pair, RunPair(sync));
  EXPECT_EQ(pair.first.steps, 30);
  EXPECT_EQ(pair.second.steps, 30);
  EXPECT_EQ(pair.second.test_samples, 0) << "only worker 0 tests";

  SessionTrainOptions one = sync;
  one.strategy = Strategy::kLocal;
  one.worker = {};
  one.data.batch_size = 50;
  StartServers(one);
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainSummary single, TrainSessions(one));
  EXPECT_GT(single.test_samples, 0);
  // Up to float rounding: the losses within 1e-5, the test metrics within one test sample
  // of 567.
  EXPECT_NEAR(pair.first.p20, single.p20, 2e-3);
  EXPECT_NEAR(pair.first.mrr20, single.mrr20, 2e-3);
  EXPECT_NEAR((pair.first.train_loss + pair.second.train_loss) / 2, single.train_loss, 1e-5);
}

TEST_F(SessionServersTest, AsyncWorkersShareAndResumeTheirBatches) {
  SessionTrainOptions o = Options("attention_graph");
  o.loop.epochs = 1;
  o.strategy = Strategy::kAsync;
  o.worker.count = 2;
  StartServers(o);
  COLONY_ASSERT_OK_AND_ASSIGN(auto whole, RunPair(o));
  const int64_t batches = whole.first.steps + whole.second.steps;
  EXPECT_LE(whole.second.steps, whole.first.steps);
  EXPECT_GE(whole.second.steps + 1, whole.first.steps);
  EXPECT_GT(whole.first.p20, 0.2);
  EXPECT_GT(whole.first.test_samples, 0);

  // Stopped after 10 steps each, then resumed against the same servers: every batch of the
  // epoch is trained once.
  StartServers(o);
  o.checkpoint.dir = Fresh("async_resume");
  o.loop.max_steps = 10;
  COLONY_ASSERT_OK(RunPair(o).status());
  EXPECT_TRUE(fs::exists(o.checkpoint.dir + "/worker-1/LATEST"));
  EXPECT_THAT(EvaluateSessions(o.checkpoint.dir + "/worker-1", ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("tables are the servers'")));
  o.loop.max_steps = 0;
  o.resume_dir = o.checkpoint.dir;
  COLONY_ASSERT_OK_AND_ASSIGN(auto rest, RunPair(o));
  EXPECT_EQ(rest.first.steps + rest.second.steps, batches - 20);
  EXPECT_EQ(rest.first.global_step, whole.first.steps);
  EXPECT_EQ(rest.second.global_step, whole.second.steps);
  EXPECT_EQ(rest.first.samples + rest.second.samples + 20 * o.data.batch_size,
            whole.first.samples + whole.second.samples);
  EXPECT_GT(rest.first.p20, 0.2);

  SessionTrainOptions lost = o;  // Its partner never comes: the start barrier gives up.
  lost.resume_dir.clear();
  lost.ps.barrier_timeout_ms = 300;
  EXPECT_THAT(TrainSessions(lost),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("1 of 2 workers")));
}

TEST(SessionTextTest, BadSessionsText) {
  EXPECT_THAT(ParseSessionsText("3 x 5", "--session"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--session: session 1: item 'x' is not an integer id")));
  EXPECT_THAT(ParseSessionsText("3 5;;4", "f.txt"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("f.txt: session 2 is empty")));
  EXPECT_THAT(ParseSessionsText("", "--session"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no session given")));
  EXPECT_THAT(ParseSessionsText("2.5", "--session"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("item '2.5'")));
}

TEST_F(SessionTrainerTest, DataErrors) {
  SessionTrainOptions o = Options("srgnn");
  o.data.train = "missing.txt";
  EXPECT_THAT(TrainSessions(o),
              StatusIs(StatusCode::kNotFound, HasSubstr("missing.txt' does not exist")));
  o = Options("srgnn");
  o.model.num_items = 10;
  EXPECT_THAT(TrainSessions(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("but model.num_items is 10")));
}

TEST(SessionOptionsTest, ConfigKeysAndErrors) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      Config config,
      Config::Parse("model: {name: attention_graph, position: reverse, steps: 2}\n"
                    "data: {dir: d, batch_size: 7}\noptimizer: {learning_rate: 0.01}\n",
                    "job.yaml"));
  EXPECT_TRUE(IsSessionConfig(config));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionTrainOptions o, ParseSessionTrainOptions(config));
  EXPECT_EQ(o.model.name, "attention_graph");
  EXPECT_EQ(o.model.position, "reverse");
  EXPECT_EQ(o.model.steps, 2);
  EXPECT_EQ(o.data.batch_size, 7);
  EXPECT_EQ(o.optimizer.name, "adam");
  EXPECT_FLOAT_EQ(o.optimizer.learning_rate, 0.01f);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"model: {name: srgnn, hidden: [3]}\n", "model.hidden"},
      {"model: {name: srgnn, position: left}\n", "model.position must be"},
      {"model: {name: srgnn}\ndata: {batch_size: 0}\n", "data.batch_size must be > 0"},
      {"model: {name: srgnn}\ndata: {max_length: 0}\n", "data.max_length"},
      {"model: {name: srgnn}\nstrategy: sync\n", "trains on parameter servers"},
      {"model: {name: srgnn}\nstrategy: geo\nps: {servers: [\"127.0.0.1:1\"]}\n",
       "'local', 'async' or 'sync', got 'geo'"},
      {"model: {name: srgnn}\nps: {servers: [\"10.1.2.3:7001\"]}\n", "not on loopback"},
      {"model: {name: srgnn}\nps: {geo_steps: 3}\n", "ps.geo_steps"},
      {"model: {name: srgnn}\nps: {deadline_ms: 0}\n", "ps.deadline_ms"},
      {"model: {name: srgnn}\ncheckpoint: {every_steps: 5}\n", "checkpoint.dir is empty"},
      {"model: {name: srgnn}\ncheckpoint: {dir: c, every_steps: -1}\n",
       "checkpoint.every_steps must be >= 0"},
      {"model: {name: srgnn}\noptimizer: {name: sgdx}\n", "sgdx"},
  };
  for (const auto& [yaml, message] : bad) {
    COLONY_ASSERT_OK_AND_ASSIGN(Config c, Config::Parse(yaml, "job.yaml"));
    EXPECT_TRUE(IsSessionConfig(c));
    EXPECT_THAT(ParseSessionTrainOptions(c),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)))
        << yaml;
  }
  COLONY_ASSERT_OK_AND_ASSIGN(Config ctr, Config::Parse("model: {name: dnn}\n", "job.yaml"));
  EXPECT_FALSE(IsSessionConfig(ctr));
}

}  // namespace
}  // namespace colony::train
