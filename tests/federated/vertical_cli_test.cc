// The real `colony fl vertical` binary: simulate starts both parties as child processes.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
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
  COLONY_ASSERT_OK_AND_ASSIGN(const nlohmann::json json, ReadJsonFile(summary));
  EXPECT_LT(json.at("max_abs_coef_diff_vs_ols").get<double>(), 1e-3);
  EXPECT_EQ(json.at("train_samples"), 442);
  EXPECT_EQ(json.at("paillier"), false);
}

TEST(VerticalCliTest, SimulateLogisticAucMatchesCentral) {
  const std::string summary = WriteTemp("logistic_summary.json", "");
  const Result r = RunColony(
      "fl vertical simulate examples/federated/vertical_breast_cancer.yaml "
      "--set vertical.train.iterations=300 --summary-json " +
      summary);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  COLONY_ASSERT_OK_AND_ASSIGN(const nlohmann::json json, ReadJsonFile(summary));
  EXPECT_NEAR(json.at("auc").get<double>(), json.at("central_auc").get<double>(), 0.01);
  EXPECT_GT(json.at("central_auc").get<double>(), 0.95);
}

TEST(VerticalCliTest, BadFlagsAndConfigsExitWithUsageErrors) {
  const std::string config = "examples/federated/vertical_diabetes.yaml";
  struct Case {
    std::string args;
    int exit_code;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"--role c " + config, 2, "--role must be 'a'"},
      {"--role a", 2, "CONFIG"},
      {"--role a " + config + " --listen 127.0.0.1:0", 2, "--listen is for --role b"},
      {"--role b no_such.yaml", 2, "no_such.yaml"},
      {"simulate " + config + " --set vertical.train.model=tree", 2,
       "train.model 'tree' is unknown"},
      {"simulate " + config + " --set vertical.party_b.columns=[3]", 2,
       "column 3 is also in party_a.columns"},
      // Party A alone, with nobody serving as B: a clear error, not a hang.
      {"--role a " + config + " --peer 127.0.0.1:1 --set vertical.train.rpc_timeout_s=2", 1,
       "start it first with colony fl vertical --role b"},
  };
  for (const Case& c : cases) {
    const Result r = RunColony("fl vertical " + c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.fragment)) << c.args;
  }
}

}  // namespace
}  // namespace colony::fl
