#include "colony/cluster/job_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "colony/base/json_util.h"
#include "testing/status_matchers.h"

namespace colony::cluster {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

LaunchOptions Options() {
  LaunchOptions o;
  o.servers = 2;
  o.workers = 2;
  o.run_dir = "runs/job";
  return o;
}

TEST(JobSummaryTest, AddsCountersAveragesLossAndKeepsWorkerZerosResults) {
  LaunchResult r;
  r.seconds = 4.5;
  r.worker_summaries = {
      R"({"samples": 1800, "samples_per_sec": 400.5, "train_loss": 0.5, "steps": 7,
          "test_auc": 0.75, "test_logloss": 0.48, "heter": {"passes": 2}})",
      R"({"samples": 1792, "samples_per_sec": 399.5, "train_loss": 0.3, "steps": 7,
          "test_samples": 0})"};
  COLONY_ASSERT_OK_AND_ASSIGN(JobSummary job, MergeWorkerSummaries(Options(), r));
  EXPECT_EQ(job.samples, 3592);
  EXPECT_DOUBLE_EQ(job.samples_per_sec, 800);
  EXPECT_DOUBLE_EQ(job.train_loss, 0.4);
  // Worker 0's results, none of its per-worker counters.
  EXPECT_EQ(job.results, nlohmann::json({{"test_auc", 0.75}, {"test_logloss", 0.48}}));

  const nlohmann::json json = job.ToJson();
  EXPECT_EQ(json["servers"], 2);
  EXPECT_EQ(json["workers"], 2);
  EXPECT_EQ(json["seconds"], 4.5);
  EXPECT_EQ(json["samples"], 3592);
  EXPECT_TRUE(json["samples"].is_number_integer());
  EXPECT_EQ(json["test_auc"], 0.75);
  EXPECT_FALSE(json.contains("steps"));
  EXPECT_FALSE(json.contains("heter"));
  ASSERT_EQ(json["worker_summaries"].size(), 2u);
  EXPECT_EQ(json["worker_summaries"][0]["heter"]["passes"], 2);
  EXPECT_EQ(json["worker_summaries"][1]["samples"], 1792);
  EXPECT_FALSE(json.contains(kNonFiniteKey));
}

TEST(JobSummaryTest, NonFiniteMetricsStayNullAndListed) {
  LaunchResult r;
  r.worker_summaries = {
      R"({"samples": 10, "train_loss": null, "test_auc": null,
          "non_finite": ["train_loss", "test_auc"]})",
      R"({"samples": 10, "train_loss": 0.2})"};
  COLONY_ASSERT_OK_AND_ASSIGN(JobSummary job, MergeWorkerSummaries(Options(), r));
  EXPECT_TRUE(std::isnan(job.train_loss));
  const nlohmann::json json = job.ToJson();
  EXPECT_TRUE(json["train_loss"].is_null());
  EXPECT_TRUE(json["test_auc"].is_null());
  EXPECT_EQ(json[kNonFiniteKey], nlohmann::json({"test_auc", "train_loss"}));
}

TEST(JobSummaryTest, BadWorkerSummaryIsDataLossNamingTheFile) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"samples": nan})", "runs/job/worker-1.json: not valid JSON"},
      {R"([1, 2])", "runs/job/worker-1.json: a worker summary must be a JSON object"},
  };
  for (const auto& [text, message] : cases) {
    LaunchResult r;
    r.worker_summaries = {R"({"samples": 1})", text};
    EXPECT_THAT(MergeWorkerSummaries(Options(), r).status(),
                StatusIs(StatusCode::kDataLoss, HasSubstr(message)))
        << text;
  }
}

}  // namespace
}  // namespace colony::cluster
