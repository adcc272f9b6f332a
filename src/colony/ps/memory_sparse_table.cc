// The in-memory SparseTable: rows in per-shard arenas, found through per-shard hash maps.
#include <algorithm>
#include <functional>
#include <mutex>
#include <vector>

#include "colony/ps/internal/id_index.h"
#include "colony/ps/internal/table_file.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps {

Status SparseTableOptions::Validate() const {
  if (dim <= 0)
    return InvalidArgumentError("sparse table dim must be > 0, got " + std::to_string(dim));
  if (num_shards <= 0) {
    return InvalidArgumentError("sparse table num_shards must be > 0, got " +
                                std::to_string(num_shards));
  }
  COLONY_RETURN_IF_ERROR(optimizer.Validate());
  return initializer.Validate();
}

namespace {

class MemorySparseTable final : public SparseTable {
 public:
  MemorySparseTable(const SparseTableOptions& options, std::unique_ptr<Optimizer> optimizer)
      : options_(options),
        optimizer_(std::move(optimizer)),
        state_width_(optimizer_->StateWidth(options.dim)),
        stride_(options.dim + state_width_),
        shards_(options.num_shards) {}

  Status Pull(const PullOptions& options, std::span<const uint64_t> ids,
              std::span<float> out) override {
    const int dim = options_.dim;
    if (out.size() != ids.size() * dim) {
      return InvalidArgumentError(
          "pull: out has " + std::to_string(out.size()) +
          " floats, expected ids * dim = " + std::to_string(ids.size() * dim));
    }
    ForEachShard(ids, [&](Shard& shard, size_t i) {
      float* row = options.create_missing ? FindOrCreate(shard, ids[i]) : Find(shard, ids[i]);
      if (row != nullptr) {
        std::copy(row, row + dim, out.data() + i * dim);
      } else {
        std::fill(out.data() + i * dim, out.data() + (i + 1) * dim, 0.0f);
      }
    });
    return OkStatus();
  }

  Status Push(std::span<const uint64_t> ids, std::span<const float> grads) override {
    const int dim = options_.dim;
    if (grads.size() != ids.size() * dim) {
      return InvalidArgumentError(
          "push: grads has " + std::to_string(grads.size()) +
          " floats, expected ids * dim = " + std::to_string(ids.size() * dim));
    }
    // Sum duplicates first so each row takes exactly one optimizer step. Strictly
    // increasing ids (what trainers send) cannot repeat, so they skip this.
    std::vector<uint64_t> unique_ids;
    std::vector<float> summed;
    std::span<const uint64_t> push_ids = ids;
    std::span<const float> push_grads = grads;
    if (!std::is_sorted(ids.begin(), ids.end(), std::less_equal<uint64_t>())) {
      internal::IdIndex first;
      for (size_t i = 0; i < ids.size(); ++i) {
        bool inserted = false;
        const uint32_t k =
            first.FindOrInsert(ids[i], static_cast<uint32_t>(unique_ids.size()), &inserted);
        if (inserted) {
          unique_ids.push_back(ids[i]);
          summed.insert(summed.end(), grads.begin() + i * dim, grads.begin() + (i + 1) * dim);
        } else {
          float* sum = summed.data() + size_t{k} * dim;
          for (int j = 0; j < dim; ++j) sum[j] += grads[i * dim + j];
        }
      }
      push_ids = unique_ids;
      push_grads = summed;
    }
    ForEachShard(push_ids, [&](Shard& shard, size_t i) {
      float* row = FindOrCreate(shard, push_ids[i]);
      optimizer_->Update(row, row + dim, push_grads.data() + i * dim, dim);
    });
    return OkStatus();
  }

  Status Save(const std::string& dir) const override {
    internal::TableFileWriter file(kSparseTableFormat);
    file.Put(static_cast<int32_t>(options_.dim));
    file.Put(static_cast<int32_t>(state_width_));
    file.PutString(optimizer_->name());
    std::vector<std::pair<uint64_t, const float*>> rows;
    std::vector<std::unique_lock<std::mutex>> locks;
    for (const Shard& shard : shards_) {
      locks.emplace_back(shard.mu);
      shard.index.ForEach([&](uint64_t id, uint32_t index) {
        rows.emplace_back(id, shard.arena.data() + size_t{index} * stride_);
      });
    }
    std::sort(rows.begin(), rows.end());
    file.Put(static_cast<int64_t>(rows.size()));
    for (const auto& [id, row] : rows) {
      file.Put(id);
      file.PutFloats(row, stride_);
    }
    return file.Finish(dir + "/table.bin");
  }

  Status Load(const std::string& dir) override {
    COLONY_ASSIGN_OR_RETURN(
        internal::TableFileReader file,
        internal::TableFileReader::Open(dir + "/table.bin", kSparseTableFormat));
    int32_t dim = 0, state_width = 0;
    std::string optimizer;
    int64_t count = 0;
    COLONY_RETURN_IF_ERROR(file.Get(&dim));
    COLONY_RETURN_IF_ERROR(file.Get(&state_width));
    COLONY_RETURN_IF_ERROR(file.GetString(&optimizer));
    COLONY_RETURN_IF_ERROR(file.Get(&count));
    if (dim != options_.dim || optimizer != optimizer_->name() || state_width != state_width_) {
      return FailedPreconditionError(file.path() + ": holds dim " + std::to_string(dim) +
                                     " with optimizer '" + optimizer + "', this table has dim " +
                                     std::to_string(options_.dim) + " with '" +
                                     std::string(optimizer_->name()) + "'");
    }
    std::vector<Shard> loaded(shards_.size());
    for (int64_t r = 0; r < count; ++r) {
      uint64_t id = 0;
      COLONY_RETURN_IF_ERROR(file.Get(&id));
      Shard& shard = loaded[id % loaded.size()];
      bool inserted = false;
      shard.index.FindOrInsert(id, static_cast<uint32_t>(shard.arena.size() / stride_), &inserted);
      if (!inserted) return DataLossError(file.path() + ": id " + std::to_string(id) + " twice");
      shard.arena.resize(shard.arena.size() + stride_);
      COLONY_RETURN_IF_ERROR(
          file.GetFloats(shard.arena.data() + shard.arena.size() - stride_, stride_));
    }
    for (size_t s = 0; s < shards_.size(); ++s) {
      std::lock_guard<std::mutex> lock(shards_[s].mu);
      shards_[s].index = std::move(loaded[s].index);
      shards_[s].arena = std::move(loaded[s].arena);
    }
    return OkStatus();
  }

  int64_t size() const override {
    int64_t rows = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard<std::mutex> lock(shard.mu);
      rows += static_cast<int64_t>(shard.index.size());
    }
    return rows;
  }

  int dim() const override { return options_.dim; }

 private:
  struct Shard {
    mutable std::mutex mu;
    internal::IdIndex index;   // id -> row number in arena.
    std::vector<float> arena;  // Rows of [weights, optimizer state].
  };

  // Calls fn(shard, i) for every i, holding each shard's lock once for all its ids.
  template <typename Fn>
  void ForEachShard(std::span<const uint64_t> ids, Fn&& fn) {
    const size_t n = shards_.size();
    if (n == 1 || ids.size() < 64) {
      for (size_t i = 0; i < ids.size(); ++i) {
        Shard& shard = shards_[ids[i] % n];
        std::lock_guard<std::mutex> lock(shard.mu);
        fn(shard, i);
      }
      return;
    }
    std::vector<std::vector<uint32_t>> by_shard(n);
    for (size_t i = 0; i < ids.size(); ++i)
      by_shard[ids[i] % n].push_back(static_cast<uint32_t>(i));
    for (size_t s = 0; s < n; ++s) {
      if (by_shard[s].empty()) continue;
      std::lock_guard<std::mutex> lock(shards_[s].mu);
      for (uint32_t i : by_shard[s]) fn(shards_[s], i);
    }
  }

  float* Find(Shard& shard, uint64_t id) {
    const uint32_t index = shard.index.Find(id);
    return index == internal::IdIndex::kNone ? nullptr
                                             : shard.arena.data() + size_t{index} * stride_;
  }

  float* FindOrCreate(Shard& shard, uint64_t id) {
    bool inserted = false;
    const uint32_t index = shard.index.FindOrInsert(
        id, static_cast<uint32_t>(shard.arena.size() / stride_), &inserted);
    if (inserted) {
      shard.arena.resize(shard.arena.size() + stride_);
      float* row = shard.arena.data() + size_t{index} * stride_;
      InitializeRow(options_.initializer, options_.seed, id, row, options_.dim);
      optimizer_->InitState(row + options_.dim, options_.dim);
      return row;
    }
    return shard.arena.data() + size_t{index} * stride_;
  }

  const SparseTableOptions options_;
  const std::unique_ptr<Optimizer> optimizer_;
  const int state_width_;
  const size_t stride_;
  std::vector<Shard> shards_;
};

}  // namespace

StatusOr<std::unique_ptr<SparseTable>> SparseTable::Create(const SparseTableOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> optimizer,
                          Optimizer::Create(options.optimizer));
  return std::unique_ptr<SparseTable>(new MemorySparseTable(options, std::move(optimizer)));
}

}  // namespace colony::ps
