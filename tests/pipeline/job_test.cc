#include "colony/pipeline/job.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "colony/base/json_util.h"
#include "testing/status_matchers.h"

namespace colony::pipeline {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kConfig[] = R"(model:
  input_dim: 8
  width: 8
  layers: 4
pipeline:
  stages: 2
  micro_batches: 4
  schedule: 1f1b
train:
  batch_size: 16
  steps: 4
  learning_rate: 0.05
  compare: true
)";

TEST(PipelineJobTest, ParsesTheConfig) {
  COLONY_ASSERT_OK_AND_ASSIGN(Config c, Config::Parse(kConfig, "job.yaml"));
  COLONY_ASSERT_OK_AND_ASSIGN(PipelineJobOptions o, ParsePipelineJob(c));
  EXPECT_EQ(o.model.layers, 4);
  EXPECT_EQ(o.stages, 2);
  EXPECT_EQ(o.pipeline.micro_batches, 4);
  EXPECT_EQ(o.pipeline.schedule, "1f1b");
  EXPECT_EQ(o.batch_size, 16);
  EXPECT_FLOAT_EQ(o.pipeline.learning_rate, 0.05f);
  EXPECT_TRUE(o.compare);
}

TEST(PipelineJobTest, BadConfigsNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"pipeline.micro_batches=0", "pipeline.micro_batches must be >= 1"},
      {"pipeline.schedule=zigzag", "pipeline.schedule"},
      {"pipeline.stages=5", "pipeline.stages must be in [0, model.layers = 4]"},
      {"pipeline.cut_vars=[a]", "not both"},
      {"train.batch_size=2", "train.batch_size must be >= pipeline.micro_batches"},
      {"train.steps=1", "train.steps must be >= 2"},
      {"model.width=0", "model.width must be >= 1"},
      {"pipeline.stagez=2", "pipeline.stagez"},
      {"train.optimizer=lbfgs", "pipeline.optimizer"},
  };
  for (const auto& [override, message] : cases) {
    SCOPED_TRACE(override);
    COLONY_ASSERT_OK_AND_ASSIGN(Config c, Config::Parse(kConfig, "job.yaml", {override}));
    EXPECT_THAT(ParsePipelineJob(c).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)));
  }
}

TEST(PipelineJobTest, TrainsEqualToTheUnpipelinedRun) {
  COLONY_ASSERT_OK_AND_ASSIGN(Config c, Config::Parse(kConfig, "job.yaml"));
  COLONY_ASSERT_OK_AND_ASSIGN(PipelineJobOptions o, ParsePipelineJob(c));
  COLONY_ASSERT_OK_AND_ASSIGN(PipelineJobSummary s, RunPipelineJob(o));
  EXPECT_EQ(s.stages, 2);
  ASSERT_EQ(s.cut_vars.size(), 1u);
  EXPECT_DOUBLE_EQ(s.bubble_theory, 1.0 / 5.0);
  // The schedule's idle slots are the theory's exactly; the measured (wall-time) fraction
  // depends on the host's load, and tests do not assert on wall time.
  EXPECT_DOUBLE_EQ(s.schedule_bubble_fraction, s.bubble_theory);
  EXPECT_GE(s.bubble_fraction, 0);
  EXPECT_LT(s.bubble_fraction, 1);
  EXPECT_GT(s.samples_per_sec, 0);
  EXPECT_GT(s.baseline_samples_per_sec, 0);
  EXPECT_NEAR(s.final_loss, s.baseline_final_loss, 1e-5);
  EXPECT_LT(s.max_param_diff, 1e-5);
  ASSERT_EQ(s.stage_busy_seconds.size(), 2u);
  EXPECT_GT(s.stage_busy_seconds[1], 0);
  const nlohmann::json json = s.ToJson();
  EXPECT_EQ(json.at("bubble_fraction"), s.bubble_fraction);
  EXPECT_EQ(json.at("samples"), s.steps * 16);  // train.batch_size rows a step.
  EXPECT_EQ(json.at("max_param_diff"), s.max_param_diff);
  EXPECT_FALSE(json.contains(kNonFiniteKey));
}

}  // namespace
}  // namespace colony::pipeline
