// Runs the real `colony` binary as a user would: generate data, train, evaluate, predict,
// and the errors a user sees for bad flags, configs and files.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "colony/base/file_util.h"
#include "colony/retrieval/server.h"
#include "colony/retrieval/vector_file.h"
#include "integration/run_colony.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::testing::HasSubstr;

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // ctest runs each case in its own process, possibly at once: one folder per process.
    root_ = new std::string(::testing::TempDir() + "/colony_cli_" + std::to_string(getpid()));
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    const Result gen = RunColony("gen ctr --rows 4000 --out " + *root_ + "/data --seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  static std::string* root_;
};
std::string* CliTest::root_ = nullptr;

TEST_F(CliTest, TrainWritesSummaryAndCheckpointThenEvalAndPredict) {
  const std::string& r = *root_;
  const Result train = RunColony("train examples/ctr/config.yaml --set data.dir=" + r +
                                 "/data --set train.threads=1 " +
                                 "--set model.hidden=[16] --set checkpoint.dir=" + r +
                                 "/ckpt --summary-json " + r + "/summary.json");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("LibTorch threads"));
  EXPECT_THAT(train.output, HasSubstr("summary:"));
  auto json = ReadFile(r + "/summary.json");
  ASSERT_TRUE(json.ok());
  for (const char* key :
       {"samples_per_sec", "train_loss", "test_auc", "test_logloss", "bad_lines"}) {
    EXPECT_THAT(*json, HasSubstr(std::string("\"") + key + "\""));
  }
  const Result eval = RunColony("eval --checkpoint " + r + "/ckpt");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_THAT(eval.output, HasSubstr("on 400 samples"));
  const Result predict = RunColony("predict --checkpoint " + r + "/ckpt --data " + r +
                                   "/data/test.txt --out " + r + "/pred.txt");
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  EXPECT_TRUE(fs::exists(r + "/pred.txt"));
}

TEST_F(CliTest, InterruptCheckpointsAndResumeContinues) {
  const std::string& r = *root_;
  const std::string log = r + "/interrupt.log";
  const std::string common = "train examples/ctr/config.yaml --set data.dir=" + r +
                             "/data --set model.hidden=[16] --set checkpoint.dir=" + r +
                             "/interrupt_ckpt --set train.log_every_seconds=0.05";
  const pid_t pid = Spawn(common + " --set train.epochs=100000", log);
  ASSERT_GT(pid, 0);
  // Wait (at most 60 s) for the first progress line, then interrupt.
  bool training = false;
  for (int i = 0; i < 1200 && !training; ++i) {
    usleep(50 * 1000);
    auto text = ReadFile(log);
    training = text.ok() && text->find("train epoch") != std::string::npos;
  }
  kill(pid, training ? SIGINT : SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(training) << *ReadFile(log);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string text = *ReadFile(log);
  EXPECT_THAT(text, HasSubstr("CANCELLED: interrupted at step"));
  EXPECT_THAT(text, HasSubstr("continue with --resume"));
  const int64_t step = std::stoll(text.substr(text.find("interrupted at step ") + 20));
  EXPECT_TRUE(fs::exists(r + "/interrupt_ckpt/LATEST"));

  const Result resumed = RunColony(common + " --set train.epochs=100000 --set train.max_steps=" +
                                   std::to_string(step + 3) + " --resume " + r + "/interrupt_ckpt");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("resumed from"));
  EXPECT_THAT(resumed.output, HasSubstr("summary: 3 steps"));
}

TEST_F(CliTest, ServeRunsAParameterServerUntilSigterm) {
  const std::string log = *root_ + "/serve.log";
  const std::string token_file = *root_ + "/token";
  std::ofstream(token_file) << "t0k\n";
  const pid_t pid = Spawn("serve --role pserver --port 0 --token-file " + token_file +
                              " --checkpoint-dir " + *root_ + "/ps_ckpt",
                          log);
  ASSERT_GT(pid, 0);
  std::string text;
  for (int i = 0; i < 600 && text.find("listening on") == std::string::npos; ++i) {
    usleep(50 * 1000);  // At most 30 s.
    text = ReadFile(log).value_or("");
  }
  const size_t at = text.find("listening on 127.0.0.1:");
  if (at == std::string::npos) kill(pid, SIGKILL);
  ASSERT_NE(at, std::string::npos) << text;
  const std::string address = "127.0.0.1:" + std::to_string(std::stoi(text.substr(at + 23)));

  const Result stats = RunColony("ps stats --addr " + address + " --token-file " + token_file);
  EXPECT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_THAT(stats.output, HasSubstr(address + ": 1 requests"));
  EXPECT_THAT(stats.output, ::testing::Not(HasSubstr("warning")));
  // A training job whose tables live on that server process.
  const Result train = RunColony("train examples/ctr/config.yaml --set data.dir=" + *root_ +
                                 "/data --set model.hidden=[16] --set train.epochs=1" +
                                 " --set ps.servers=[" + address + "] --set ps.token=t0k");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("test auc"));
  // --token still works, with a warning that ps shows it to every user.
  const Result tables = RunColony("ps stats --addr " + address + " --token t0k");
  EXPECT_THAT(tables.output, HasSubstr("warning: --token puts the token on the command line"));
  EXPECT_THAT(tables.output, HasSubstr("table emb: sparse"));
  EXPECT_THAT(tables.output, HasSubstr("table fc0.w: dense"));
  const Result refused = RunColony("ps stats --addr " + address + " --token wrong");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("UNAUTHENTICATED"));

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadFile(log).value_or(""), HasSubstr("pserver saved 5 tables"));
  EXPECT_THAT(ReadFile(log).value_or(""), HasSubstr("pserver stopped"));
  EXPECT_TRUE(fs::exists(*root_ + "/ps_ckpt/MANIFEST"));
  const Result gone = RunColony("ps stats --addr " + address);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.output, HasSubstr(address));
}

// Waits (at most 30 s) until `log` holds `marker`; returns the log text.
std::string WaitForLog(const std::string& log, const std::string& marker) {
  std::string text;
  for (int i = 0; i < 600 && text.find(marker) == std::string::npos; ++i) {
    usleep(50 * 1000);
    text = ReadFile(log).value_or("");
  }
  return text;
}

retrieval::VectorSet RandomVectors(int64_t n, int64_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  retrieval::VectorSet set{.n = n, .dim = dim, .data = {}};
  for (int64_t i = 0; i < n * dim; ++i) set.data.push_back(uniform(rng));
  return set;
}

TEST_F(CliTest, IndexBuildQueryAddRemoveAndServe) {
  const std::string r = *root_ + "/index";
  fs::create_directories(r);
  ASSERT_TRUE(retrieval::WriteFvecs(r + "/items.fvecs", RandomVectors(3000, 8, 0)).ok());
  ASSERT_TRUE(retrieval::WriteFvecs(r + "/queries.fvecs", RandomVectors(50, 8, 3)).ok());
  ASSERT_TRUE(retrieval::WriteFvecs(r + "/more.fvecs", RandomVectors(20, 8, 5)).ok());
  ASSERT_TRUE(retrieval::WriteFvecs(r + "/wide.fvecs", RandomVectors(5, 9, 0)).ok());
  const Result build =
      RunColony("index build --vectors " + r + "/items.fvecs --trees 3 --out " + r + "/idx");
  ASSERT_EQ(build.exit_code, 0) << build.output;
  EXPECT_THAT(build.output, HasSubstr("3000 items, 3 trees of depth 12"));
  const Result query = RunColony("index query --index " + r + "/idx --queries " + r +
                                 "/queries.fvecs --k 10 --beam 4096 --rerank 0 --summary-json " +
                                 r + "/summary.json");
  ASSERT_EQ(query.exit_code, 0) << query.output;
  const std::string json = ReadFile(r + "/summary.json").value_or("");
  // A beam over all 4096 leaves is exact.
  EXPECT_EQ(JsonNumber(json, "recall_at_10"), 1.0);
  EXPECT_EQ(JsonNumber(json, "beam"), 4096);
  EXPECT_EQ(JsonNumber(json, "trees"), 3);
  EXPECT_EQ(JsonNumber(json, "queries"), 50);
  EXPECT_GT(JsonNumber(json, "qps"), 0);
  const Result add = RunColony("index add --index " + r + "/idx --vectors " + r + "/more.fvecs");
  ASSERT_EQ(add.exit_code, 0) << add.output;
  EXPECT_THAT(add.output, HasSubstr("20 items (ids 3000..3019), the index holds 3020"));
  const Result remove = RunColony("index remove --index " + r + "/idx --ids 3000,3001,7");
  ASSERT_EQ(remove.exit_code, 0) << remove.output;
  EXPECT_THAT(remove.output, HasSubstr("the index holds 3017"));
  const Result cases[] = {
      RunColony("index query --index " + r + "/idx --queries " + r + "/wide.fvecs"),
      RunColony("index build --vectors " + r + "/none.fvecs --out " + r + "/x"),
      RunColony("index remove --index " + r + "/idx --ids 7"),
      RunColony("index query --index " + r + "/idx --queries " + r + "/queries.fvecs --beam 0"),
      RunColony("index build --vectors " + r + "/items.fvecs --out " + r + "/x --metric cos"),
      RunColony("serve --role retrieval"),
  };
  const char* fragments[] = {"dimension 9, expected 8",  "none.fvecs",
                             "id 7 is not in the index", "beam must be in [1, 4096]",
                             "metric 'cos' is unknown",  "needs --index"};
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(cases[i].exit_code, 2) << cases[i].output;
    EXPECT_THAT(cases[i].output, HasSubstr(fragments[i]));
  }

  const std::string log = r + "/serve.log";
  const pid_t pid = Spawn("serve --role retrieval --index " + r + "/idx --port 0 --beam 64", log);
  ASSERT_GT(pid, 0);
  const std::string text = WaitForLog(log, " on 127.0.0.1:");
  const size_t at = text.find(" on 127.0.0.1:");
  if (at == std::string::npos) kill(pid, SIGKILL);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_THAT(text, HasSubstr("retrieval serving 3017 items (3 trees)"));
  auto client = retrieval::RetrievalClient::Connect(
      "127.0.0.1:" + std::to_string(std::stoi(text.substr(at + 14))));
  ASSERT_TRUE(client.ok());
  const retrieval::VectorSet queries = RandomVectors(50, 8, 3);
  for (int64_t q = 0; q < queries.n; ++q) {  // A bounded load: 50 calls, 10 s deadline each.
    auto found = (*client)->Search({.k = 3}, std::span<const float>(queries.row(q), 8));
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_NE(found->ids[0], retrieval::SearchResults::kNoItem);
  }
  auto health = (*client)->Health();
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->items, 3017);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadFile(log).value_or(""), HasSubstr("retrieval stopped after 51 requests"));
}

TEST_F(CliTest, ProgramDumpPrintsTheModel) {
  const Result dump = RunColony("program dump examples/ctr/config.yaml --set model.name=deepfm");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_THAT(dump.output, HasSubstr("sparse_lookup"));
  EXPECT_THAT(dump.output, HasSubstr("sigmoid_bce"));
}

TEST_F(CliTest, UserErrorsExitWithTwoAndSayWhere) {
  const std::string bad_config = *root_ + "/bad.yaml";
  std::ofstream(bad_config) << "model:\n  name: dnn\n  hidden_units: [3]\n";
  // A complex key used to end `colony train` with an uncaught yaml-cpp exception (exit 134).
  const std::string complex_key = *root_ + "/complex_key.yaml";
  std::ofstream(complex_key) << "model:\n  name: dnn\n? [a, b]\n: 1\n";
  struct Case {
    std::string args;
    std::string fragment;
  };
  const Case cases[] = {
      {"train " + bad_config, "bad.yaml:3: key 'model.hidden_units' is not a known setting"},
      {"train " + complex_key, "complex_key.yaml:3: a key must be a plain name, got a list"},
      {"train " + *root_ + "/missing.yaml", "missing.yaml"},
      {"train examples/ctr/config.yaml --set data.dir=" + *root_ + "/nowhere", "nowhere"},
      {"train examples/ctr/config.yaml --set model.name=xgb",
       "known: attention_graph, deepfm, dnn, linear_regression, lr, mmoe"},
      {"train examples/ctr/config.yaml --set data.batch_size=zero",
       "--set data.batch_size must be an integer, got 'zero'"},
      {"train examples/ctr/config.yaml --set", "--set"},
      {"gen ctr --rows -5 --out " + *root_ + "/x", "rows"},
      {"eval --checkpoint " + *root_ + "/no_ckpt", "no checkpoint"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"serve --role pserver --host 0.0.0.0", "is not loopback"},
      {"serve --role pserver --host 0.0.0.0 --plaintext",
       "0.0.0.0:0 is not loopback, so every call must carry a token: set --token-file"},
      {"serve --role pserver --token-file " + *root_ + "/no_token", "--token-file: cannot open"},
      {"serve --role pserver --token a --token-file " + *root_ + "/no_token", "not both"},
      {"launch examples/ctr/config.yaml --token-file " + *root_ + "/no_token",
       "--token-file: cannot open"},
      {"serve --role cook", "--role must be 'pserver', 'worker' or 'retrieval', got 'cook'"},
  };
  for (const Case& c : cases) {
    const Result result = RunColony(c.args);
    EXPECT_EQ(result.exit_code, 2) << c.args << "\n" << result.output;
    EXPECT_THAT(result.output, HasSubstr(c.fragment)) << c.args;
  }
}

}  // namespace
}  // namespace colony
