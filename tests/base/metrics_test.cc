#include "colony/base/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace colony {
namespace {

TEST(AucTest, CountsOrderedPairs) {
  // Positives {0.35, 0.8} vs negatives {0.1, 0.4}: 3 of 4 pairs ordered right.
  const std::vector<float> scores = {0.1f, 0.4f, 0.35f, 0.8f};
  const std::vector<float> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(Auc(scores, labels), 0.75);
}

TEST(AucTest, TiesCountOneHalf) {
  // Positives {0.5, 0.9} vs negatives {0.5, 0.2}: 3 wins and one tie = 3.5 / 4.
  const std::vector<float> scores = {0.5f, 0.5f, 0.2f, 0.9f};
  const std::vector<float> labels = {1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(Auc(scores, labels), 0.875);
}

TEST(AucTest, AllScoresEqualGiveOneHalf) {
  const std::vector<float> scores(6, 0.3f);
  const std::vector<float> labels = {1, 0, 1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(Auc(scores, labels), 0.5);
}

TEST(AucTest, PerfectAndReversedRankings) {
  const std::vector<float> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, labels), 1.0);
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.4f, 0.3f, 0.2f, 0.1f}, labels), 0.0);
}

TEST(AucTest, OneClassAbsentReturnsOneHalf) {
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.9f}, std::vector<float>{1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{0.1f, 0.9f}, std::vector<float>{0, 0}), 0.5);
  EXPECT_DOUBLE_EQ(Auc(std::vector<float>{}, std::vector<float>{}), 0.5);
}

TEST(LogLossTest, MatchesHandComputedValue) {
  // -(ln 0.9 + ln 0.8) / 2
  const double expected = -(std::log(0.9) + std::log(0.8)) / 2;
  EXPECT_NEAR(LogLoss(std::vector<float>{0.9f, 0.2f}, std::vector<float>{1, 0}), expected, 1e-7);
}

TEST(LogLossTest, ClipsProbabilitiesAtOneEMinusSeven) {
  const double loss = LogLoss(std::vector<float>{0.0f}, std::vector<float>{1});
  EXPECT_NEAR(loss, -std::log(1e-7), 1e-6);
  EXPECT_TRUE(std::isfinite(LogLoss(std::vector<float>{1.0f}, std::vector<float>{0})));
  EXPECT_DOUBLE_EQ(LogLoss(std::vector<float>{}, std::vector<float>{}), 0.0);
}

TEST(AucAccumulatorTest, MatchesHandComputedValueWithFourBuckets) {
  AucAccumulator acc(4);
  // Buckets: 0.1 -> 0, 0.3 -> 1, 0.35 -> 1, 0.9 -> 3.
  acc.Add(std::vector<float>{0.1f, 0.3f}, std::vector<float>{0, 1});
  acc.Add(std::vector<float>{0.35f, 0.9f}, std::vector<float>{0, 1});
  // Positive in bucket 1: beats the negative in 0, ties the one in 1 -> 1.5.
  // Positive in bucket 3: beats both -> 2. Total 3.5 of 4 pairs.
  EXPECT_DOUBLE_EQ(acc.Auc(), 0.875);
  EXPECT_EQ(acc.positives(), 2);
  EXPECT_EQ(acc.negatives(), 2);
  acc.Reset();
  EXPECT_DOUBLE_EQ(acc.Auc(), 0.5);
}

TEST(AucAccumulatorTest, AgreesWithExactAucOnRandomData) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0, 1);
  std::vector<float> probs, labels;
  for (int i = 0; i < 20000; ++i) {
    const float p = uniform(rng);
    probs.push_back(p);
    labels.push_back(uniform(rng) < p ? 1.0f : 0.0f);
  }
  AucAccumulator acc;
  acc.Add(std::span<const float>(probs).first(7000), std::span<const float>(labels).first(7000));
  acc.Add(std::span<const float>(probs).subspan(7000),
          std::span<const float>(labels).subspan(7000));
  EXPECT_NEAR(acc.Auc(), Auc(probs, labels), 1e-4);
}

TEST(AucAccumulatorTest, ClampsOutOfRangeValues) {
  AucAccumulator acc(8);
  acc.Add(std::vector<float>{-3.0f, 7.0f}, std::vector<float>{0, 1});
  EXPECT_DOUBLE_EQ(acc.Auc(), 1.0);
}

TEST(RankingMetricsTest, RecallAtK) {
  const std::vector<uint64_t> ranked = {1, 2, 3, 4, 5};
  const std::vector<uint64_t> relevant = {2, 5, 9};
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 5), 2.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 100), 2.0 / 3);
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, {}, 3), 0.0);
}

TEST(RankingMetricsTest, NdcgAtK) {
  const std::vector<uint64_t> ranked = {1, 2, 3};
  const std::vector<uint64_t> relevant = {2, 5, 9};
  // DCG = 1/log2(3); ideal = 1 + 1/log2(3) + 1/log2(4).
  const double expected = (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0) + 0.5);
  EXPECT_NEAR(NdcgAtK(ranked, relevant, 3), expected, 1e-12);
  EXPECT_DOUBLE_EQ(NdcgAtK(std::vector<uint64_t>{2, 5, 9}, relevant, 3), 1.0);
  EXPECT_DOUBLE_EQ(NdcgAtK(ranked, {}, 3), 0.0);
}

}  // namespace
}  // namespace colony
