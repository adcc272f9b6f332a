// Distributed jobs with real processes on 127.0.0.1: colony launch (servers + workers), a
// failing worker, and a parameter server killed with SIGKILL and restarted mid-job.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "colony/base/file_util.h"
#include "integration/run_colony.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::colony::testing::JsonNumbersAnywhere;
using ::colony::testing::ParseJsonOrFail;
using ::testing::HasSubstr;

class LaunchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/colony_launch_" + std::to_string(getpid()));
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    const Result gen = RunColony("gen ctr --rows 4000 --out " + *root_ + "/data --seed 5");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    truth_ = new std::string(ReadFile(*root_ + "/data/truth.json").value_or(""));
  }
  static std::string Job() {
    return "examples/ctr/config.yaml --set data.dir=" + *root_ +
           "/data --set model.hidden=[16] --set train.epochs=1 --set data.batch_size=128";
  }
  static std::string* root_;
  static std::string* truth_;  // The generator's truth.json.
};
std::string* LaunchTest::root_ = nullptr;
std::string* LaunchTest::truth_ = nullptr;

TEST_F(LaunchTest, AsyncSyncAndGeoJobsOfTwoServersAndTwoWorkers) {
  for (const std::string strategy : {"async", "sync", "geo"}) {
    const std::string summary = *root_ + "/" + strategy + ".json";
    const Result run =
        RunColony("launch --servers 2 --workers 2 " + Job() + " --set strategy=" + strategy +
                  " --summary-json " + summary + " --run-dir " + *root_ + "/run_" + strategy);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("[server 1] pserver listening on 127.0.0.1:"));
    EXPECT_THAT(run.output, HasSubstr("[worker 1] [colony I"));
    EXPECT_THAT(run.output, HasSubstr("worker 1 of 2: " + strategy + " training"));
    EXPECT_THAT(run.output, HasSubstr("launch summary: 2 servers, 2 workers"));
    const nlohmann::json job = ParseJsonOrFail(ReadFile(summary).value_or(""));
    // 3600 training rows, both workers' samples counted once.
    EXPECT_EQ(JsonNumber(job, "samples"), strategy == "sync" ? 3584 : 3600) << job;
    // The job's rate is the workers' added up; its test AUC is worker 0's, below the Bayes AUC.
    const nlohmann::json workers = job.value("worker_summaries", nlohmann::json());
    ASSERT_EQ(workers.size(), 2u) << job;
    EXPECT_NEAR(
        JsonNumber(job, "samples_per_sec"),
        JsonNumber(workers[0], "samples_per_sec") + JsonNumber(workers[1], "samples_per_sec"),
        1e-6 * JsonNumber(job, "samples_per_sec"));
    EXPECT_EQ(JsonNumber(job, "test_auc"), JsonNumber(workers[0], "test_auc"));
    EXPECT_LT(JsonNumber(job, "test_auc"), JsonNumber(*truth_, "bayes_auc") + 0.01) << strategy;
  }
}

TEST_F(LaunchTest, AJobResumesFromTheServersAndWorkersCheckpoints) {
  const std::string& r = *root_;
  const std::string common =
      "launch --servers 2 --workers 2 " + Job() +
      " --set strategy=async --set train.epochs=100 --set checkpoint.dir=" + r +
      "/resume_workers --checkpoint-dir " + r + "/resume_servers";
  const Result first = RunColony(common + " --set train.max_steps=10 --run-dir " + r + "/resume1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(fs::exists(r + "/resume_servers/server-1/MANIFEST"));
  EXPECT_TRUE(fs::exists(r + "/resume_workers/worker-1/LATEST"));
  const Result second =
      RunColony(common + " --set train.max_steps=15 --resume " + r + "/resume_workers --run-dir " +
                r + "/resume2 --summary-json " + r + "/resume.json");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // The sparse table on both servers, the 4 dense tables spread over them by name
  // (ps::ShardOfName): 3 on server 0, 1 on server 1.
  EXPECT_THAT(second.output, HasSubstr("[server 0] pserver restored 4 tables"));
  EXPECT_THAT(second.output, HasSubstr("[server 1] pserver restored 2 tables"));
  EXPECT_THAT(second.output, HasSubstr("[worker 1] [colony I"));
  EXPECT_THAT(second.output, HasSubstr("resumed from"));
  // Each worker ran 5 more steps, from step 10 to 15.
  const std::string json = ReadFile(r + "/resume.json").value_or("");
  const nlohmann::json workers = ParseJsonOrFail(json).value("worker_summaries", nlohmann::json());
  EXPECT_EQ(JsonNumbersAnywhere(workers, "steps"), (std::vector<double>{5, 5})) << json;
  EXPECT_EQ(JsonNumbersAnywhere(json, "global_step"), (std::vector<double>{15, 15}))
      << "both workers'";
}

TEST_F(LaunchTest, AJobResumesOnAnotherNumberOfServers) {
  // Saved by 2 servers, resumed on 3 (each takes its share of both folders), then on 1.
  const std::string& r = *root_;
  const std::string common = Job() + " --set strategy=async --set train.epochs=100" +
                             " --set checkpoint.dir=" + r + "/reshard_workers" +
                             " --checkpoint-dir " + r + "/reshard_servers --workers 1";
  const Result first = RunColony("launch --servers 2 " + common + " --set train.max_steps=6" +
                                 " --run-dir " + r + "/reshard1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const Result second =
      RunColony("launch --servers 3 " + common + " --set train.max_steps=9" + " --resume " + r +
                "/reshard_workers --run-dir " + r + "/reshard2");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // The sparse table on every server; the 4 dense tables spread over 3 by name.
  int restored = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string prefix = "[server " + std::to_string(i) + "] pserver restored ";
    const size_t at = second.output.find(prefix);
    ASSERT_NE(at, std::string::npos) << second.output;
    restored += std::stoi(second.output.substr(at + prefix.size()));
  }
  EXPECT_EQ(restored, 3 + 4);
  EXPECT_TRUE(fs::exists(r + "/reshard_servers/server-2/MANIFEST"));
  const Result third = RunColony("launch --servers 1 " + common + " --set train.max_steps=12" +
                                 " --resume " + r + "/reshard_workers --run-dir " + r +
                                 "/reshard3 --summary-json " + r + "/reshard.json");
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_THAT(third.output, HasSubstr("[server 0] pserver restored 5 tables"));
  EXPECT_THAT(ReadFile(r + "/reshard.json").value_or(""), HasSubstr("\"global_step\": 12"));
}

TEST_F(LaunchTest, CandidateWorkersTrainThroughALateServer) {
  // Servers answering every Pull 20 ms late; two async workers (examples/ctr/late_params.yaml)
  // that wait at most 1 ms for the global parameters train every step but their first on a
  // candidate model.
  const std::string summary = *root_ + "/candidate.json";
  std::string job = Job();  // The example of the candidate model, with the test's sizes.
  job.replace(0, job.find(' '), "examples/ctr/late_params.yaml");
  const Result run = RunColony("launch --servers 1 --workers 2 --inject-delay-ms 20 " + job +
                               " --set ps.candidate_wait_ms=1 --summary-json " + summary +
                               " --run-dir " + *root_ + "/run_candidate");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("steps on a candidate model"));
  const std::string json = ReadFile(summary).value_or("");
  EXPECT_EQ(JsonNumber(json, "samples"), 3600) << json;
  // 29 batches of 128: 15 and 14 steps, all but each worker's first on a candidate.
  std::vector<double> candidate_steps = JsonNumbersAnywhere(json, "candidate_steps");
  std::sort(candidate_steps.begin(), candidate_steps.end());
  EXPECT_EQ(candidate_steps, (std::vector<double>{13, 14})) << json;

  const Result bad = RunColony("launch --servers 1 --workers 1 " + Job() +
                               " --set strategy=async --set ps.late_params=later --run-dir " +
                               *root_ + "/run_bad_late");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("ps.late_params must be 'wait' or 'candidate', got 'later'"));
  const Result negative = RunColony("serve --role pserver --inject-delay-ms -1");
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_THAT(negative.output, HasSubstr("inject_delay_ms must be >= 0"));
}

TEST_F(LaunchTest, AFailingWorkerStopsTheJobNamingIt) {
  const Result run =
      RunColony("launch --servers 1 --workers 2 " + Job() +
                " --set strategy=async --set model.name=xgb --run-dir " + *root_ + "/run_fail");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("exited with code 2; stopped the other processes"));
  EXPECT_THAT(run.output, HasSubstr("model.name 'xgb' is not a model colony trains"));
  const Result local =
      RunColony("launch --servers 1 --workers 2 " + Job() + " --run-dir " + *root_ + "/run_local");
  EXPECT_THAT(local.output, HasSubstr("strategy 'local' trains one worker, not 2"));
  const Result no_servers = RunColony("launch --servers 0 --workers 2 " + Job());
  EXPECT_EQ(no_servers.exit_code, 2);
  EXPECT_THAT(no_servers.output, HasSubstr("--servers and --workers must be >= 1, got 0 and 2"));
  const Result no_config = RunColony("launch --servers 1 --workers 1 nowhere.yaml");
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_THAT(no_config.output, HasSubstr("config 'nowhere.yaml' not found"));
  const Result no_rank = RunColony("serve --role worker " + Job());
  EXPECT_EQ(no_rank.exit_code, 2);
  EXPECT_THAT(no_rank.output, HasSubstr("no rank"));
  const Result bad_env = RunColony("serve --role worker " + Job() + " --rank 0 --workers 0");
  EXPECT_EQ(bad_env.exit_code, 2);
}

TEST_F(LaunchTest, JobSurvivesAServerKilledAndRestartedFromItsCheckpoint) {
  const std::string& r = *root_;
  const std::string ckpt = r + "/kill_ckpt";
  const std::string server_log = r + "/kill_server.log";
  const std::string serve =
      "serve --role pserver --checkpoint-dir " + ckpt + " --checkpoint-every-seconds 1 --port ";
  pid_t server = Spawn(serve + "0", server_log);
  std::string text = WaitForLog(server_log, "listening on 127.0.0.1:");
  const size_t at = text.find("listening on 127.0.0.1:");
  if (at == std::string::npos) kill(server, SIGKILL);
  ASSERT_NE(at, std::string::npos) << text;
  const std::string port = std::to_string(std::stoi(text.substr(at + 23)));

  const std::string worker_log = r + "/kill_worker.log";
  const pid_t worker = Spawn("train " + Job() + " --set train.epochs=1000 --set train.max_steps=" +
                                 "1500 --set train.log_every_seconds=0.2 --set ps.servers=[" +
                                 "127.0.0.1:" + port + "] --summary-json " + r + "/kill.json",
                             worker_log);
  WaitForLog(worker_log, "train epoch");
  // Once the server has written a checkpoint of the job's 5 tables (a loaded machine may
  // write the first one before the worker made them), kill it without warning mid-job.
  auto tables_saved = [&] {
    const std::string manifest = ReadFile(ckpt + "/MANIFEST").value_or("");
    int tables = 0;
    for (size_t at = manifest.find("\ntable "); at != std::string::npos;
         at = manifest.find("\ntable ", at + 1)) {
      ++tables;
    }
    return tables;
  };
  for (int i = 0; i < 200 && tables_saved() < 5; ++i) usleep(50 * 1000);
  ASSERT_EQ(tables_saved(), 5);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  usleep(500 * 1000);  // The worker's calls now wait for the server.
  int status = 0;
  const bool worker_done_early = waitpid(worker, &status, WNOHANG) == worker;
  server = Spawn(serve + port, server_log + ".2");
  EXPECT_THAT(WaitForLog(server_log + ".2", "listening on"),
              HasSubstr("pserver restored 5 tables"));
  if (!worker_done_early) waitpid(worker, &status, 0);
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  EXPECT_FALSE(worker_done_early) << "the job ended before the server was killed; make it longer";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(worker_log).value_or("");
  EXPECT_EQ(JsonNumber(ReadFile(r + "/kill.json").value_or(""), "global_step"), 1500);
}

}  // namespace
}  // namespace colony
