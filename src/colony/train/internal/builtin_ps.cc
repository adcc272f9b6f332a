#include "colony/train/internal/builtin_ps.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>

namespace colony::train::internal {

StatusOr<std::unique_ptr<BuiltinPs>> BuiltinPs::Create(ParameterSet& distributed,
                                                       const ps::OptimizerOptions& sparse,
                                                       const ps::OptimizerOptions& dense,
                                                       int workers) {
  if (workers < 1) return InvalidArgumentError("workers must be >= 1");
  auto cache = std::make_unique<BuiltinPs>();
  cache->distributed_ = &distributed;
  cache->dense_delta_scale_ = 1.0f / static_cast<float>(workers);
  COLONY_ASSIGN_OR_RETURN(cache->sparse_optimizer_, ps::Optimizer::Create(sparse));
  COLONY_ASSIGN_OR_RETURN(cache->dense_optimizer_, ps::Optimizer::Create(dense));
  for (const ParameterSet::SparseTableRef& t : distributed.sparse_tables()) {
    SparseCache& s = cache->sparse_.emplace_back();
    s.name = t.name;
    s.dim = t.dim;
    s.stride = t.dim + cache->sparse_optimizer_->StateWidth(t.dim);
    s.table = t.table;
  }
  for (const ParameterSet::DenseTableRef& t : distributed.dense_tables()) {
    auto d = std::make_unique<DenseCache>();
    d->name = t.name;
    d->shape = t.shape;
    d->size = 1;
    for (int64_t n : t.shape) d->size *= n;
    cache->dense_.push_back(std::move(d));
  }
  return cache;
}

StatusOr<BuiltinPs::Fetched> BuiltinPs::Fetch(std::vector<uint64_t> keys) const {
  Fetched f;
  f.keys = std::move(keys);
  for (uint64_t id : f.keys) {
    if (!slot_.contains(id)) f.missing.push_back(id);
  }
  ps::PullOptions pull;
  pull.create_missing = true;
  for (const SparseCache& s : sparse_) {
    std::vector<float>& rows = f.rows.emplace_back(f.missing.size() * s.dim);
    if (f.missing.empty()) continue;
    COLONY_RETURN_IF_ERROR(s.table->Pull(pull, f.missing, rows).WithContext(s.name));
    f.bytes += static_cast<int64_t>(f.missing.size() * sizeof(uint64_t) + rows.size() * 4);
  }
  return f;
}

// Adds every cached value's change since the last exchange to the distributed PS.
StatusOr<int64_t> BuiltinPs::PushDeltas() {
  int64_t bytes = 0;
  std::vector<uint64_t> keys(slot_.size());  // In row order, which is sorted.
  for (const auto& [id, slot] : slot_) keys[slot] = id;
  for (SparseCache& s : sparse_) {
    std::vector<uint64_t> ids;
    std::vector<float> deltas;
    for (size_t r = 0; r < keys.size(); ++r) {
      const float* w = s.values.data() + r * s.stride;
      const float* base = s.base.data() + r * s.dim;
      if (std::equal(w, w + s.dim, base)) continue;  // Not trained in this pass.
      ids.push_back(keys[r]);
      for (int j = 0; j < s.dim; ++j) deltas.push_back(w[j] - base[j]);
    }
    if (ids.empty()) continue;
    COLONY_RETURN_IF_ERROR(s.table->Add(ids, deltas).WithContext(s.name));
    bytes += static_cast<int64_t>(ids.size() * sizeof(uint64_t) + deltas.size() * 4);
  }
  std::vector<std::vector<float>> deltas(dense_.size());
  for (size_t i = 0; i < dense_.size(); ++i) {
    const DenseCache& d = *dense_[i];
    // Before the first exchange, or not trained.
    if (d.base.empty() || std::equal(d.base.begin(), d.base.end(), d.values.begin())) continue;
    deltas[i].resize(d.size);
    for (int64_t j = 0; j < d.size; ++j) {
      deltas[i][j] = (d.values[j] - d.base[j]) * dense_delta_scale_;
    }
    bytes += d.size * 4;
  }
  // Every dense table in one call per server.
  COLONY_RETURN_IF_ERROR(distributed_->AddDenseTables(
      std::vector<std::span<const float>>(deltas.begin(), deltas.end())));
  return bytes;
}

StatusOr<BuiltinPs::Exchanged> BuiltinPs::Exchange(Fetched next) {
  if (!next.keys.empty() && next.rows.size() != sparse_.size()) {
    return InvalidArgumentError("fetched rows for another model");
  }
  Exchanged out;

  // The keys the cache holds: refreshed from the distributed PS. The others were fetched.
  std::vector<uint64_t> kept;
  size_t next_missing = 0;
  for (uint64_t id : next.keys) {
    if (slot_.contains(id)) {
      kept.push_back(id);
    } else if (next_missing >= next.missing.size() || next.missing[next_missing++] != id) {
      return InvalidArgumentError(fmt::format(
          "key {} is neither in the built-in PS nor fetched: rows fetched before another "
          "exchange",
          id));
    }
  }
  if (next_missing != next.missing.size()) {
    return InvalidArgumentError(
        "rows fetched before another exchange: the built-in PS already holds some of them");
  }
  out.hits = static_cast<int64_t>(kept.size());
  COLONY_ASSIGN_OR_RETURN(out.pushed_bytes, PushDeltas());

  std::unordered_map<uint64_t, uint32_t> slots;
  slots.reserve(next.keys.size());
  for (size_t r = 0; r < next.keys.size(); ++r) slots[next.keys[r]] = static_cast<uint32_t>(r);
  ps::PullOptions pull;
  pull.create_missing = true;
  for (size_t t = 0; t < sparse_.size(); ++t) {
    SparseCache& s = sparse_[t];
    const int state = s.stride - s.dim;
    std::vector<float> fresh(kept.size() * s.dim);
    if (!kept.empty()) {
      COLONY_RETURN_IF_ERROR(s.table->Pull(pull, kept, fresh).WithContext(s.name));
      out.pulled_bytes += static_cast<int64_t>(kept.size() * sizeof(uint64_t) + fresh.size() * 4);
    }
    std::vector<float> values(next.keys.size() * s.stride);
    std::vector<float> base(next.keys.size() * s.dim);
    size_t k = 0, m = 0;  // Next row of `fresh`, of next.rows[t].
    for (size_t r = 0; r < next.keys.size(); ++r) {
      float* w = values.data() + r * s.stride;
      auto old = slot_.find(next.keys[r]);
      if (old != slot_.end()) {
        std::copy_n(fresh.begin() + k++ * s.dim, s.dim, w);
        std::copy_n(s.values.begin() + old->second * s.stride + s.dim, state, w + s.dim);
      } else {
        std::copy_n(next.rows[t].begin() + m++ * s.dim, s.dim, w);
        auto parked = s.parked.find(next.keys[r]);
        if (parked != s.parked.end()) {
          std::copy(parked->second.begin(), parked->second.end(), w + s.dim);
          s.parked.erase(parked);
        } else {
          sparse_optimizer_->InitState(w + s.dim, s.dim);
        }
      }
      std::copy_n(w, s.dim, base.begin() + r * s.dim);
    }
    for (const auto& [id, slot] : slot_) {  // Rows leaving the cache keep their state aside.
      if (slots.contains(id)) continue;
      const float* st = s.values.data() + slot * s.stride + s.dim;
      s.parked[id].assign(st, st + state);
    }
    s.values = std::move(values);
    s.base = std::move(base);
  }
  slot_ = std::move(slots);

  std::vector<std::vector<float>> fresh(dense_.size());
  for (size_t i = 0; i < dense_.size(); ++i) fresh[i].resize(dense_[i]->size);
  COLONY_RETURN_IF_ERROR(
      distributed_->PullDenseTables(std::vector<std::span<float>>(fresh.begin(), fresh.end())));
  for (size_t i = 0; i < dense_.size(); ++i) {
    DenseCache& d = *dense_[i];
    out.pulled_bytes += d.size * 4;
    if (d.values.empty()) {
      const int dim = static_cast<int>(d.size);
      d.values.resize(d.size + dense_optimizer_->StateWidth(dim));
      dense_optimizer_->InitState(d.values.data() + d.size, dim);
    }
    std::copy(fresh[i].begin(), fresh[i].end(), d.values.begin());
    d.base = std::move(fresh[i]);
  }
  return out;
}

StatusOr<uint32_t> BuiltinPs::SlotOf(uint64_t id) const {
  auto it = slot_.find(id);
  if (it == slot_.end()) {
    return FailedPreconditionError(
        fmt::format("key {} is not in the built-in PS: it was not fetched for this pass", id));
  }
  return it->second;
}

Status BuiltinPs::PullDense(exec::Scope& scope) const {
  for (const auto& d : dense_) {
    at::Tensor t = at::empty(d->shape, at::kFloat);
    {
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->values.empty()) return FailedPreconditionError("the built-in PS is empty");
      std::copy_n(d->values.begin(), d->size, t.data_ptr<float>());
    }
    t.requires_grad_(true);
    scope.Set(d->name, std::move(t));
  }
  return OkStatus();
}

Status BuiltinPs::PullSparse(std::span<const uint64_t> ids, exec::Scope& scope) const {
  for (const SparseCache& s : sparse_) {
    at::Tensor rows = at::empty({static_cast<int64_t>(ids.size()), s.dim}, at::kFloat);
    float* out = rows.data_ptr<float>();
    for (size_t i = 0; i < ids.size(); ++i) {
      COLONY_ASSIGN_OR_RETURN(uint32_t slot, SlotOf(ids[i]));
      std::lock_guard<std::mutex> lock(StripeOf(slot));
      std::copy_n(s.values.begin() + slot * s.stride, s.dim, out + i * s.dim);
    }
    rows.requires_grad_(true);
    scope.Set(s.name, std::move(rows));
  }
  return OkStatus();
}

Status BuiltinPs::PushGradients(std::span<const uint64_t> ids, const exec::Scope& scope) {
  for (SparseCache& s : sparse_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor rows, scope.Get(s.name));
    at::Tensor grad = rows.grad();
    if (!grad.defined()) continue;  // Not on the loss path in this program.
    grad = grad.contiguous();
    const float* g = grad.data_ptr<float>();
    for (size_t i = 0; i < ids.size(); ++i) {
      COLONY_ASSIGN_OR_RETURN(uint32_t slot, SlotOf(ids[i]));
      std::lock_guard<std::mutex> lock(StripeOf(slot));
      float* w = s.values.data() + slot * s.stride;
      sparse_optimizer_->Update(w, w + s.dim, g + i * s.dim, s.dim);
    }
  }
  for (auto& d : dense_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor param, scope.Get(d->name));
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    grad = grad.contiguous();
    std::lock_guard<std::mutex> lock(d->mu);
    dense_optimizer_->Update(d->values.data(), d->values.data() + d->size, grad.data_ptr<float>(),
                             static_cast<int>(d->size));
  }
  return OkStatus();
}

}  // namespace colony::train::internal
