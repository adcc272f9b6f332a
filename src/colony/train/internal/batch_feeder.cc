#include "colony/train/internal/batch_feeder.h"

#include <algorithm>

#include "colony/models/ctr_models.h"

namespace colony::train::internal {

Status BatchFeeder::Feed(const data::Batch& batch, int num_dense, int num_slots,
                         exec::Scope& scope) {
  if (batch.num_dense != num_dense || batch.num_slots != num_slots) {
    return InvalidArgumentError("batch has " + std::to_string(batch.num_dense) + " dense and " +
                                std::to_string(batch.num_slots) +
                                " sparse features per sample, the model expects " +
                                std::to_string(num_dense) + " and " + std::to_string(num_slots));
  }
  const int64_t n = batch.size;
  // Unique ids through an open-addressing table (first-appearance order), then only the
  // unique ids are sorted: tables take strictly increasing ids without a duplicate check.
  const size_t count = batch.sparse_ids.size();
  size_t capacity = 64;
  while (capacity < 2 * count) capacity *= 2;
  if (slots_.size() != capacity) slots_.assign(capacity, kEmpty);
  std::fill(slots_.begin(), slots_.end(), kEmpty);
  first_seen_.clear();
  position_row_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t id = batch.sparse_ids[i];
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
  at::Tensor local = at::empty({n, num_slots}, at::kLong);
  int64_t* out = local.data_ptr<int64_t>();
  for (size_t i = 0; i < count; ++i) out[i] = rank_[position_row_[i]];
  at::Tensor dense = at::empty({n, num_dense}, at::kFloat);
  std::copy(batch.dense.begin(), batch.dense.end(), dense.data_ptr<float>());
  at::Tensor label = at::empty({n, 1}, at::kFloat);
  std::copy(batch.labels.begin(), batch.labels.end(), label.data_ptr<float>());
  scope.Set(models::kDenseFeed, std::move(dense));
  scope.Set(models::kSparseIdsFeed, std::move(local));
  scope.Set(models::kLabelFeed, std::move(label));
  return OkStatus();
}

}  // namespace colony::train::internal
