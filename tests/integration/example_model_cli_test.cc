// The example model of docs/training.md, added as one task file, trained from the command line
// like every model: `colony train` with a summary, stop and resume.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "colony/base/file_util.h"
#include "integration/run_colony.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(ExampleModelCliTest, LinearRegressionTrainsResumesAndReachesTheNoiseFloor) {
  const std::string root =
      ::testing::TempDir() + "/colony_example_model_cli_" + std::to_string(getpid());
  fs::remove_all(root);
  fs::create_directories(root + "/data");
  // y = 1.5 x1 - 2 x2 + 0.25 + N(0, 0.2^2), x uniform in [-1, 1]: noise variance 0.04.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> noise(0, 0.2);
  for (const auto& [file, rows] :
       {std::pair<std::string, int>{"train.csv", 3000}, {"test.csv", 1000}}) {
    std::ofstream out(root + "/data/" + file);
    for (int i = 0; i < rows; ++i) {
      const double x1 = u(rng), x2 = u(rng);
      out << 1.5 * x1 - 2 * x2 + 0.25 + noise(rng) << "," << x1 << "," << x2 << "\n";
    }
  }
  const std::string job = "train examples/linear/config.yaml --set data.dir=" + root + "/data";
  const Result run = RunColony(job + " --summary-json " + root + "/s.json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("| test mse "));
  const nlohmann::json s = nlohmann::json::parse(ReadFile(root + "/s.json").value_or("{}"));
  EXPECT_EQ(s["samples"], 8 * 3000);
  EXPECT_EQ(s["test_samples"], 1000);
  // The least-squares fit's expected test MSE is 0.04 (1 + 3/3000); measured 0.0405.
  EXPECT_GT(s["test_mse"].get<double>(), 0.035);
  EXPECT_LT(s["test_mse"].get<double>(), 0.045);

  // Stopped at step 100 and resumed: the same model as the uninterrupted run.
  const std::string ckpt = " --set checkpoint.dir=" + root + "/ckpt";
  ASSERT_EQ(RunColony(job + ckpt + " --set train.max_steps=100").exit_code, 0);
  const Result rest =
      RunColony(job + ckpt + " --resume " + root + "/ckpt --summary-json " + root + "/r.json");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_THAT(rest.output, HasSubstr("resumed from"));
  const nlohmann::json r = nlohmann::json::parse(ReadFile(root + "/r.json").value_or("{}"));
  EXPECT_EQ(r["global_step"], s["global_step"]);
  EXPECT_EQ(r["test_mse"], s["test_mse"]);

  const Result unknown = RunColony(job + " --set model.name=linear");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("known: attention_graph, deepfm, dnn, linear_regression"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace colony
