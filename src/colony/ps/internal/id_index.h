// An open-addressing hash map from uint64 id to a row number, for the sparse tables' shards:
// linear probing over parallel key/value arrays, grown at half load. Faster than
// std::unordered_map for this one use (no node per entry, no pointer chasing).
// Not thread-safe; the shard's mutex guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace colony::ps::internal {

class IdIndex {
 public:
  static constexpr uint32_t kNone = ~0u;

  // The row of `id`, or kNone.
  uint32_t Find(uint64_t id) const {
    if (rows_.empty()) return kNone;
    for (size_t h = Slot(id);; h = (h + 1) & mask_) {
      if (rows_[h] == kNone) return kNone;
      if (keys_[h] == id) return rows_[h];
    }
  }

  // The row of `id`; when absent, inserts it with row `next_row` and sets *inserted.
  uint32_t FindOrInsert(uint64_t id, uint32_t next_row, bool* inserted) {
    if (2 * (size_ + 1) > rows_.size()) Grow();
    size_t h = Slot(id);
    for (; rows_[h] != kNone; h = (h + 1) & mask_) {
      if (keys_[h] == id) {
        *inserted = false;
        return rows_[h];
      }
    }
    keys_[h] = id;
    rows_[h] = next_row;
    ++size_;
    *inserted = true;
    return next_row;
  }

  size_t size() const { return size_; }

  // Calls fn(id, row) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t h = 0; h < rows_.size(); ++h) {
      if (rows_[h] != kNone) fn(keys_[h], rows_[h]);
    }
  }

 private:
  size_t Slot(uint64_t id) const {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 17) & mask_;
  }

  void Grow() {
    std::vector<uint64_t> keys = std::move(keys_);
    std::vector<uint32_t> rows = std::move(rows_);
    const size_t capacity = rows.empty() ? 1024 : 2 * rows.size();
    keys_.assign(capacity, 0);
    rows_.assign(capacity, kNone);
    mask_ = capacity - 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i] == kNone) continue;
      size_t h = Slot(keys[i]);
      while (rows_[h] != kNone) h = (h + 1) & mask_;
      keys_[h] = keys[i];
      rows_[h] = rows[i];
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> rows_;  // kNone marks an empty slot.
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace colony::ps::internal
