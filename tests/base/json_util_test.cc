#include "colony/base/json_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "colony/base/file_util.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(JsonUtilTest, FiniteMetricIsANumberAndNotListed) {
  nlohmann::json s;
  SetMetric(s, "test_auc", 0.875);
  EXPECT_EQ(s.dump(), R"({"test_auc":0.875})");
}

TEST(JsonUtilTest, NonFiniteMetricsAreNullAndListedOnce) {
  nlohmann::json s;
  SetMetric(s, "test_auc", kNaN);
  SetMetric(s, "test_logloss", kInf);
  SetMetric(s, "test_auc", -kInf);  // Set again: still listed once.
  SetMetric(s, "steps", 3);
  EXPECT_EQ(s.dump(), R"({"non_finite":["test_auc","test_logloss"],"steps":3.0,"test_auc":null,)"
                      R"("test_logloss":null})");
}

TEST(JsonUtilTest, ListOfMetricsHasNullForEachNonFiniteEntry) {
  nlohmann::json s;
  const std::vector<double> finite = {0.5, 0.25};
  const std::vector<double> mixed = {1.0, kNaN, 2.0};
  SetMetrics(s, "stage_busy_seconds", finite);
  SetMetrics(s, "round_train_loss", mixed);
  EXPECT_EQ(s["stage_busy_seconds"], nlohmann::json({0.5, 0.25}));
  EXPECT_EQ(s["round_train_loss"].dump(), "[1.0,null,2.0]");
  EXPECT_EQ(s[kNonFiniteKey], nlohmann::json({"round_train_loss"}));
}

TEST(JsonUtilTest, MetricValueReadsNullAsNaN) {
  EXPECT_EQ(MetricValue(nlohmann::json(0.5)), 0.5);
  EXPECT_EQ(MetricValue(nlohmann::json(3)), 3.0);
  EXPECT_TRUE(std::isnan(MetricValue(nlohmann::json(nullptr))));
  EXPECT_THROW(MetricValue(nlohmann::json("0.5")), nlohmann::json::type_error);
}

TEST(JsonUtilTest, WrittenFileReadsBackEqual) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "json_util_test.json").string();
  nlohmann::json s = {{"samples", 3600}, {"name", "tab\there \"quoted\""}, {"tasks", {1, 2}}};
  SetMetric(s, "test_mse", kNaN);
  COLONY_ASSERT_OK(WriteJsonFile(path, s));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string text, ReadFile(path));
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(text, HasSubstr("\n  \"samples\": 3600"));  // Two-space indent.
  COLONY_ASSERT_OK_AND_ASSIGN(nlohmann::json back, ReadJsonFile(path));
  EXPECT_EQ(back, s);
  EXPECT_TRUE(back["test_mse"].is_null());
}

TEST(JsonUtilTest, InvalidUtf8IsReplacedNotAnError) {
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "json_util_utf8.json").string();
  COLONY_ASSERT_OK(WriteJsonFile(path, {{"bad_line", std::string("a\xff"
                                                                 "b")}}));
  COLONY_ASSERT_OK_AND_ASSIGN(nlohmann::json back, ReadJsonFile(path));
  EXPECT_EQ(back["bad_line"],
            "a\xEF\xBF\xBD"
            "b");
}

TEST(JsonUtilTest, ParseErrorsNameTheSourceAndThePosition) {
  struct Case {
    std::string text, fragment;
  };
  const std::vector<Case> cases = {
      {R"({"a": 1,})", "at line 1, column 9"},
      {R"({"a": nan})", "at line 1, column 8: syntax error"},  // A hand-written emitter's NaN.
      {"", "unexpected end of input"},
      {R"({"a": 1} x)", "at line 1, column 10"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseJson(c.text, "worker-0.json").status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("worker-0.json: not valid JSON")))
        << c.text;
    EXPECT_THAT(std::string(ParseJson(c.text, "worker-0.json").status().message()),
                HasSubstr(c.fragment))
        << c.text;
  }
}

TEST(JsonUtilTest, ReadingAMissingFileIsNotFound) {
  EXPECT_THAT(ReadJsonFile("/nonexistent/colony/summary.json").status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("summary.json")));
}

}  // namespace
}  // namespace colony
