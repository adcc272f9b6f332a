// Strategy heter with real processes on 127.0.0.1: `colony train` on embedded tables and
// `colony launch` with parameter-server and worker processes, from examples/heter.
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "integration/run_colony.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::colony::testing::ParseJsonOrFail;
using ::testing::HasSubstr;

class HeterCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/colony_heter_cli_" + std::to_string(getpid()));
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    const Result gen = RunColony("gen ctr --rows 4000 --out " + *root_ + "/data --seed 6");
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  // 3600 training rows in batches of 128, passes of 1024 samples (8 batches) per worker.
  static std::string Job() {
    return "examples/heter/config.yaml --set data.dir=" + *root_ +
           "/data --set model.hidden=[16] --set train.epochs=1 --set data.batch_size=128 "
           "--set heter.pass_samples=1024";
  }
  static std::string* root_;
};
std::string* HeterCliTest::root_ = nullptr;

TEST_F(HeterCliTest, TrainOnEmbeddedTablesReportsEachPass) {
  const std::string summary = *root_ + "/train.json";
  const Result run = RunColony("train " + Job() + " --summary-json " + summary);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("heter: IO trainer, 2 compute trainer threads"));
  EXPECT_THAT(run.output, HasSubstr("heter pass 4: 528 samples"));  // 3600 - 3 * 1024.
  EXPECT_THAT(run.output, HasSubstr("cache hit"));
  const nlohmann::json json = ParseJsonOrFail(ReadFile(summary).value_or(""));
  const nlohmann::json heter = json.value("heter", nlohmann::json());
  EXPECT_EQ(JsonNumber(heter, "passes"), 4) << json;
  EXPECT_EQ(JsonNumber(heter.value("total", nlohmann::json()), "samples"), 3600) << json;
}

TEST_F(HeterCliTest, LaunchWithTwoServersAndTwoWorkers) {
  const std::string summary = *root_ + "/launch.json";
  const Result run = RunColony("launch --servers 2 --workers 2 " + Job() + " --summary-json " +
                               summary + " --run-dir " + *root_ + "/run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("[server 1] pserver listening on 127.0.0.1:"));
  EXPECT_THAT(run.output, HasSubstr("worker 1 of 2: heter training of dnn on 2 parameter servers"));
  EXPECT_THAT(run.output, HasSubstr("[worker 1] [colony I"));
  // 29 batches dealt in turn: worker 0 gets 15 (the last of 16 rows), 8 + 7 per pass.
  EXPECT_THAT(run.output, HasSubstr("heter pass 2: 784 samples"));
  EXPECT_THAT(run.output, HasSubstr("heter pass 2: 768 samples"));
  EXPECT_THAT(run.output, HasSubstr("launch summary: 2 servers, 2 workers"));
  const nlohmann::json json = ParseJsonOrFail(ReadFile(summary).value_or(""));
  EXPECT_EQ(JsonNumber(json, "samples"), 3600) << json;
  const nlohmann::json workers = json.value("worker_summaries", nlohmann::json());
  ASSERT_EQ(workers.size(), 2u) << json;
  for (const nlohmann::json& worker : workers) {
    EXPECT_EQ(JsonNumber(worker.value("heter", nlohmann::json()), "passes"), 2)
        << "each worker's passes";
  }
  // Against the generator's Bayes AUC (0.916 for seed 6): measured 0.809 after this one
  // epoch of 3600 rows; 400 test rows cannot put a model far above it.
  const double auc = JsonNumber(json, "test_auc");
  const double bayes_auc =
      JsonNumber(ParseJsonOrFail(ReadFile(*root_ + "/data/truth.json").value_or("")), "bayes_auc");
  EXPECT_GT(auc, bayes_auc - 0.2) << json;
  EXPECT_LT(auc, bayes_auc + 0.03) << json;
}

TEST_F(HeterCliTest, BadHeterValuesNameTheKey) {
  const Result run = RunColony("train " + Job() + " --set heter.compute_threads=0");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("heter.compute_threads must be in [1, 64], got 0"));
}

}  // namespace
}  // namespace colony
