// Runs the real `colony` binary as a user would: generate data, train, evaluate, predict,
// and the errors a user sees for bad flags, configs and files.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "colony/base/file_util.h"
#include "testing/run_command.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

using Result = ::colony::testing::CommandResult;

Result RunColony(const std::string& args) {
  return ::colony::testing::RunCommand(std::string(COLONY_BINARY) + " " + args);
}

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

// Starts `colony ARGS` with output to `log`; returns its pid.
pid_t Spawn(const std::string& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command =
        "exec " + std::string(COLONY_BINARY) + " " + args + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
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
  const pid_t pid = Spawn(
      "serve --role pserver --port 0 --token t0k --checkpoint-dir " + *root_ + "/ps_ckpt", log);
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

  const Result stats = RunColony("ps stats --addr " + address + " --token t0k");
  EXPECT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_THAT(stats.output, HasSubstr(address + ": 1 requests"));
  // A training job whose tables live on that server process.
  const Result train = RunColony("train examples/ctr/config.yaml --set data.dir=" + *root_ +
                                 "/data --set model.hidden=[16] --set train.epochs=1" +
                                 " --set ps.servers=[" + address + "] --set ps.token=t0k");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("test auc"));
  const Result tables = RunColony("ps stats --addr " + address + " --token t0k");
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

TEST_F(CliTest, ProgramDumpPrintsTheModel) {
  const Result dump = RunColony("program dump examples/ctr/config.yaml --set model.name=deepfm");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_THAT(dump.output, HasSubstr("sparse_lookup"));
  EXPECT_THAT(dump.output, HasSubstr("sigmoid_bce"));
}

TEST_F(CliTest, UserErrorsExitWithTwoAndSayWhere) {
  const std::string bad_config = *root_ + "/bad.yaml";
  std::ofstream(bad_config) << "model:\n  name: dnn\n  hidden_units: [3]\n";
  struct Case {
    std::string args;
    std::string fragment;
  };
  const Case cases[] = {
      {"train " + bad_config, "bad.yaml:3: key 'model.hidden_units' is not a known setting"},
      {"train " + *root_ + "/missing.yaml", "missing.yaml"},
      {"train examples/ctr/config.yaml --set data.dir=" + *root_ + "/nowhere", "nowhere"},
      {"train examples/ctr/config.yaml --set model.name=xgb", "known: deepfm, dnn, lr, wide_deep"},
      {"train examples/ctr/config.yaml --set data.batch_size=zero",
       "--set data.batch_size must be an integer, got 'zero'"},
      {"train examples/ctr/config.yaml --set", "--set"},
      {"gen ctr --rows -5 --out " + *root_ + "/x", "rows"},
      {"eval --checkpoint " + *root_ + "/no_ckpt", "no checkpoint"},
      {"frobnicate", "unknown command 'frobnicate'"},
  };
  for (const Case& c : cases) {
    const Result result = RunColony(c.args);
    EXPECT_EQ(result.exit_code, 2) << c.args << "\n" << result.output;
    EXPECT_THAT(result.output, HasSubstr(c.fragment)) << c.args;
  }
}

}  // namespace
}  // namespace colony
