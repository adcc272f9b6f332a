// `colony pipeline` through the real binary: the example config (small) trains equal to the
// unpipelined run and writes its summary; bad config keys and cut vars exit 2 naming them.
#include <unistd.h>

#include <filesystem>

#include "colony/base/file_util.h"
#include "run_colony.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::colony::testing::ParseJsonOrFail;
using ::testing::HasSubstr;

const char kSmall[] =
    "examples/pipeline/mlp.yaml --set model.width=16 --set model.input_dim=8 --set "
    "train.batch_size=32 --set train.steps=4";

TEST(PipelineCliTest, TrainsTheExampleAndWritesTheSummary) {
  const std::string json =
      ::testing::TempDir() + "/colony_pipeline_" + std::to_string(getpid()) + ".json";
  const Result r = RunColony(std::string("pipeline ") + kSmall + " --summary-json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("stages 4, micro-batches 8, 1f1b"));
  EXPECT_THAT(r.output, HasSubstr("stage 3: busy"));
  EXPECT_THAT(r.output, HasSubstr("unpipelined:"));
  const nlohmann::json summary = ParseJsonOrFail(ReadFile(json).value_or(""));
  EXPECT_EQ(summary.value("cut_vars", nlohmann::json()),
            nlohmann::json({"fc_1.Out", "fc_3.Out", "fc_5.Out"}));
  EXPECT_DOUBLE_EQ(JsonNumber(summary, "bubble_theory"), 3.0 / 11.0);  // (p - 1) / (m + p - 1)
  EXPECT_EQ(JsonNumber(summary, "steps"), 4);
  EXPECT_EQ(JsonNumber(summary, "samples"), 4 * 32);
  EXPECT_GT(JsonNumber(summary, "samples_per_sec"), 0);
  EXPECT_GT(JsonNumber(summary, "baseline_samples_per_sec"), 0);
  fs::remove(json);
}

TEST(PipelineCliTest, BadConfigsExitTwoNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--set pipeline.stages=0 --set pipeline.cut_vars=[nope]",
       "pipeline cut var 'nope' is not a variable"},
      {"--set pipeline.stages=0 --set pipeline.cut_vars=[fc_3.Out,fc_1.Out]",
       "list cuts in op order"},
      {"--set pipeline.micro_batches=0", "pipeline.micro_batches must be >= 1"},
      {"--set pipeline.shedule=gpipe", "pipeline.shedule"},
  };
  for (const auto& [flags, message] : cases) {
    const Result r = RunColony(std::string("pipeline ") + kSmall + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(message)) << flags;
  }
  const Result missing = RunColony("pipeline no/such.yaml");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

}  // namespace
}  // namespace colony
