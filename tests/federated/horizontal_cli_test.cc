// The real `colony fl simulate|master|child` binary: simulate starts the children and the
// master as child processes on 127.0.0.1.
#include <nlohmann/json.hpp>

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

const char kSmall[] =
    " --set horizontal.data.train_samples=600 --set horizontal.data.test_samples=300"
    " --set horizontal.encoder.hidden=[32] --set horizontal.train.rounds=2"
    " --set horizontal.train.local_epochs=3 --set horizontal.train.learning_rate=0.05";

TEST(HorizontalCliTest, SimulateWritesTheSummary) {
  const std::string summary = WriteTemp("h_summary.json", "");
  const Result r = RunColony(
      "fl simulate --children 2 examples/federated/horizontal_fmnist.yaml"
      " --summary-json " +
      summary + kSmall + " --set horizontal.data.split=dirichlet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("[child 1] child 1 listening on 127.0.0.1:"));
  EXPECT_THAT(r.output, HasSubstr("[master] master: round 2/2: aggregated 2 updates"));
  COLONY_ASSERT_OK_AND_ASSIGN(const nlohmann::json json, ReadJsonFile(summary));
  EXPECT_EQ(json.at("rounds"), 2);
  EXPECT_EQ(json.at("children"), 2);
  EXPECT_EQ(json.at("split"), "dirichlet");
  EXPECT_EQ(json.at("round_accuracy").size(), 2u);
  EXPECT_GT(json.at("test_accuracy").get<double>(), 0.3);
  EXPECT_GT(json.at("central_accuracy").get<double>(), 0.5);
  EXPECT_GT(json.at("central_local_accuracy").get<double>(), 0.5);
  EXPECT_GT(json.at("local_accuracy").get<double>(), 0.3);
  EXPECT_EQ(json.at("round_local_accuracy").size(), 2u);
  EXPECT_EQ(json.at("round_participants"), nlohmann::json({2, 2}));  // Counts per round.
  EXPECT_FALSE(json.contains(kNonFiniteKey));
  const auto counts = json.at("sample_counts").get<std::vector<int>>();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0] + counts[1], 600);
}

TEST(HorizontalCliTest, NonIidExampleRunsWithLocalStepsAndTheCosineSchedule) {
  const std::string example = "examples/federated/horizontal_fmnist_noniid.yaml";
  COLONY_ASSERT_OK_AND_ASSIGN(const HorizontalConfig config, LoadHorizontalConfig(example, {}));
  EXPECT_EQ(config.train.local_steps, 10);
  EXPECT_EQ(config.train.lr_schedule, "cosine");
  EXPECT_TRUE(config.train.share_head);
  const std::string summary = WriteTemp("h_noniid.json", "");
  const Result r = RunColony("fl simulate --children 2 " + example + " --summary-json " + summary +
                             " --set horizontal.data.train_samples=600"
                             " --set horizontal.data.test_samples=300"
                             " --set horizontal.train.rounds=3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 3 rounds x 2 children x 10 steps x 32 samples = 1920 samples: 4 central epochs of 600.
  EXPECT_THAT(r.output, HasSubstr("central: epoch 4/4 on 600 samples"));
  COLONY_ASSERT_OK_AND_ASSIGN(const nlohmann::json json, ReadJsonFile(summary));
  EXPECT_EQ(json.at("round_accuracy").size(), 3u);
}

TEST(HorizontalCliTest, BadFlagsAndConfigsGiveClearErrors) {
  const std::string example = " examples/federated/horizontal_fmnist.yaml";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"fl simulate --children 0" + example, "--children"},
      {"fl simulate --children 2 no_such.yaml", "no_such.yaml"},
      {"fl simulate" + example + " --set horizontal.train.aggregation=mean",
       "'mean' is unknown; use fedavg, median or trimmed_mean"},
      {"fl child" + example, "--index is required"},
      {"fl child --index 5 --children 2" + example, "--index 5 is not in [0, 2)"},
      {"fl master" + example, "--child is required"},
  };
  for (const Case& c : cases) {
    const Result r = RunColony(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace colony::fl
