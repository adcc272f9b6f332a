// The in-memory SparseTable: rows in per-shard arenas, found through per-shard hash indexes.
#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "colony/ps/internal/id_index.h"
#include "colony/ps/internal/row_arena.h"
#include "colony/ps/internal/table_file.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps {

Status SparseTableOptions::Validate() const {
  if (dim <= 0) {
    return InvalidArgumentError("sparse table dim must be > 0, got " + std::to_string(dim) +
                                "; set it to the embedding width");
  }
  if (num_shards <= 0 || num_shards > 65536) {
    return InvalidArgumentError("sparse table num_shards must be in [1, 65536], got " +
                                std::to_string(num_shards));
  }
  COLONY_RETURN_IF_ERROR(optimizer.Validate());
  return initializer.Validate();
}

namespace {

// The options stored in a table file, after the format line. Load checks the first three
// against the table; the rest describe how the rows were made and are kept for inspection
// (a resumed job may change its learning rate).
void PutHeader(internal::TableFileWriter& file, const SparseTableOptions& o, int state_width,
               std::string_view optimizer) {
  file.Put(static_cast<int32_t>(o.dim));
  file.Put(static_cast<int32_t>(state_width));
  file.PutString(optimizer);
  const OptimizerOptions& p = o.optimizer;
  for (float v : {p.learning_rate, p.epsilon, p.initial_accumulator, p.beta1, p.beta2, p.l1, p.l2,
                  p.lr_power, p.beta}) {
    file.Put(v);
  }
  const InitializerOptions& i = o.initializer;
  file.PutString(i.type);
  for (float v : {i.value, i.low, i.high, i.mean, i.std}) file.Put(v);
  file.Put(o.seed);
}

// Reads what PutHeader wrote into `o` (the optimizer's name into *optimizer).
Status GetHeader(internal::TableFileReader& file, SparseTableOptions* o, int32_t* state_width,
                 std::string* optimizer) {
  int32_t dim = 0;
  COLONY_RETURN_IF_ERROR(file.Get(&dim));
  o->dim = dim;
  COLONY_RETURN_IF_ERROR(file.Get(state_width));
  COLONY_RETURN_IF_ERROR(file.GetString(optimizer));
  OptimizerOptions& p = o->optimizer;
  p.name = *optimizer;
  for (float* v : {&p.learning_rate, &p.epsilon, &p.initial_accumulator, &p.beta1, &p.beta2, &p.l1,
                   &p.l2, &p.lr_power, &p.beta}) {
    COLONY_RETURN_IF_ERROR(file.Get(v));
  }
  InitializerOptions& i = o->initializer;
  COLONY_RETURN_IF_ERROR(file.GetString(&i.type));
  for (float* v : {&i.value, &i.low, &i.high, &i.mean, &i.std}) {
    COLONY_RETURN_IF_ERROR(file.Get(v));
  }
  return file.Get(&o->seed);
}

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
    if (out.size() != ids.size() * dim) {
      return InvalidArgumentError(
          "pull: out has " + std::to_string(out.size()) +
          " floats, expected ids * dim = " + std::to_string(ids.size() * dim));
    }
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

  Status Save(const std::string& dir) const override {
    internal::TableFileWriter file(kSparseTableFormat);
    PutHeader(file, options_, state_width_, optimizer_->name());
    // One consistent snapshot: every shard stays locked until its rows are in the buffer.
    std::vector<std::unique_lock<std::mutex>> locks;
    std::vector<std::pair<uint64_t, const float*>> rows;
    for (const auto& shard : shards_) {
      locks.emplace_back(shard->mu);
      shard->index.ForEach(
          [&](uint64_t id, uint32_t r) { rows.emplace_back(id, shard->arena.row(r)); });
    }
    // Sorted by id, so equal tables give equal files whatever their insertion history.
    std::sort(rows.begin(), rows.end());
    file.Put(static_cast<int64_t>(rows.size()));
    for (const auto& [id, row] : rows) {
      file.Put(id);
      file.PutFloats(row, stride_);
    }
    locks.clear();
    return file.Finish(dir + "/table.bin");
  }

  Status Load(const std::string& dir) override {
    COLONY_ASSIGN_OR_RETURN(
        internal::TableFileReader file,
        internal::TableFileReader::Open(dir + "/table.bin", kSparseTableFormat));
    SparseTableOptions saved;
    int32_t state_width = 0;
    std::string optimizer;
    int64_t count = 0;
    COLONY_RETURN_IF_ERROR(GetHeader(file, &saved, &state_width, &optimizer));
    COLONY_RETURN_IF_ERROR(file.Get(&count));
    if (saved.dim != options_.dim || optimizer != optimizer_->name() ||
        state_width != state_width_) {
      return FailedPreconditionError(
          file.path() + ": holds dim " + std::to_string(saved.dim) + " with optimizer '" +
          optimizer + "' (state width " + std::to_string(state_width) + "), this table has dim " +
          std::to_string(options_.dim) + " with '" + std::string(optimizer_->name()) +
          "'; load it into a table with the same dim and optimizer");
    }
    const size_t row_bytes = sizeof(uint64_t) + stride_ * sizeof(float);
    if (count < 0 || file.remaining() != static_cast<uint64_t>(count) * row_bytes) {
      return DataLossError(file.path() + ": header says " + std::to_string(count) + " rows of " +
                           std::to_string(row_bytes) + " bytes, the payload has " +
                           std::to_string(file.remaining()) + " bytes");
    }
    std::vector<std::unique_ptr<Shard>> loaded;
    for (size_t s = 0; s < shards_.size(); ++s) loaded.push_back(std::make_unique<Shard>(stride_));
    for (int64_t r = 0; r < count; ++r) {
      uint64_t id = 0;
      COLONY_RETURN_IF_ERROR(file.Get(&id));
      Shard& shard = *loaded[internal::StripeOf(id, static_cast<uint32_t>(loaded.size()))];
      bool inserted = false;
      shard.index.FindOrInsert(id, shard.arena.size(), &inserted);
      if (!inserted) return DataLossError(file.path() + ": id " + std::to_string(id) + " twice");
      COLONY_RETURN_IF_ERROR(file.GetFloats(shard.arena.row(shard.arena.Append()), stride_));
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
  return std::unique_ptr<SparseTable>(new MemorySparseTable(options, std::move(optimizer)));
}

}  // namespace colony::ps
