// Evaluation metrics for click models and recommenders: exact AUC, log loss, a streaming AUC
// for progress lines, and top-k ranking metrics.
//   double auc = colony::Auc(probs, labels);
//   colony::AucAccumulator acc;  acc.Add(batch_probs, batch_labels);  acc.Auc();
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace colony {

// Exact area under the ROC curve: the probability that a random positive scores above a random
// negative, ties counting one half (rank statistic with averaged ranks; O(n log n)).
// A label > 0.5 counts as positive. Returns 0.5 when either class is absent (the AUC is then
// undefined; 0.5 keeps callers NaN-free). REQUIRES: scores.size() == labels.size().
double Auc(std::span<const float> scores, std::span<const float> labels);

// Mean binary cross-entropy of probabilities `probs` against labels in [0, 1], with each
// probability clipped to [1e-7, 1 - 1e-7]. Returns 0 for empty input.
// REQUIRES: probs.size() == labels.size().
double LogLoss(std::span<const float> probs, std::span<const float> labels);

// Streaming AUC over probabilities in [0, 1] (values outside are clamped): a fixed histogram
// of `num_buckets` equal-width buckets per class, so memory is constant and the result is exact
// up to ties within one bucket. Meant for progress lines; use Auc() for reported figures.
// Not thread-safe.
class AucAccumulator {
 public:
  explicit AucAccumulator(int num_buckets = 1 << 16);
  // REQUIRES: probs.size() == labels.size().
  void Add(std::span<const float> probs, std::span<const float> labels);
  // 0.5 when either class has not been seen.
  double Auc() const;
  void Reset();
  int64_t positives() const { return positives_; }
  int64_t negatives() const { return negatives_; }

 private:
  std::vector<int64_t> pos_, neg_;
  int64_t positives_ = 0, negatives_ = 0;
};

// Share of the relevant items found in the first k of `ranked` (k is clipped to its size):
// |top_k(ranked) ∩ relevant| / |relevant|. Returns 0 when `relevant` is empty.
double RecallAtK(std::span<const uint64_t> ranked, std::span<const uint64_t> relevant, int k);

// NDCG@k with binary relevance: DCG = sum over the first k ranked items that are relevant of
// 1 / log2(position + 2), divided by the DCG of an ideal ranking (min(k, |relevant|) hits at
// the top). Returns 0 when `relevant` is empty.
double NdcgAtK(std::span<const uint64_t> ranked, std::span<const uint64_t> relevant, int k);

}  // namespace colony
