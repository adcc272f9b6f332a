#include "colony/data/session_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>

#include "colony/base/file_util.h"
#include "colony/data/session_data.h"
#include "test_files.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony::data {
namespace {

using ::colony::data::testing::TestDir;
using ::colony::testing::JsonNumber;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

SessionGeneratorOptions Small(const std::string& dir) {
  SessionGeneratorOptions o;
  o.out_dir = dir;
  o.sessions = 3000;
  o.items = 60;
  o.seed = 3;
  return o;
}

TEST(SessionGeneratorTest, WritesSessionFilesAndOracleTruth) {
  const std::string base = TestDir();
  const std::string dir = base + "/out";
  COLONY_ASSERT_OK(GenerateSessions(Small(dir)));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionFile train, ReadSessionFile(dir + "/train.txt"));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionFile test, ReadSessionFile(dir + "/test.txt"));
  EXPECT_EQ(train.sessions.size(), 2700u);
  EXPECT_EQ(test.sessions.size(), 300u);
  EXPECT_EQ(train.bad_lines + train.short_lines, 0);
  EXPECT_LE(train.max_item, 60);
  for (const Session& s : train.sessions) EXPECT_LE(s.size(), 20u);
  COLONY_ASSERT_OK_AND_ASSIGN(std::string json, ReadFile(dir + "/truth.json"));
  EXPECT_EQ(JsonNumber(json, "test_samples"),
            static_cast<double>(PrefixSamples(test.sessions).size()));
  const double p20 = JsonNumber(json, "oracle_p20");
  const double mrr = JsonNumber(json, "oracle_mrr20");
  // 80 % of clicks follow the chain (12 candidates in the top 20) plus some popular ones.
  EXPECT_GT(p20, 0.8);
  EXPECT_LT(p20, 1.0);
  EXPECT_GT(mrr, 0.2);
  EXPECT_LT(mrr, p20);
  // Ignoring positions costs the oracle.
  EXPECT_LT(JsonNumber(json, "oracle_mrr20_no_position"), mrr);
  // Same options, same files.
  const std::string again = base + "/again";
  SessionGeneratorOptions o = Small(again);
  COLONY_ASSERT_OK(GenerateSessions(o));
  EXPECT_EQ(*ReadFile(again + "/train.txt"), *ReadFile(dir + "/train.txt"));
}

// The empirical next-item frequencies of generated sessions match the planted distribution.
TEST(SessionGeneratorTest, TransitionsFollowThePlantedDistribution) {
  const std::string dir = TestDir();
  SessionGeneratorOptions o = Small(dir);
  o.sessions = 20000;
  o.items = 20;
  COLONY_ASSERT_OK(GenerateSessions(o));
  COLONY_ASSERT_OK_AND_ASSIGN(SessionFile train, ReadSessionFile(dir + "/train.txt"));
  COLONY_ASSERT_OK_AND_ASSIGN(auto truth, SessionTruth::Create(o));
  // From item 1 at position 1 (the most common state).
  std::map<int64_t, double> counts;
  double n = 0;
  for (const Session& s : train.sessions) {
    if (s[0] != 1) continue;
    counts[s[1]] += 1;
    n += 1;
  }
  ASSERT_GT(n, 3000);
  const std::vector<double> p = truth->NextDistribution(1, 1);
  EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9);
  EXPECT_EQ(p[0], 0.0);
  for (int64_t i = 1; i <= 20; ++i) {
    const double sd = std::sqrt(p[i] * (1 - p[i]) / n);
    EXPECT_NEAR(counts[i] / n, p[i], 5 * sd + 1e-3) << "item " << i;
  }
  // Position buckets differ: the distribution at position 3 is another one.
  const std::vector<double> p3 = truth->NextDistribution(1, 3);
  double diff = 0;
  for (size_t i = 0; i < p.size(); ++i) diff += std::abs(p[i] - p3[i]);
  EXPECT_GT(diff, 0.3);
}

TEST(SessionGeneratorTest, BadOptions) {
  const std::string dir = TestDir();
  const std::vector<std::pair<std::function<void(SessionGeneratorOptions&)>, std::string>> cases = {
      {[](SessionGeneratorOptions& o) { o.sessions = 1; }, "sessions must be >= 2"},
      {[](SessionGeneratorOptions& o) { o.test_fraction = 1; }, "test_fraction"},
      {[](SessionGeneratorOptions& o) { o.items = 5; }, "items must be >= successors + 2"},
      {[](SessionGeneratorOptions& o) { o.buckets = 0; }, "buckets"},
      {[](SessionGeneratorOptions& o) { o.position_dependence = 1.5; }, "position_dependence"},
      {[](SessionGeneratorOptions& o) { o.noise = 1; }, "noise"},
      {[](SessionGeneratorOptions& o) { o.continue_prob = -0.1; }, "continue_prob"},
      {[](SessionGeneratorOptions& o) { o.max_length = 1; }, "max_length"},
      {[](SessionGeneratorOptions& o) { o.out_dir = ""; }, "output folder"},
  };
  for (const auto& [mutate, message] : cases) {
    SessionGeneratorOptions o = Small(dir);
    mutate(o);
    EXPECT_THAT(GenerateSessions(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)))
        << message;
  }
}

}  // namespace
}  // namespace colony::data
