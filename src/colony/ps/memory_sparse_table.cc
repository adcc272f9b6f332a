// The in-memory SparseTable: rows in per-shard arenas, found through per-shard hash indexes.
#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "colony/ps/internal/id_index.h"
#include "colony/ps/internal/row_arena.h"
#include "colony/ps/internal/row_math.h"
#include "colony/ps/internal/sparse_table_file.h"
#include "colony/ps/internal/tiered_sparse_table.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps {

namespace {
// The widest row (4 MiB of floats): a row is allocated whole on the first pull of its id, so
// a wider dim, from a typo or a client, would cost gigabytes per id.
constexpr int kMaxSparseTableDim = 1 << 20;
}  // namespace

Status SparseTableOptions::Validate() const {
  if (dim <= 0 || dim > kMaxSparseTableDim) {
    return InvalidArgumentError("sparse table dim must be in [1, " +
                                std::to_string(kMaxSparseTableDim) + "], got " +
                                std::to_string(dim) + "; set it to the embedding width");
  }
  if (num_shards <= 0 || num_shards > 65536) {
    return InvalidArgumentError("sparse table num_shards must be in [1, 65536], got " +
                                std::to_string(num_shards));
  }
  if (admit_count < 1) {
    return InvalidArgumentError("sparse table admit_count must be >= 1, got " +
                                std::to_string(admit_count));
  }
  if (!(admit_probability > 0.0f && admit_probability <= 1.0f)) {
    return InvalidArgumentError("sparse table admit_probability must be in (0, 1], got " +
                                std::to_string(admit_probability));
  }
  if (ttl_passes < 0 || memory_rows < 0) {
    return InvalidArgumentError("sparse table ttl_passes and memory_rows must be >= 0");
  }
  if (memory_rows > 0 && ssd_dir.empty()) {
    return InvalidArgumentError("sparse table memory_rows is " + std::to_string(memory_rows) +
                                " but ssd_dir is empty: name a folder for the rows beyond it");
  }
  COLONY_RETURN_IF_ERROR(optimizer.Validate());
  return initializer.Validate();
}

namespace {

// std::copy of a short row becomes a memmove call; fixed 32-byte chunks inline.
inline void CopyRow(const float* from, size_t dim, float* to) {
  size_t j = 0;
  for (; j + 8 <= dim; j += 8) std::memcpy(to + j, from + j, 8 * sizeof(float));
  for (; j < dim; ++j) to[j] = from[j];
}

class MemorySparseTable final : public SparseTable {
 public:
  MemorySparseTable(const SparseTableOptions& options, std::unique_ptr<Optimizer> optimizer)
      : options_(options),
        optimizer_(std::move(optimizer)),
        state_width_(optimizer_->StateWidth(options.dim)),
        stride_(options.dim + state_width_) {
    shards_.reserve(options.num_shards);
    for (int s = 0; s < options.num_shards; ++s)
      shards_.push_back(std::make_unique<Shard>(stride_));
  }

  Status Pull(const PullOptions& options, std::span<const uint64_t> ids,
              std::span<float> out) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(internal::CheckRowFloats("pull: out", out.size(), ids.size(), dim));
    ForEachShard(ids, [&](Shard& shard, size_t i) {
      float* row = options.create_missing ? FindOrCreate(shard, ids[i]) : Find(shard, ids[i]);
      if (row != nullptr) {
        CopyRow(row, dim, out.data() + i * dim);
      } else {
        std::fill(out.data() + i * dim, out.data() + (i + 1) * dim, 0.0f);
      }
    });
    return OkStatus();
  }

  Status Push(std::span<const uint64_t> ids, std::span<const float> grads) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(internal::CheckRowFloats("push: grads", grads.size(), ids.size(), dim));
    // Sum duplicates first so each row takes exactly one optimizer step. Strictly
    // increasing ids (what trainers send) cannot repeat, so they skip this.
    std::vector<uint64_t> unique_ids;
    std::vector<float> summed;
    std::span<const uint64_t> push_ids = ids;
    std::span<const float> push_grads = grads;
    if (!std::is_sorted(ids.begin(), ids.end(), std::less_equal<uint64_t>())) {
      internal::IdIndex first;
      first.Reserve(ids.size());
      unique_ids.reserve(ids.size());
      summed.reserve(grads.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        bool inserted = false;
        const uint32_t k =
            first.FindOrInsert(ids[i], static_cast<uint32_t>(unique_ids.size()), &inserted);
        const float* g = grads.data() + i * dim;
        if (inserted) {
          unique_ids.push_back(ids[i]);
          summed.insert(summed.end(), g, g + dim);
        } else {
          float* sum = summed.data() + size_t{k} * dim;
          for (size_t j = 0; j < dim; ++j) sum[j] += g[j];
        }
      }
      push_ids = unique_ids;
      push_grads = summed;
    }
    ForEachShard(push_ids, [&](Shard& shard, size_t i) {
      float* row = FindOrCreate(shard, push_ids[i]);
      optimizer_->Update(row, row + dim, push_grads.data() + i * dim, options_.dim);
    });
    return OkStatus();
  }

  Status Add(std::span<const uint64_t> ids, std::span<const float> deltas) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(internal::CheckRowFloats("add: deltas", deltas.size(), ids.size(), dim));
    ForEachShard(ids, [&](Shard& shard, size_t i) {
      float* row = FindOrCreate(shard, ids[i]);
      const float* delta = deltas.data() + i * dim;
      for (size_t j = 0; j < dim; ++j) row[j] += delta[j];
    });
    return OkStatus();
  }

  Status Save(const std::string& dir) const override {
    // One consistent snapshot: every shard stays locked until its rows are in the file.
    std::vector<std::unique_lock<std::mutex>> locks;
    std::vector<std::pair<uint64_t, const float*>> rows;
    for (const auto& shard : shards_) {
      locks.emplace_back(shard->mu);
      shard->index.ForEach(
          [&](uint64_t id, uint32_t r) { rows.emplace_back(id, shard->arena.row(r)); });
    }
    // Sorted by id, so equal tables give equal files whatever their insertion history.
    std::sort(rows.begin(), rows.end());
    internal::SparseTableFileWriter file(dir + "/table.bin", Layout(),
                                         static_cast<int64_t>(rows.size()));
    for (const auto& [id, row] : rows) file.Add(id, row);
    return file.Finish();
  }

  Status LoadFrom(const std::vector<std::string>& dirs,
                  const std::function<bool(uint64_t)>& keep) override {
    std::vector<internal::SparseTableFileReader> files;
    for (const std::string& dir : dirs) {
      COLONY_ASSIGN_OR_RETURN(internal::SparseTableFileReader file,
                              internal::SparseTableFileReader::Open(dir + "/table.bin", Layout()));
      files.push_back(std::move(file));
    }
    std::vector<std::unique_ptr<Shard>> loaded;
    for (size_t s = 0; s < shards_.size(); ++s) loaded.push_back(std::make_unique<Shard>(stride_));
    for (internal::SparseTableFileReader& file : files) {
      COLONY_RETURN_IF_ERROR(file.ReadRows([&](uint64_t id, const float* row) -> Status {
        if (keep && !keep(id)) return OkStatus();
        Shard& shard = *loaded[internal::StripeOf(id, static_cast<uint32_t>(loaded.size()))];
        bool inserted = false;
        shard.index.FindOrInsert(id, shard.arena.size(), &inserted);
        if (!inserted) return AlreadyExistsError("id twice");
        std::memcpy(shard.arena.row(shard.arena.Append()), row, stride_ * sizeof(float));
        return OkStatus();
      }));
    }
    for (size_t s = 0; s < shards_.size(); ++s) {
      std::lock_guard<std::mutex> lock(shards_[s]->mu);
      std::swap(shards_[s]->index, loaded[s]->index);
      std::swap(shards_[s]->arena, loaded[s]->arena);
    }
    return OkStatus();
  }

  int64_t size() const override {
    int64_t rows = 0;
    for (const auto& shard : shards_) {
      std::lock_guard<std::mutex> lock(shard->mu);
      rows += static_cast<int64_t>(shard->index.size());
    }
    return rows;
  }

  StatusOr<int64_t> EndPass() override { return int64_t{0}; }  // No ttl: nothing expires.
  int64_t ssd_rows() const override { return 0; }
  int dim() const override { return options_.dim; }

 private:
  struct Shard {
    explicit Shard(size_t stride) : arena(stride) {}
    mutable std::mutex mu;
    internal::IdIndex index;   // id -> row number in arena.
    internal::RowArena arena;  // Rows of [weights, optimizer state].
  };

  // Calls fn(shard, i) for every i, holding each shard's lock once for all its ids. The ids
  // are grouped by shard with a counting sort into per-thread scratch, so a batch allocates
  // nothing once the scratch has grown.
  static constexpr size_t kPrefetchAhead = 8;
  struct Item {
    uint64_t id;
    uint32_t index;  // Position in the caller's batch.
  };

  template <typename Fn>
  void ForEachShard(std::span<const uint64_t> ids, Fn&& fn) {
    const uint32_t n = static_cast<uint32_t>(shards_.size());
    if (n == 1) {
      std::lock_guard<std::mutex> lock(shards_[0]->mu);
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + kPrefetchAhead < ids.size()) shards_[0]->index.Prefetch(ids[i + kPrefetchAhead]);
        fn(*shards_[0], i);
      }
      return;
    }
    if (ids.size() < 64) {
      for (size_t i = 0; i < ids.size(); ++i) {
        Shard& shard = *shards_[internal::StripeOf(ids[i], n)];
        std::lock_guard<std::mutex> lock(shard.mu);
        fn(shard, i);
      }
      return;
    }
    // Stripes fit in 16 bits (Validate caps num_shards at 65536).
    thread_local std::vector<uint16_t> stripe;
    thread_local std::vector<uint32_t> start;
    thread_local std::vector<Item> items;
    stripe.resize(ids.size());
    start.assign(n + 1, 0);
    for (size_t i = 0; i < ids.size(); ++i) {
      const uint32_t s = internal::StripeOf(ids[i], n);
      stripe[i] = static_cast<uint16_t>(s);
      ++start[s + 1];
    }
    for (size_t s = 0; s < n; ++s) start[s + 1] += start[s];
    items.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      items[start[stripe[i]]++] = {ids[i], static_cast<uint32_t>(i)};
    }
    // start[s] is now the end of shard s's run, i.e. the beginning of shard s + 1's.
    size_t begin = 0;
    for (size_t s = 0; s < n; ++s) {
      const size_t end = start[s];
      if (begin == end) continue;
      Shard& shard = *shards_[s];
      std::lock_guard<std::mutex> lock(shard.mu);
      const Item* run = items.data();  // Not re-read through the thread_local per id.
      for (size_t k = begin; k < end; ++k) {
        if (k + kPrefetchAhead < end) shard.index.Prefetch(run[k + kPrefetchAhead].id);
        fn(shard, run[k].index);
      }
      begin = end;
    }
  }

  internal::SparseTableLayout Layout() const {
    return {options_, state_width_, optimizer_->name()};
  }

  float* Find(Shard& shard, uint64_t id) {
    const uint32_t r = shard.index.Find(id);
    return r == internal::IdIndex::kNone ? nullptr : shard.arena.row(r);
  }

  float* FindOrCreate(Shard& shard, uint64_t id) {
    const uint32_t r = shard.index.Find(id);
    if (r != internal::IdIndex::kNone) [[likely]] {
      return shard.arena.row(r);
    }
    return Create(shard, id);
  }

  // Kept out of line so that the lookup above inlines into the batch loops.
  [[gnu::noinline]] float* Create(Shard& shard, uint64_t id) {
    bool inserted = false;
    shard.index.FindOrInsert(id, shard.arena.size(), &inserted);
    float* row = shard.arena.row(shard.arena.Append());
    InitializeRow(options_.initializer, options_.seed, id, row, options_.dim);
    optimizer_->InitState(row + options_.dim, options_.dim);
    return row;
  }

  const SparseTableOptions options_;
  const std::unique_ptr<Optimizer> optimizer_;
  const int state_width_;
  const size_t stride_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace

StatusOr<std::unique_ptr<SparseTable>> SparseTable::Create(const SparseTableOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> optimizer,
                          Optimizer::Create(options.optimizer));
  if (options.tiered()) return internal::CreateTieredSparseTable(options, std::move(optimizer));
  return std::unique_ptr<SparseTable>(new MemorySparseTable(options, std::move(optimizer)));
}

}  // namespace colony::ps
