#include "colony/train/trainer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/data/ctr_generator.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "testing/ps_servers.h"
#include "testing/status_matchers.h"
#include "testing/two_workers.h"

namespace colony::train {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new std::string(::testing::TempDir() + "/colony_trainer_data_" +
                                std::to_string(::getpid()));  // ctest runs cases in parallel.
    data::CtrGeneratorOptions gen;
    gen.out_dir = *data_dir_;
    gen.rows = 3000;
    gen.seed = 3;
    ASSERT_TRUE(data::GenerateCtr(gen).ok());
    // 2700 training rows are too few for a model to beat chance on 300 test rows by more
    // than the noise (measured: test AUC 0.51-0.57, Bayes 0.848): the tests of accuracy use
    // 18000 training and 2000 test rows of the same generator.
    big_dir_ = new std::string(*data_dir_ + "_big");
    gen.out_dir = *big_dir_;
    gen.rows = 20000;
    ASSERT_TRUE(data::GenerateCtr(gen).ok());
    const nlohmann::json truth =
        nlohmann::json::parse(ReadFile(*big_dir_ + "/truth.json").value_or("{}"));
    big_bayes_auc_ = truth.value("bayes_auc", 0.0);
    ASSERT_GT(big_bayes_auc_, 0.8);
  }

  TrainOptions Options(const std::string& model, const std::string& checkpoint_dir) {
    TrainOptions o;
    o.model.name = model;
    o.model.embedding_dim = 4;
    o.model.hidden = {16, 8};
    o.model.dropout = 0.1f;  // Exercises the seeded dropout in the resume test.
    o.data.dir = *data_dir_;
    o.data.batch_size = 64;
    o.data.shuffle_buffer = 500;
    o.loop.threads = 1;
    o.loop.epochs = 2;
    o.checkpoint.dir = checkpoint_dir;
    o.config_text = "model:\n  name: " + model + "\n";
    return o;
  }

  static std::string Fresh(const std::string& name) {
    const std::string dir = ::testing::TempDir() + "/colony_trainer_" + name;
    fs::remove_all(dir);
    return dir;
  }

  static std::string* data_dir_;
  static std::string* big_dir_;  // 20000 rows.
  static double big_bayes_auc_;  // The Bayes AUC of its test rows, from truth.json.
};
std::string* TrainerTest::data_dir_ = nullptr;
std::string* TrainerTest::big_dir_ = nullptr;
double TrainerTest::big_bayes_auc_ = 0;

TEST_F(TrainerTest, EveryModelTrainsAndReportsTestMetrics) {
  // Two epochs over 18000 rows. Each model's test AUC is at most the Bayes AUC of the test
  // rows (plus the luck of 2000 samples) and within a margin below it: the gap measured with
  // these settings (lr 0.220, dnn 0.162, deepfm 0.060, wide_deep 0.191; the planted pairwise
  // interactions need embeddings, and rare ids see few updates) plus 0.04, three standard
  // errors of an AUC on 2000 test samples. Chance (0.5) is 0.37 below the Bayes AUC.
  const std::vector<std::pair<std::string, double>> margins = {
      {"lr", 0.26}, {"dnn", 0.20}, {"deepfm", 0.10}, {"wide_deep", 0.23}};
  for (const auto& [model, margin] : margins) {
    TrainOptions o = Options(model, "");
    o.data.dir = *big_dir_;
    COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
    EXPECT_EQ(s.samples, 2 * 18000) << model;  // 90% of the rows are in train.txt.
    EXPECT_EQ(s.test_samples, 2000) << model;
    EXPECT_GT(s.test_auc, big_bayes_auc_ - margin) << model;
    EXPECT_LT(s.test_auc, big_bayes_auc_ + 0.03) << model;
    EXPECT_GT(s.test_logloss, 0.0) << model;
    EXPECT_EQ(s.bad_lines, 0) << model;
  }
}

// Files of two checkpoint folders, compared byte for byte.
void ExpectSameFiles(const std::string& a, const std::string& b) {
  int compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(a)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), a).string();
    auto left = ReadFile(entry.path().string());
    auto right = ReadFile(b + "/" + rel);
    ASSERT_TRUE(left.ok() && right.ok()) << rel;
    EXPECT_TRUE(*left == *right) << rel << " differs";
    ++compared;
  }
  EXPECT_GE(compared, 4);
}

TEST_F(TrainerTest, ResumeIsBitExact) {
  // Uninterrupted: 2 epochs of ceil(2700 / 64) = 43 steps.
  const std::string full_dir = Fresh("full");
  TrainOptions full = Options("dnn", full_dir);
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary full_summary, Train(full));
  EXPECT_EQ(full_summary.global_step, 86);

  // Interrupted mid-epoch 1 at step 30, then mid-epoch 2 at step 60, then to the end.
  const std::string part_dir = Fresh("part");
  TrainOptions part = Options("dnn", part_dir);
  part.loop.max_steps = 30;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary first, Train(part));
  EXPECT_EQ(first.global_step, 30);
  part.resume_dir = part_dir;
  part.loop.max_steps = 60;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary second, Train(part));
  EXPECT_EQ(second.steps, 30);
  part.loop.max_steps = 0;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary third, Train(part));
  EXPECT_EQ(third.global_step, 86);
  EXPECT_EQ(first.samples + second.samples + third.samples, full_summary.samples);

  ExpectSameFiles(full_dir + "/ckpt-000000086", part_dir + "/ckpt-000000086");
  EXPECT_DOUBLE_EQ(third.test_auc, full_summary.test_auc);
}

TEST_F(TrainerTest, ResumeWithAnotherModelIsRefused) {
  const std::string dir = Fresh("other_model");
  TrainOptions o = Options("lr", dir);
  o.loop.max_steps = 3;
  COLONY_ASSERT_OK(Train(o));
  TrainOptions other = Options("dnn", dir);
  other.resume_dir = dir;
  EXPECT_THAT(Train(other),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("different model")));
}

TEST_F(TrainerTest, CorruptCheckpointIsDataLoss) {
  const std::string dir = Fresh("corrupt");
  TrainOptions o = Options("lr", dir);
  o.loop.max_steps = 3;
  COLONY_ASSERT_OK(Train(o));
  COLONY_ASSERT_OK(WriteFileAtomic(dir + "/ckpt-000000003/state.yaml", "format: other\n"));
  o.resume_dir = dir;
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kDataLoss, HasSubstr("format")));
  o.resume_dir = Fresh("missing");
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kNotFound, HasSubstr("no checkpoint")));
}

TEST_F(TrainerTest, MissingDataFileIsNotFound) {
  TrainOptions o = Options("lr", "");
  o.data.train = "nope.txt";
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kNotFound, HasSubstr("nope.txt")));
}

TEST_F(TrainerTest, BadLinesAreCountedAndSkipped) {
  const std::string dir = Fresh("bad_lines");
  fs::create_directories(dir);
  COLONY_ASSERT_OK_AND_ASSIGN(std::string train, ReadFile(*data_dir_ + "/train.txt"));
  train += "1\tnot enough fields\n";
  train += "x" + train.substr(train.find('\t'), train.find('\n') - train.find('\t') + 1);
  COLONY_ASSERT_OK(WriteFileAtomic(dir + "/train.txt", train));
  TrainOptions o = Options("lr", "");
  o.data.dir = dir;
  o.data.test = "";
  o.loop.epochs = 2;  // Each bad line is still reported once.
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
  EXPECT_EQ(s.bad_lines, 2);
  EXPECT_EQ(s.samples, 5400);
  ASSERT_EQ(s.first_bad_lines.size(), 2u);
  EXPECT_THAT(s.first_bad_lines[0], HasSubstr("train.txt:2701"));
  EXPECT_THAT(SummaryLine(s), HasSubstr("bad lines 2 (first: "));
}

TEST_F(TrainerTest, EvaluateAndPredictUseTheCheckpoint) {
  const std::string dir = Fresh("eval");
  TrainOptions o = Options("dnn", dir);
  o.loop.epochs = 1;
  o.config_text =
      "model: {name: dnn, embedding_dim: 4, hidden: [16, 8], dropout: 0.1}\n"
      "data: {dir: " +
      *data_dir_ +
      ", batch_size: 64, shuffle_buffer: 500}\n"
      "train: {threads: 1}\n";
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
  COLONY_ASSERT_OK_AND_ASSIGN(EvalSummary e, Evaluate(dir, ""));
  EXPECT_EQ(e.samples, 300);
  EXPECT_DOUBLE_EQ(e.auc, s.test_auc);
  const std::string out = dir + "/pred.txt";
  COLONY_ASSERT_OK_AND_ASSIGN(EvalSummary p, Predict(dir, *data_dir_ + "/test.txt", out));
  EXPECT_EQ(p.samples, 300);
  std::ifstream in(out);
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    const double prob = std::stod(line);
    EXPECT_GT(prob, 0.0);
    EXPECT_LT(prob, 1.0);
    ++lines;
  }
  EXPECT_EQ(lines, 300);
  EXPECT_THAT(Evaluate(Fresh("none"), ""),
              StatusIs(StatusCode::kNotFound, HasSubstr("no checkpoint")));
}

TEST_F(TrainerTest, TrainsOnCsvWithASchema) {
  // The label is 1 exactly when the first categorical column is "a": any working model on
  // these columns separates the test rows.
  const std::string dir = Fresh("csv");
  fs::create_directories(dir);
  for (const char* file : {"train.csv", "test.csv"}) {
    std::ofstream out(dir + "/" + file);
    out << "label,x,color,size\n";
    for (int i = 0; i < 2000; ++i) {
      const bool positive = (i * 7919) % 3 == 0;
      out << (positive ? 1 : 0) << "," << (i % 10) * 0.1 << "," << (positive ? "a" : "b") << ","
          << "s" << (i % 5) << "\n";
    }
  }
  TrainOptions o = Options("dnn", "");
  o.data.dir = dir;
  o.data.format = "csv";
  o.data.train = "train.csv";
  o.data.test = "test.csv";
  o.data.csv.label_column = 0;
  o.data.csv.dense_columns = {1};
  o.data.csv.sparse_columns = {2, 3};
  o.model.num_dense = 1;
  o.model.num_slots = 2;
  o.model.dropout = 0;
  o.loop.epochs = 3;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
  EXPECT_EQ(s.test_samples, 2000);
  EXPECT_GT(s.test_auc, 0.99);
  o.data.csv.sparse_columns = {2, 9};  // The header has 4 columns.
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("9")));
}

TEST_F(TrainerTest, TrainsOnLibsvmFeatureBags) {
  // Positive samples carry feature 7 (with a varying weight), negatives feature 8; every
  // sample also has 1-3 noise features.
  const std::string dir = Fresh("libsvm");
  fs::create_directories(dir);
  for (const char* file : {"train.txt", "test.txt"}) {
    std::ofstream out(dir + "/" + file);
    for (int i = 0; i < 2000; ++i) {
      const bool positive = (i * 7919) % 3 == 0;
      out << (positive ? 1 : -1) << " " << (positive ? 7 : 8) << ":" << 0.5 + (i % 4) * 0.25;
      for (int k = 0; k <= i % 3; ++k) out << " " << 100 + (i * 31 + k) % 50 << ":1";
      out << "\n";
    }
  }
  for (const char* model : {"lr", "dnn", "wide_deep"}) {
    TrainOptions o = Options(model, "");
    o.data.dir = dir;
    o.data.format = "libsvm";
    o.model.input = "bag";
    o.model.dropout = 0;
    o.loop.epochs = 3;
    COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(o));
    EXPECT_EQ(s.test_samples, 2000) << model;
    EXPECT_GT(s.test_auc, 0.99) << model;
  }
  TrainOptions deepfm = Options("deepfm", "");
  deepfm.data.dir = dir;
  deepfm.data.format = "libsvm";
  deepfm.model.input = "bag";
  EXPECT_THAT(Train(deepfm), StatusIs(StatusCode::kInvalidArgument, HasSubstr("fixed slots")));
}

TEST_F(TrainerTest, TrainingOnParameterServersEqualsEmbeddedTables) {
  // One worker, two real servers on 127.0.0.1: every step pulls what it pushed before, so the
  // run must match the embedded tables exactly.
  TrainOptions remote = Options("wide_deep", "");
  remote.loop.epochs = 1;
  const auto servers = testing::StartPsServers(2, &remote.ps.servers);
  TrainOptions local = remote;
  local.ps.servers.clear();
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary on_servers, Train(remote));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary embedded, Train(local));
  EXPECT_EQ(on_servers.train_loss, embedded.train_loss);
  EXPECT_EQ(on_servers.test_auc, embedded.test_auc);
  EXPECT_GT(ps::QueryServerStats(remote.ps.servers[1], "")->requests, 0);
}

TEST_F(TrainerTest, BatchedDenseCallsTrainLikePerTableCallsInEveryStrategy) {
  // The same job on fresh pairs of servers, dense tables batched (one PullMany/PushMany per
  // server and step) or one call per table: the same model, with fewer calls.
  for (const Strategy strategy : {Strategy::kAsync, Strategy::kSync, Strategy::kGeo}) {
    TrainOptions o = Options("dnn", "");
    o.model.dropout = 0;
    o.loop.epochs = 1;
    o.loop.max_steps = 12;
    o.strategy = strategy;
    o.ps.geo_steps = 3;
    std::vector<int64_t> requests;
    std::vector<TrainSummary> runs;
    for (bool batch : {true, false}) {
      const auto servers = testing::StartPsServers(2, &o.ps.servers);
      o.ps.batch_dense = batch;
      COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary run, Train(o));
      runs.push_back(run);
      int64_t sum = 0;
      for (const std::string& server : o.ps.servers) {
        COLONY_ASSERT_OK_AND_ASSIGN(ps::ServerStats stats, ps::QueryServerStats(server, ""));
        sum += stats.requests;
        if (batch) {
          EXPECT_GT(stats.tables.size(), 0u) << server << " holds no table";
        }
      }
      requests.push_back(sum);
    }
    EXPECT_EQ(runs[0].train_loss, runs[1].train_loss) << StrategyName(strategy);
    EXPECT_EQ(runs[0].test_logloss, runs[1].test_logloss) << StrategyName(strategy);
    EXPECT_LT(requests[0], requests[1]) << StrategyName(strategy);
  }
}

TEST_F(TrainerTest, SyncWorkersResumeTheirDataPositionsFromCheckpoints) {
  // Two sync workers stop at step 20 and resume to step 40 against the same servers; they
  // must end where two workers running 40 steps at once end.
  auto run_pair = [](const TrainOptions& first) -> StatusOr<TrainSummary> {
    COLONY_ASSIGN_OR_RETURN(auto both, testing::RunTwoWorkers(first, Train));
    return both.first;
  };
  TrainOptions o = Options("dnn", "");
  o.model.dropout = 0;
  o.data.batch_size = 32;
  o.strategy = Strategy::kSync;
  o.worker.count = 2;
  auto servers = testing::StartPsServers(2, &o.ps.servers);
  o.loop.max_steps = 40;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary whole, run_pair(o));

  servers = testing::StartPsServers(2, &o.ps.servers);
  o.checkpoint.dir = Fresh("sync_resume");
  o.loop.max_steps = 20;
  COLONY_ASSERT_OK(run_pair(o).status());
  EXPECT_TRUE(fs::exists(o.checkpoint.dir + "/worker-1/LATEST"));
  o.resume_dir = o.checkpoint.dir;
  o.loop.max_steps = 40;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary resumed, run_pair(o));
  EXPECT_EQ(resumed.steps, 20);
  EXPECT_EQ(resumed.global_step, 40);
  EXPECT_NEAR(resumed.test_logloss, whole.test_logloss, 1e-5);
}

TEST_F(TrainerTest, SyncWorkersEqualOneWorkerOnTheGlobalBatch) {
  // Two workers on batches of 32 (threads in this process, real servers on 127.0.0.1) must
  // end where one worker on batches of 64 over the same data ends, up to float rounding.
  TrainOptions sync = Options("dnn", "");
  sync.model.dropout = 0;  // Dropout masks depend on the batch split.
  sync.loop.epochs = 1;
  sync.loop.max_steps = 40;
  sync.data.batch_size = 32;
  sync.strategy = Strategy::kSync;
  sync.worker.count = 2;
  const auto servers = testing::StartPsServers(2, &sync.ps.servers);
  COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(sync, Train));
  const auto& [first, other] = both;
  EXPECT_EQ(first.steps, 40);
  EXPECT_EQ(other.steps, 40);
  EXPECT_EQ(other.test_samples, 0) << "only worker 0 tests";

  TrainOptions local = sync;
  local.strategy = Strategy::kLocal;
  local.worker = {};
  local.ps.servers.clear();
  local.data.batch_size = 64;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary one, Train(local));
  EXPECT_EQ(one.steps, 40);
  EXPECT_GT(first.test_samples, 0);
  EXPECT_NEAR(first.test_logloss, one.test_logloss, 1e-5);
  EXPECT_NEAR(first.test_auc, one.test_auc, 1e-4);
  EXPECT_NEAR((first.train_loss + other.train_loss) / 2, one.train_loss, 1e-4);
}

TEST_F(TrainerTest, AsyncWorkersShareTheBatchesOfAPass) {
  TrainOptions o = Options("lr", "");
  o.loop.epochs = 1;
  o.strategy = Strategy::kAsync;
  o.worker.count = 2;
  const auto servers = testing::StartPsServers(1, &o.ps.servers);
  COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(o, Train));
  const auto& [first, other] = both;
  // 2700 training rows in batches of 64: 43 batches, the odd one to worker 0.
  EXPECT_EQ(first.steps, 22);
  EXPECT_EQ(other.steps, 21);
  EXPECT_EQ(first.samples + other.samples, 2700);
  EXPECT_EQ(other.test_samples, 0) << "only worker 0 tests";

  TrainOptions lost = o;  // Its partner never comes: the start barrier gives up.
  lost.ps.barrier_timeout_ms = 300;
  EXPECT_THAT(Train(lost), StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("1 of 2 workers")));
  lost.worker.rank = 2;
  EXPECT_THAT(Train(lost), StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
}

TEST_F(TrainerTest, GeoWorkersTrainLocalCopiesAndMergeThem) {
  TrainOptions geo = Options("dnn", "");
  geo.model.dropout = 0;
  geo.loop.epochs = 1;
  geo.strategy = Strategy::kGeo;
  geo.ps.geo_steps = 1;
  auto servers = testing::StartPsServers(2, &geo.ps.servers);
  // One worker merging after every step tracks embedded training up to the rounding of
  // base + (local - base).
  TrainOptions local = geo;
  local.strategy = Strategy::kLocal;
  local.ps.servers.clear();
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary one, Train(geo));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary embedded, Train(local));
  EXPECT_NEAR(one.test_logloss, embedded.test_logloss, 1e-4);

  // Two workers merging every 4 steps, on fresh tables.
  servers = testing::StartPsServers(2, &geo.ps.servers);
  geo.ps.geo_steps = 4;
  geo.worker.count = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(geo, Train));
  const auto& [first, other] = both;
  EXPECT_EQ(first.samples + other.samples, 2700);
  EXPECT_LT(std::abs(first.test_logloss - embedded.test_logloss), 0.05);
}

// A fresh server on 127.0.0.1 answering every Pull `delay_ms` late; its address in `o`.
std::unique_ptr<ps::PsServer> StartServer(TrainOptions& o, int delay_ms) {
  ps::PsServerOptions options;
  options.inject_delay_ms = delay_ms;
  auto server = std::move(ps::PsServer::Start(options)).value();
  o.ps.servers = {"127.0.0.1:" + std::to_string(server->port())};
  return server;
}

// An async job for a worker that waits for the global parameters, and for a candidate worker.
std::pair<TrainOptions, TrainOptions> WaitingAndCandidate(TrainOptions wait) {
  wait.model.dropout = 0;
  wait.strategy = Strategy::kAsync;
  TrainOptions candidate = wait;
  candidate.ps.late_params = "candidate";
  return {wait, candidate};
}

TEST_F(TrainerTest, CandidateWorkerWithParametersOnTimeEqualsAWaitingWorker) {
  // Waiting as long as needed, every pull arrives in time: no candidate step, and the same
  // run as a worker that waits, bit for bit.
  auto [wait, candidate] = WaitingAndCandidate(Options("dnn", ""));
  wait.loop.epochs = candidate.loop.epochs = 1;
  candidate.ps.candidate_wait_ms = 600000;
  auto wait_server = StartServer(wait, 0);
  auto candidate_server = StartServer(candidate, 0);
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary waited, Train(wait));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(candidate));
  EXPECT_EQ(waited.runner.candidate_steps, 0);
  EXPECT_EQ(s.runner.candidate_steps, 0);
  EXPECT_EQ(s.steps, waited.steps);
  EXPECT_EQ(s.train_loss, waited.train_loss);
  EXPECT_EQ(s.test_auc, waited.test_auc);
}

TEST_F(TrainerTest, CandidateWorkerTrainsOnWhileTheServerIsLate) {
  // Every Pull answered 10 ms late, a step trains in a few ms: the worker waits the measured
  // step time, then trains on its candidate model, and ends where a waiting worker ends,
  // within a tolerance.
  auto [wait, candidate] = WaitingAndCandidate(Options("dnn", ""));
  auto wait_server = StartServer(wait, 0);  // A waiting worker's run does not depend on delay.
  auto late_server = StartServer(candidate, 10);
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary waited, Train(wait));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(candidate));
  EXPECT_EQ(s.steps, 86);
  EXPECT_GT(s.runner.candidate_steps, 0);
  EXPECT_EQ(nlohmann::json::parse(SummaryJson(s))["candidate_steps"], s.runner.candidate_steps);
  EXPECT_NEAR(s.test_auc, waited.test_auc, 0.02);
  EXPECT_NEAR(s.test_logloss, waited.test_logloss, 0.02);

  // A fixed wait far below the delay: every step but the first (which waits for the dense
  // values) is a candidate step.
  auto second_server = StartServer(candidate, 10);
  candidate.ps.candidate_wait_ms = 1;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary fixed, Train(candidate));
  EXPECT_EQ(fixed.runner.candidate_steps, 85);
  EXPECT_NEAR(fixed.test_auc, waited.test_auc, 0.02);
}

TEST_F(TrainerTest, CandidateStalenessBoundOfOneStepWaitsLikeAWaitingWorker) {
  // Allowed no step ahead, the worker waits for every pull however late the server is: the
  // same run as a worker that waits.
  auto [wait, candidate] = WaitingAndCandidate(Options("dnn", ""));
  wait.loop.epochs = candidate.loop.epochs = 1;
  candidate.ps.candidate_wait_ms = 1;
  candidate.ps.candidate_max_stale = 1;
  auto wait_server = StartServer(wait, 0);
  auto late_server = StartServer(candidate, 5);
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary waited, Train(wait));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary s, Train(candidate));
  EXPECT_EQ(s.runner.candidate_steps, 0);
  EXPECT_EQ(s.train_loss, waited.train_loss);
  EXPECT_EQ(s.test_auc, waited.test_auc);
}

TEST_F(TrainerTest, TargetLossStopsAWorkerOnceItsRecentLossIsLowEnough) {
  TrainOptions o = Options("lr", "");
  o.loop.target_loss = 100;  // Any loss: reached as soon as the window is full.
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary reached, Train(o));
  EXPECT_TRUE(reached.reached_target_loss);
  EXPECT_EQ(reached.steps, LoopOptions::kTargetLossWindow);
  EXPECT_GT(reached.test_samples, 0);  // The model is still tested.
  EXPECT_EQ(nlohmann::json::parse(SummaryJson(reached))["reached_target_loss"], true);

  o.loop.target_loss = 1e-6;  // Out of reach: every epoch runs.
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary missed, Train(o));
  EXPECT_FALSE(missed.reached_target_loss);
  EXPECT_EQ(missed.steps, 86);
}

TEST_F(TrainerTest, SyncCandidateWorkersShareTheBatchesOfAPass) {
  TrainOptions o = Options("lr", "");
  o.loop.epochs = 1;
  o.strategy = Strategy::kSync;
  o.ps.late_params = "candidate";
  o.worker.count = 2;
  auto server = StartServer(o, 5);
  COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(o, Train));
  const auto& [first, other] = both;
  EXPECT_EQ(first.steps, 21);  // Whole rounds of 2 of the 43 batches.
  EXPECT_EQ(other.steps, 21);
}

TEST_F(TrainerTest, LateParamsConfigErrorsAreClear) {
  TrainOptions o = Options("lr", "");
  o.ps.late_params = "candidate";  // Strategy local: nothing to be late.
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument,
                                 HasSubstr("candidate is for strategy 'async' or 'sync'")));
  o.strategy = Strategy::kGeo;
  o.ps.servers = {"127.0.0.1:1"};
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not 'geo'")));
  o.strategy = Strategy::kAsync;
  o.ps.late_params = "maybe";
  EXPECT_THAT(Train(o),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("ps.late_params must be 'wait' or 'candidate', got 'maybe'")));
  o.ps.late_params = "candidate";
  o.ps.candidate_wait_ms = -1;
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ps.candidate_wait_ms")));
  o.ps.candidate_wait_ms = 0;
  o.ps.candidate_max_stale = 0;
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument,
                                 HasSubstr("ps.candidate_max_stale must be >= 1")));
  o.ps.candidate_max_stale = 8;
  o.loop.target_loss = -1;
  EXPECT_THAT(Train(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("train.target_loss must be >= 0")));
  o.loop.target_loss = 0.4;
  o.strategy = Strategy::kSync;
  EXPECT_THAT(Train(o), StatusIs(StatusCode::kInvalidArgument,
                                 HasSubstr("train.target_loss is not for strategy 'sync'")));
  ps::PsServerOptions server;
  server.inject_delay_ms = -5;
  EXPECT_THAT(ps::PsServer::Start(server),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("inject_delay_ms")));
}

TEST_F(TrainerTest, ATinyMemoryCapWithAnSsdTierTrainsLikeUnlimitedMemory) {
  TrainOptions unlimited = Options("dnn", "");
  unlimited.loop.epochs = 1;
  TrainOptions capped = unlimited;
  capped.ps.memory_rows = 64;  // Of some 2000 rows: the rest live in RocksDB.
  capped.ps.ssd_dir = Fresh("ssd");
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary a, Train(unlimited));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary b, Train(capped));
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.test_auc, b.test_auc);
  EXPECT_TRUE(fs::exists(capped.ps.ssd_dir + "/emb/CURRENT"));

  // On a server started with an SSD folder, too.
  ps::PsServerOptions server_options;
  server_options.ssd_dir = Fresh("server_ssd");
  auto server = std::move(ps::PsServer::Start(server_options)).value();
  TrainOptions remote = capped;
  remote.ps.ssd_dir.clear();
  remote.ps.servers = {"127.0.0.1:" + std::to_string(server->port())};
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary c, Train(remote));
  EXPECT_EQ(a.test_auc, c.test_auc);
  auto stats = ps::QueryServerStats(remote.ps.servers[0], "");
  ASSERT_TRUE(stats.ok());
  for (const auto& t : stats->tables) {
    if (t.name == "emb") {
      EXPECT_GT(t.ssd_rows, 1000);
    }
  }
}

TEST_F(TrainerTest, AdmissionAndTtlShrinkTheTable) {
  TrainOptions all = Options("lr", "");
  all.loop.epochs = 1;
  TrainOptions admitted = all;
  admitted.ps.admit_count = 3;
  admitted.ps.ttl_passes = 1;
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary a, Train(all));
  COLONY_ASSERT_OK_AND_ASSIGN(TrainSummary b, Train(admitted));
  EXPECT_LT(b.sparse_rows, a.sparse_rows / 2) << "rare ids got no row, or were evicted";
  EXPECT_GT(b.sparse_rows, 0);
  EXPECT_EQ(b.ssd_rows, 0);
  admitted.ps.admit_probability = 0;
  EXPECT_THAT(Train(admitted), StatusIs(StatusCode::kInvalidArgument, HasSubstr("admit")));
  admitted.ps.admit_probability = 1;
  admitted.ps.memory_rows = 10;
  EXPECT_THAT(Train(admitted), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ps.ssd_dir")));
}

TEST(SummaryTest, JsonHasTheRequiredKeys) {
  TrainSummary s;
  s.first_bad_lines = {"a.txt:3: expected 40 fields, got \"2\""};
  const std::string json = SummaryJson(s);
  for (const char* key :
       {"samples_per_sec", "train_loss", "test_auc", "test_logloss", "bad_lines"}) {
    EXPECT_THAT(json, HasSubstr(std::string("\"") + key + "\":"));
  }
  EXPECT_THAT(json, HasSubstr("got \\\"2\\\""));
}

}  // namespace
}  // namespace colony::train
