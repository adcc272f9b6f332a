#include "colony/base/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "colony/base/logging.h"

namespace colony {

double Auc(std::span<const float> scores, std::span<const float> labels) {
  COLONY_CHECK(scores.size() == labels.size());
  const size_t n = scores.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U: the sum of the positives' ranks, ties sharing their average rank.
  double positive_rank_sum = 0;
  int64_t positives = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    int64_t group_positives = 0;
    while (j < n && scores[order[j]] == scores[order[i]]) {
      if (labels[order[j]] > 0.5f) ++group_positives;
      ++j;
    }
    const double average_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1 .. j
    positive_rank_sum += average_rank * static_cast<double>(group_positives);
    positives += group_positives;
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(n) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  const double p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

double LogLoss(std::span<const float> probs, std::span<const float> labels) {
  COLONY_CHECK(probs.size() == labels.size());
  if (probs.empty()) return 0;
  constexpr double kEps = 1e-7;
  double sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double p = std::clamp(static_cast<double>(probs[i]), kEps, 1 - kEps);
    const double y = labels[i];
    sum -= y * std::log(p) + (1 - y) * std::log(1 - p);
  }
  return sum / static_cast<double>(probs.size());
}

AucAccumulator::AucAccumulator(int num_buckets)
    : pos_(std::max(num_buckets, 1), 0), neg_(std::max(num_buckets, 1), 0) {}

void AucAccumulator::Add(std::span<const float> probs, std::span<const float> labels) {
  COLONY_CHECK(probs.size() == labels.size());
  const int buckets = static_cast<int>(pos_.size());
  for (size_t i = 0; i < probs.size(); ++i) {
    float p = probs[i];
    if (!(p >= 0.0f)) p = 0.0f;  // Also maps NaN to bucket 0.
    const int b = std::min(buckets - 1, static_cast<int>(p * static_cast<float>(buckets)));
    if (labels[i] > 0.5f) {
      ++pos_[b];
      ++positives_;
    } else {
      ++neg_[b];
      ++negatives_;
    }
  }
}

double AucAccumulator::Auc() const {
  if (positives_ == 0 || negatives_ == 0) return 0.5;
  // For each bucket: pairs with the negative in a lower bucket win, pairs in the same bucket tie.
  double wins = 0;
  double negatives_below = 0;
  for (size_t b = 0; b < pos_.size(); ++b) {
    wins += static_cast<double>(pos_[b]) * (negatives_below + 0.5 * static_cast<double>(neg_[b]));
    negatives_below += static_cast<double>(neg_[b]);
  }
  return wins / (static_cast<double>(positives_) * static_cast<double>(negatives_));
}

void AucAccumulator::Reset() {
  std::fill(pos_.begin(), pos_.end(), 0);
  std::fill(neg_.begin(), neg_.end(), 0);
  positives_ = negatives_ = 0;
}

double RecallAtK(std::span<const uint64_t> ranked, std::span<const uint64_t> relevant, int k) {
  if (relevant.empty()) return 0;
  const std::unordered_set<uint64_t> wanted(relevant.begin(), relevant.end());
  const size_t top = std::min(ranked.size(), static_cast<size_t>(std::max(k, 0)));
  std::unordered_set<uint64_t> found;
  for (size_t i = 0; i < top; ++i) {
    if (wanted.count(ranked[i])) found.insert(ranked[i]);
  }
  return static_cast<double>(found.size()) / static_cast<double>(wanted.size());
}

double NdcgAtK(std::span<const uint64_t> ranked, std::span<const uint64_t> relevant, int k) {
  if (relevant.empty() || k <= 0) return 0;
  const std::unordered_set<uint64_t> wanted(relevant.begin(), relevant.end());
  const size_t top = std::min(ranked.size(), static_cast<size_t>(k));
  std::unordered_set<uint64_t> seen;
  double dcg = 0;
  for (size_t i = 0; i < top; ++i) {
    // A repeated item earns nothing the second time.
    if (wanted.count(ranked[i]) && seen.insert(ranked[i]).second) {
      dcg += 1.0 / std::log2(static_cast<double>(i) + 2);
    }
  }
  double ideal = 0;
  const size_t hits = std::min(wanted.size(), static_cast<size_t>(k));
  for (size_t i = 0; i < hits; ++i) ideal += 1.0 / std::log2(static_cast<double>(i) + 2);
  return dcg / ideal;
}

}  // namespace colony
