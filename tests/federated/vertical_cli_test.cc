// The real `colony fl vertical` binary: simulate starts both parties as child processes.
#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "colony/base/file_util.h"
#include "federated/test_util.h"
#include "testing/run_command.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::testing::HasSubstr;

using Result = ::colony::testing::CommandResult;

Result RunColony(const std::string& args) {
  return ::colony::testing::RunCommand(std::string(COLONY_BINARY) + " " + args);
}

TEST(VerticalCliTest, SimulateLinearMatchesLeastSquares) {
  const std::string summary = WriteTemp("linear_summary.json", "");
  const Result r = RunColony(
      "fl vertical simulate examples/federated/vertical_diabetes.yaml "
      "--summary-json " +
      summary + " --out-dir " + WriteTemp("linear_out", "") + "_dir");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[b] party b listening on 127.0.0.1:"));
  EXPECT_THAT(r.output, HasSubstr("[a] party a: done after"));
  const YAML::Node json = YAML::LoadFile(summary);
  EXPECT_LT(json["max_abs_coef_diff_vs_ols"].as<double>(), 1e-3);
  EXPECT_EQ(json["train_samples"].as<int>(), 442);
  EXPECT_FALSE(json["paillier"].as<bool>());
}

TEST(VerticalCliTest, SimulateLogisticAucMatchesCentral) {
  const std::string summary = WriteTemp("logistic_summary.json", "");
  const Result r = RunColony(
      "fl vertical simulate examples/federated/vertical_breast_cancer.yaml "
      "--set vertical.train.iterations=300 --summary-json " +
      summary);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const YAML::Node json = YAML::LoadFile(summary);
  EXPECT_NEAR(json["auc"].as<double>(), json["central_auc"].as<double>(), 0.01);
  EXPECT_GT(json["central_auc"].as<double>(), 0.95);
}

TEST(VerticalCliTest, BadFlagsAndConfigsExitWithUsageErrors) {
  const std::string config = "examples/federated/vertical_diabetes.yaml";
  Result r = RunColony("fl vertical --role c " + config);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("--role must be 'a'"));
  r = RunColony("fl vertical --role a");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("CONFIG"));
  r = RunColony("fl vertical --role a " + config + " --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("--listen is for --role b"));
  r = RunColony("fl vertical --role b no_such.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("no_such.yaml"));
  r = RunColony("fl vertical simulate " + config + " --set vertical.train.model=tree");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("train.model 'tree' is unknown"));
  r = RunColony("fl vertical simulate " + config + " --set vertical.party_b.columns=[3]");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("column 3 is also in party_a.columns"));
  // Party A alone, with nobody serving as B: a clear error, not a hang.
  r = RunColony("fl vertical --role a " + config +
                " --peer 127.0.0.1:1 --set vertical.train.rpc_timeout_s=2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("start it first with colony fl vertical --role b"));
}

}  // namespace
}  // namespace colony::fl
