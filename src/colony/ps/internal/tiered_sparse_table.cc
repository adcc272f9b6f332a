// Rows live in a hash map under one lock. Past memory_rows, the least recently used rows
// move to RocksDB (key: the id, big-endian; value: weights, optimizer state and the pass
// the row was last pulled in) and move back on their next pull or push.
#include "colony/ps/internal/tiered_sparse_table.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "colony/ps/initializer.h"
#include "colony/ps/internal/row_math.h"
#include "colony/ps/internal/sparse_table_file.h"
#include "colony/ps/internal/table_file.h"

namespace colony::ps::internal {
namespace {

std::string SsdKey(uint64_t id) {
  std::string key(8, '\0');
  for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(id >> (56 - 8 * b));
  return key;
}

uint64_t IdOfKey(const rocksdb::Slice& key) {
  uint64_t id = 0;
  for (int b = 0; b < 8; ++b) id = (id << 8) | static_cast<unsigned char>(key[b]);
  return id;
}

// A uniform number in [0, 1) from (seed, id, n): admission by chance is reproducible.
double Uniform(uint64_t seed, uint64_t id, uint64_t n) {
  const uint64_t x = Mix64(seed ^ (id * kGoldenGamma) ^ (n * 0xD1B54A32D192ED03ull));
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return OkStatus();
  return DataLossError("SSD tier " + what + ": " + s.ToString());
}

class TieredSparseTable final : public SparseTable {
 public:
  TieredSparseTable(const SparseTableOptions& options, std::unique_ptr<Optimizer> optimizer)
      : options_(options),
        optimizer_(std::move(optimizer)),
        state_width_(optimizer_->StateWidth(options.dim)),
        stride_(static_cast<size_t>(options.dim + state_width_)) {}

  Status OpenSsd() {
    if (options_.memory_rows == 0) return OkStatus();
    // The folder holds the rows of this process's table only: a leftover is stale.
    std::error_code error;
    std::filesystem::remove_all(options_.ssd_dir, error);
    std::filesystem::create_directories(options_.ssd_dir, error);
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, options_.ssd_dir, &db);
    if (!s.ok()) {
      return FailedPreconditionError("cannot open the SSD tier at '" + options_.ssd_dir +
                                     "': " + s.ToString());
    }
    ssd_.reset(db);
    return OkStatus();
  }

  Status Pull(const PullOptions& options, std::span<const uint64_t> ids,
              std::span<float> out) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(CheckRowFloats("pull: out", out.size(), ids.size(), dim));
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<float> ssd_row;
    for (size_t i = 0; i < ids.size(); ++i) {
      float* dst = out.data() + i * dim;
      const float* row = nullptr;
      if (options.create_missing) {
        COLONY_ASSIGN_OR_RETURN(Row * found, FindForTraining(ids[i], /*admit=*/true));
        if (found != nullptr) {
          found->last_pass = pass_;
          row = found->values.data();
        }
      } else {
        COLONY_ASSIGN_OR_RETURN(row, FindReadOnly(ids[i], &ssd_row));
      }
      if (row != nullptr) {
        std::memcpy(dst, row, dim * sizeof(float));
      } else {
        std::fill(dst, dst + dim, 0.0f);
      }
    }
    return Spill();
  }

  Status Push(std::span<const uint64_t> ids, std::span<const float> grads) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(CheckRowFloats("push: grads", grads.size(), ids.size(), dim));
    // Duplicates summed in order of first appearance, as the in-memory table does.
    std::unordered_map<uint64_t, size_t> first;
    std::vector<uint64_t> unique_ids;
    std::vector<float> summed;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto [it, inserted] = first.emplace(ids[i], unique_ids.size());
      const float* g = grads.data() + i * dim;
      if (inserted) {
        unique_ids.push_back(ids[i]);
        summed.insert(summed.end(), g, g + dim);
      } else {
        float* sum = summed.data() + it->second * dim;
        for (size_t j = 0; j < dim; ++j) sum[j] += g[j];
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    // Without admission a push creates its rows like the in-memory table; with admission
    // the gradient of an id that has no row yet is dropped.
    const bool create = options_.admit_count == 1 && options_.admit_probability >= 1.0f;
    for (size_t k = 0; k < unique_ids.size(); ++k) {
      COLONY_ASSIGN_OR_RETURN(Row * row, FindForTraining(unique_ids[k], create));
      if (row == nullptr) continue;
      optimizer_->Update(row->values.data(), row->values.data() + dim, summed.data() + k * dim,
                         options_.dim);
    }
    return Spill();
  }

  Status Add(std::span<const uint64_t> ids, std::span<const float> deltas) override {
    const size_t dim = options_.dim;
    COLONY_RETURN_IF_ERROR(CheckRowFloats("add: deltas", deltas.size(), ids.size(), dim));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      // A worker's delta means the id was admitted where it trained.
      COLONY_ASSIGN_OR_RETURN(Row * row, FindForTraining(ids[i], /*admit=*/false));
      if (row == nullptr) row = CreateRow(ids[i]);
      for (size_t j = 0; j < dim; ++j) row->values[j] += deltas[i * dim + j];
    }
    return Spill();
  }

  // Streams: the memory rows (at most memory_rows of them) are sorted, the SSD rows come
  // in id order from RocksDB (big-endian keys), and the two are merged into the file.
  Status Save(const std::string& dir) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<uint64_t, const float*>> in_memory;
    in_memory.reserve(memory_.size());
    for (const auto& [id, row] : memory_) in_memory.emplace_back(id, row.values.data());
    std::sort(in_memory.begin(), in_memory.end());
    SparseTableFileWriter file(dir + "/table.bin", Layout(),
                               static_cast<int64_t>(memory_.size()) + ssd_count_);
    std::unique_ptr<rocksdb::Iterator> it;
    if (ssd_) {
      rocksdb::ReadOptions read;
      read.fill_cache = false;  // One scan; keep the cache for training's reads.
      read.readahead_size = size_t{2} << 20;
      it.reset(ssd_->NewIterator(read));
      it->SeekToFirst();
    }
    std::vector<float> ssd_row(stride_);
    size_t m = 0;
    while (true) {
      const bool ssd_left = it != nullptr && it->Valid();
      if (!ssd_left && m == in_memory.size()) break;
      if (ssd_left && (m == in_memory.size() || IdOfKey(it->key()) < in_memory[m].first)) {
        COLONY_RETURN_IF_ERROR(Decode(it->value(), ssd_row.data(), nullptr));
        file.Add(IdOfKey(it->key()), ssd_row.data());
        it->Next();
      } else {
        file.Add(in_memory[m].first, in_memory[m].second);
        ++m;
      }
    }
    if (it != nullptr) COLONY_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    return file.Finish();
  }

  // Streams too: the first memory_rows rows stay in memory, the rest go to RocksDB in
  // batches. Every file's checksum is verified before the table changes.
  Status LoadFrom(const std::vector<std::string>& dirs,
                  const std::function<bool(uint64_t)>& keep) override {
    std::vector<SparseTableFileReader> files;
    for (const std::string& dir : dirs) {
      COLONY_ASSIGN_OR_RETURN(SparseTableFileReader file,
                              SparseTableFileReader::Open(dir + "/table.bin", Layout()));
      files.push_back(std::move(file));
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::unordered_map<uint64_t, Row> loaded;
    if (ssd_) {
      // Empty the SSD tier: the files' rows replace everything. A 9-byte end key sorts after
      // every 8-byte id key.
      COLONY_RETURN_IF_ERROR(
          FromRocks(ssd_->DeleteRange(rocksdb::WriteOptions(), ssd_->DefaultColumnFamily(),
                                      std::string(), std::string(9, '\xff')),
                    "clear"));
      ssd_count_ = 0;
      memory_.clear();  // After an error the table holds part of the files, consistently.
    }
    rocksdb::WriteBatch batch;
    constexpr int kBatchRows = 4096;
    for (SparseTableFileReader& file : files) {
      COLONY_RETURN_IF_ERROR(file.ReadRows([&](uint64_t id, const float* values) -> Status {
        if (keep && !keep(id)) return OkStatus();
        Row row;
        row.values.assign(values, values + stride_);
        row.last_pass = pass_;
        if (!ssd_ || static_cast<int64_t>(loaded.size()) < options_.memory_rows) {
          if (!loaded.emplace(id, std::move(row)).second) return AlreadyExistsError("twice");
          return OkStatus();
        }
        batch.Put(SsdKey(id), Encode(row));
        ++ssd_count_;
        if (batch.Count() < kBatchRows) return OkStatus();
        Status written = FromRocks(ssd_->Write(rocksdb::WriteOptions(), &batch), "write");
        batch.Clear();
        return written;
      }));
    }
    if (batch.Count() > 0) {
      COLONY_RETURN_IF_ERROR(FromRocks(ssd_->Write(rocksdb::WriteOptions(), &batch), "write"));
    }
    memory_ = std::move(loaded);
    sightings_.clear();
    return OkStatus();
  }

  StatusOr<int64_t> EndPass() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++pass_;
    if (options_.ttl_passes == 0) return int64_t{0};
    const int64_t oldest_kept = pass_ - options_.ttl_passes;
    int64_t evicted = std::erase_if(
        memory_, [&](const auto& entry) { return entry.second.last_pass < oldest_kept; });
    if (ssd_) {
      rocksdb::WriteBatch batch;
      std::unique_ptr<rocksdb::Iterator> it(ssd_->NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        int64_t last_pass = 0;
        COLONY_RETURN_IF_ERROR(Decode(it->value(), nullptr, &last_pass));
        if (last_pass < oldest_kept) {
          batch.Delete(it->key());
          ++evicted;
          --ssd_count_;
        }
      }
      COLONY_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
      COLONY_RETURN_IF_ERROR(FromRocks(ssd_->Write(rocksdb::WriteOptions(), &batch), "evict"));
    }
    return evicted;
  }

  int64_t size() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(memory_.size()) + ssd_count_;
  }
  int64_t ssd_rows() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return ssd_count_;
  }
  int dim() const override { return options_.dim; }

 private:
  struct Row {
    std::vector<float> values;  // dim weights, then the optimizer state.
    int64_t last_pass = 0;      // The pass of the last training pull.
    uint64_t last_use = 0;      // Clock of the last pull or push, for the SSD tier's LRU.
  };

  SparseTableLayout Layout() const { return {options_, state_width_, optimizer_->name()}; }

  std::string Encode(const Row& row) const {
    std::string value(stride_ * sizeof(float) + sizeof(int64_t), '\0');
    std::memcpy(value.data(), row.values.data(), stride_ * sizeof(float));
    std::memcpy(value.data() + stride_ * sizeof(float), &row.last_pass, sizeof(int64_t));
    return value;
  }

  Status Decode(const rocksdb::Slice& value, float* values, int64_t* last_pass) const {
    if (value.size() != stride_ * sizeof(float) + sizeof(int64_t)) {
      return DataLossError("SSD tier: a row of " + std::to_string(value.size()) +
                           " bytes, expected " +
                           std::to_string(stride_ * sizeof(float) + sizeof(int64_t)));
    }
    if (values != nullptr) std::memcpy(values, value.data(), stride_ * sizeof(float));
    if (last_pass != nullptr) {
      std::memcpy(last_pass, value.data() + stride_ * sizeof(float), sizeof(int64_t));
    }
    return OkStatus();
  }

  // The row of `id` in memory, brought back from SSD if it is there, or created when
  // `admit` and the admission policy lets it in; nullptr otherwise.
  StatusOr<Row*> FindForTraining(uint64_t id, bool admit) {
    auto it = memory_.find(id);
    if (it != memory_.end()) {
      it->second.last_use = ++clock_;
      return &it->second;
    }
    if (ssd_) {
      std::string value;
      rocksdb::Status s = ssd_->Get(rocksdb::ReadOptions(), SsdKey(id), &value);
      if (s.ok()) {
        Row row;
        row.values.resize(stride_);
        COLONY_RETURN_IF_ERROR(Decode(value, row.values.data(), &row.last_pass));
        COLONY_RETURN_IF_ERROR(
            FromRocks(ssd_->Delete(rocksdb::WriteOptions(), SsdKey(id)), "delete"));
        --ssd_count_;
        row.last_use = ++clock_;
        return &memory_.emplace(id, std::move(row)).first->second;
      }
      if (!s.IsNotFound()) return FromRocks(s, "read");
    }
    if (!admit || !Admit(id)) return static_cast<Row*>(nullptr);
    return CreateRow(id);
  }

  Row* CreateRow(uint64_t id) {
    Row row;
    row.values.resize(stride_);
    InitializeRow(options_.initializer, options_.seed, id, row.values.data(), options_.dim);
    optimizer_->InitState(row.values.data() + options_.dim, options_.dim);
    row.last_pass = pass_;
    row.last_use = ++clock_;
    return &memory_.emplace(id, std::move(row)).first->second;
  }

  // The weights of `id` without changing where the row lives; nullptr when it has none.
  StatusOr<const float*> FindReadOnly(uint64_t id, std::vector<float>* scratch) {
    auto it = memory_.find(id);
    if (it != memory_.end()) return static_cast<const float*>(it->second.values.data());
    if (!ssd_) return static_cast<const float*>(nullptr);
    std::string value;
    rocksdb::Status s = ssd_->Get(rocksdb::ReadOptions(), SsdKey(id), &value);
    if (s.IsNotFound()) return static_cast<const float*>(nullptr);
    COLONY_RETURN_IF_ERROR(FromRocks(s, "read"));
    scratch->resize(stride_);
    COLONY_RETURN_IF_ERROR(Decode(value, scratch->data(), nullptr));
    return static_cast<const float*>(scratch->data());
  }

  // Counts a training pull of an id without a row; true when it may have one now.
  bool Admit(uint64_t id) {
    uint32_t& seen = sightings_[id];
    ++seen;
    const bool admitted =
        seen >= static_cast<uint32_t>(options_.admit_count) &&
        (options_.admit_probability >= 1.0f ||
         Uniform(options_.seed, id, seen) < static_cast<double>(options_.admit_probability));
    if (admitted) sightings_.erase(id);
    return admitted;
  }

  // Moves the least recently used rows to SSD until memory holds memory_rows at most; a
  // tenth of the cap goes at once, so the scan for the oldest is paid rarely.
  Status Spill() {
    if (!ssd_ || static_cast<int64_t>(memory_.size()) <= options_.memory_rows) return OkStatus();
    const size_t keep = static_cast<size_t>(options_.memory_rows - options_.memory_rows / 10);
    std::vector<std::pair<uint64_t, uint64_t>> by_use;  // (last_use, id)
    by_use.reserve(memory_.size());
    for (const auto& [id, row] : memory_) by_use.emplace_back(row.last_use, id);
    const size_t spill = memory_.size() - keep;
    std::nth_element(by_use.begin(), by_use.begin() + spill, by_use.end());
    rocksdb::WriteBatch batch;
    for (size_t k = 0; k < spill; ++k) {
      const uint64_t id = by_use[k].second;
      batch.Put(SsdKey(id), Encode(memory_.at(id)));
    }
    COLONY_RETURN_IF_ERROR(FromRocks(ssd_->Write(rocksdb::WriteOptions(), &batch), "write"));
    for (size_t k = 0; k < spill; ++k) memory_.erase(by_use[k].second);
    ssd_count_ += static_cast<int64_t>(spill);
    return OkStatus();
  }

  const SparseTableOptions options_;
  const std::unique_ptr<Optimizer> optimizer_;
  const int state_width_;
  const size_t stride_;
  mutable std::mutex mu_;  // Guards everything below.
  std::unordered_map<uint64_t, Row> memory_;
  std::unordered_map<uint64_t, uint32_t> sightings_;  // Training pulls of ids without a row.
  std::unique_ptr<rocksdb::DB> ssd_;
  int64_t ssd_count_ = 0;
  int64_t pass_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<SparseTable>> CreateTieredSparseTable(
    const SparseTableOptions& options, std::unique_ptr<Optimizer> optimizer) {
  auto table = std::make_unique<TieredSparseTable>(options, std::move(optimizer));
  COLONY_RETURN_IF_ERROR(table->OpenSsd());
  return std::unique_ptr<SparseTable>(std::move(table));
}

}  // namespace colony::ps::internal
