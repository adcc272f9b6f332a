#include "colony/train/internal/batch_feeder.h"

#include <algorithm>

namespace colony::train::internal {

at::Tensor BatchFeeder::LocalRows(const std::vector<uint64_t>& ids, at::IntArrayRef shape) {
  // Unique ids through an open-addressing table (first-appearance order), then only the
  // unique ids are sorted: tables take strictly increasing ids without a duplicate check.
  const size_t count = ids.size();
  size_t capacity = 64;
  while (capacity < 2 * count) capacity *= 2;
  if (slots_.size() != capacity) slots_.assign(capacity, kEmpty);
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  first_seen_.clear();
  position_row_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t id = ids[i];
    size_t h = (id * 0x9E3779B97F4A7C15ull) >> 20 & (capacity - 1);
    while (slots_[h] != kEmpty && first_seen_[slots_[h]] != id) h = (h + 1) & (capacity - 1);
    if (slots_[h] == kEmpty) {
      slots_[h] = static_cast<uint32_t>(first_seen_.size());
      first_seen_.push_back(id);
    }
    position_row_[i] = slots_[h];
  }
  order_.resize(first_seen_.size());
  for (uint32_t k = 0; k < order_.size(); ++k) order_[k] = {first_seen_[k], k};
  std::sort(order_.begin(), order_.end());
  unique_ids_.resize(order_.size());
  rank_.resize(order_.size());
  for (uint32_t r = 0; r < order_.size(); ++r) {
    unique_ids_[r] = order_[r].first;
    rank_[order_[r].second] = r;
  }
  at::Tensor local = at::empty(shape, at::kLong);
  int64_t* out = local.data_ptr<int64_t>();
  for (size_t i = 0; i < count; ++i) out[i] = rank_[position_row_[i]];
  return local;
}

Status BatchFeeder::Feed(const data::Batch& batch, const models::CtrModelOptions& model,
                         exec::Scope& scope) {
  const int64_t n = batch.size;
  at::Tensor label = at::empty({n, 1}, at::kFloat);
  std::copy(batch.labels.begin(), batch.labels.end(), label.data_ptr<float>());
  scope.Set(models::kLabelFeed, std::move(label));

  if (model.input == "bag") {
    if (batch.feature_offsets.size() != static_cast<size_t>(n) + 1) {
      return InvalidArgumentError(
          "the model reads variable-length features (libsvm) but the batch has none");
    }
    const int64_t count = static_cast<int64_t>(batch.feature_ids.size());
    scope.Set(models::kFeatureIdsFeed, LocalRows(batch.feature_ids, {count}));
    at::Tensor offsets = at::empty({n}, at::kLong);
    std::copy(batch.feature_offsets.begin(), batch.feature_offsets.end() - 1,
              offsets.data_ptr<int64_t>());
    at::Tensor values = at::empty({count}, at::kFloat);
    std::copy(batch.feature_values.begin(), batch.feature_values.end(), values.data_ptr<float>());
    scope.Set(models::kFeatureOffsetsFeed, std::move(offsets));
    scope.Set(models::kFeatureValuesFeed, std::move(values));
    return OkStatus();
  }

  if (batch.num_dense != model.num_dense || batch.num_slots != model.num_slots) {
    return InvalidArgumentError(
        "batch has " + std::to_string(batch.num_dense) + " dense and " +
        std::to_string(batch.num_slots) + " sparse features per sample, the model expects " +
        std::to_string(model.num_dense) + " and " + std::to_string(model.num_slots));
  }
  scope.Set(models::kSparseIdsFeed, LocalRows(batch.sparse_ids, {n, model.num_slots}));
  at::Tensor dense = at::empty({n, model.num_dense}, at::kFloat);
  std::copy(batch.dense.begin(), batch.dense.end(), dense.data_ptr<float>());
  scope.Set(models::kDenseFeed, std::move(dense));
  return OkStatus();
}

}  // namespace colony::train::internal
