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
  // One sort of (id, position) pairs gives both the unique ids and every position's row.
  const size_t count = batch.sparse_ids.size();
  order_.resize(count);
  for (size_t i = 0; i < count; ++i) order_[i] = {batch.sparse_ids[i], static_cast<uint32_t>(i)};
  std::sort(order_.begin(), order_.end());
  unique_ids_.clear();
  at::Tensor local = at::empty({n, num_slots}, at::kLong);
  int64_t* out = local.data_ptr<int64_t>();
  for (size_t k = 0; k < count; ++k) {
    if (k == 0 || order_[k].first != order_[k - 1].first) unique_ids_.push_back(order_[k].first);
    out[order_[k].second] = static_cast<int64_t>(unique_ids_.size()) - 1;
  }
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
