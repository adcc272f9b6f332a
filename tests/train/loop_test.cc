#include "colony/train/loop.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "colony/base/config.h"
#include "colony/train/task_registry.h"
#include "colony/train/trainer.h"
#include "testing/status_matchers.h"

namespace colony::train {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TaskRegistryTest, EveryModelOfTheZooAndTheExampleIsRegistered) {
  std::vector<std::string> names;
  for (const auto& [name, doc] : TaskRegistry::Global().Keys()) {
    names.push_back(name);
    EXPECT_FALSE(doc.empty()) << name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"attention_graph", "deepfm", "dnn", "linear_regression", "lr",
                                      "mmoe", "shared_bottom", "srgnn", "wide_deep"}));
  EXPECT_THAT(TaskRegistry::Global().Register({"dnn", "again", nullptr}),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("'dnn'")));
}

TEST(TaskRegistryTest, ParseJobPicksTheTaskOfModelName) {
  const std::vector<std::pair<std::string, std::vector<Strategy>>> cases = {
      {"model: {name: dnn}\n", CtrTraits().strategies},
      {"train: {epochs: 2}\n", CtrTraits().strategies},  // No model.name: the CTR default.
      {"model: {name: srgnn}\n", {Strategy::kLocal, Strategy::kAsync, Strategy::kSync}},
      {"model: {name: mmoe}\n", {Strategy::kLocal, Strategy::kAsync}},
      {"model: {name: linear_regression}\n", {Strategy::kLocal, Strategy::kAsync, Strategy::kSync}},
  };
  for (const auto& [yaml, strategies] : cases) {
    COLONY_ASSERT_OK_AND_ASSIGN(Config config, Config::Parse(yaml, "job.yaml"));
    COLONY_ASSERT_OK_AND_ASSIGN(Job job, ParseJob(config));
    EXPECT_EQ(job.task->traits().strategies, strategies) << yaml;
    EXPECT_FALSE(job.options.config_text.empty()) << yaml;
  }
  COLONY_ASSERT_OK_AND_ASSIGN(Config unknown,
                              Config::Parse("model:\n  name: resnet\n", "job.yaml"));
  EXPECT_THAT(ParseJob(unknown),
              StatusIs(StatusCode::kNotFound, HasSubstr("job.yaml:2: key 'model.name'")));
  EXPECT_THAT(ParseJob(unknown),
              StatusIs(StatusCode::kNotFound, HasSubstr("'resnet' is not a model colony trains; "
                                                        "known: attention_graph, deepfm, dnn")));
  COLONY_ASSERT_OK_AND_ASSIGN(Config bad_key,
                              Config::Parse("model: {name: mmoe}\nps: {geo_steps: 3}\n", "j.yaml"));
  EXPECT_THAT(ParseJob(bad_key), StatusIs(StatusCode::kInvalidArgument, HasSubstr("geo_steps")));
}

// y = x . w + 0.5 + N(0, 0.1^2) over 4 features uniform in [-1, 1]: a planted truth a linear
// model can reach up to the noise.
std::string WriteLinearData(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/colony_loop_" + name + "_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> noise(0, 0.1);
  const double w[] = {2.0, -1.0, 0.5, 0.0};
  for (const auto& [file, rows] :
       {std::pair<std::string, int>{"train.csv", 4000}, {"test.csv", 1000}}) {
    std::ofstream out(dir + "/" + file);
    for (int i = 0; i < rows; ++i) {
      double x[4], y = 0.5 + noise(rng);
      for (int j = 0; j < 4; ++j) y += w[j] * (x[j] = u(rng));
      out << y << "," << x[0] << "," << x[1] << "," << x[2] << "," << x[3] << "\n";
    }
    if (file == "train.csv") out << "1,2,three,4,5\n";  // Counted and skipped.
  }
  return dir;
}

TEST(LoopTest, TheExampleModelReachesTheNoiseFloor) {
  const std::string dir = WriteLinearData("linear");
  COLONY_ASSERT_OK_AND_ASSIGN(
      Config config, Config::Parse("model: {name: linear_regression}\ndata: {dir: " + dir +
                                       "}\noptimizer: {learning_rate: 0.05}\ntrain: {epochs: 8}\n",
                                   "linear.yaml"));
  COLONY_ASSERT_OK_AND_ASSIGN(Job job, ParseJob(config));
  COLONY_ASSERT_OK_AND_ASSIGN(RunSummary s, RunLoop(job.options, *job.task));
  EXPECT_EQ(s.samples, 8 * 4000);
  EXPECT_EQ(s.test_samples, 1000);
  EXPECT_EQ(s.bad_lines, 1);
  const nlohmann::json json = nlohmann::json::parse(SummaryJson(s, *job.task));
  // The noise variance is 0.01: the least-squares fit's test MSE is 0.01 (1 + 5/4000) in
  // expectation; Adam's last steps leave a little more, measured 0.0102.
  const double mse = json["test_mse"];
  EXPECT_GT(mse, 0.008);
  EXPECT_LT(mse, 0.012);
  EXPECT_THAT(SummaryLine(s, *job.task), HasSubstr("| test mse 0.0"));
}

TEST(LoopTest, NonFiniteMetricsAreWrittenAsNull) {
  TrainSummary s;
  s.train_loss = std::numeric_limits<double>::quiet_NaN();
  s.test_auc = std::numeric_limits<double>::infinity();
  const nlohmann::json json = nlohmann::json::parse(SummaryJson(s));
  EXPECT_TRUE(json["train_loss"].is_null());
  EXPECT_TRUE(json["test_auc"].is_null());
  EXPECT_EQ(json["test_logloss"], 0.0);
  EXPECT_EQ(json["non_finite"], nlohmann::json({"train_loss", "test_auc"}));
}

TEST(LoopTest, ADivergingLossStopsTheRunWithTheStep) {
  const std::string dir = WriteLinearData("diverge");
  COLONY_ASSERT_OK_AND_ASSIGN(Config config,
                              Config::Parse("model: {name: linear_regression}\ndata: {dir: " + dir +
                                                "}\noptimizer: {name: sgd, learning_rate: 100}\n",
                                            "linear.yaml"));
  COLONY_ASSERT_OK_AND_ASSIGN(Job job, ParseJob(config));
  EXPECT_THAT(RunLoop(job.options, *job.task),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("lower the optimizer")));
}

}  // namespace
}  // namespace colony::train
