// An open-addressing hash map from uint64 id to a row number, for the sparse tables' shards:
// linear probing over slots that hold key and row together (one cache line per probe), grown
// at half load. Faster than std::unordered_map for this one use (no node per entry, no
// pointer chasing, no division). Not thread-safe; the shard's mutex guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace colony::ps::internal {

// Which of `n` lock stripes holds `id`: a multiplicative hash scaled to [0, n) without a
// division. Hashing (rather than id % n) keeps the stripes balanced even when every id a
// server sees has the same residue modulo the number of servers.
inline uint32_t StripeOf(uint64_t id, uint32_t n) {
  const uint64_t h = (id * 0xD6E8FEB86659FD93ull) >> 32;
  return static_cast<uint32_t>((h * n) >> 32);
}

class IdIndex {
 public:
  static constexpr uint32_t kNone = ~0u;

  // The row of `id`, or kNone.
  uint32_t Find(uint64_t id) const {
    if (slots_.empty()) return kNone;
    for (size_t h = Slot(id);; h = (h + 1) & mask_) {
      const Entry& e = slots_[h];
      if (e.row == kNone) return kNone;
      if (e.id == id) return e.row;
    }
  }

  // Hints the CPU to fetch the slot `id` starts probing at: a batch lookup prefetches a few
  // ids ahead so that the cache misses of consecutive lookups overlap.
  void Prefetch(uint64_t id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Slot(id)]);
  }

  // The row of `id`; when absent, inserts it with row `next_row` and sets *inserted.
  uint32_t FindOrInsert(uint64_t id, uint32_t next_row, bool* inserted) {
    if (2 * (size_ + 1) > slots_.size()) Grow();
    size_t h = Slot(id);
    for (; slots_[h].row != kNone; h = (h + 1) & mask_) {
      if (slots_[h].id == id) {
        *inserted = false;
        return slots_[h].row;
      }
    }
    slots_[h] = {id, next_row};
    ++size_;
    *inserted = true;
    return next_row;
  }

  size_t size() const { return size_; }

  // Makes room for `n` entries without growing again.
  void Reserve(size_t n) {
    while (2 * n > slots_.size()) Grow();
  }

  // Calls fn(id, row) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Entry& e : slots_) {
      if (e.row != kNone) fn(e.id, e.row);
    }
  }

 private:
  struct Entry {
    uint64_t id;
    uint32_t row;  // kNone marks an empty slot.
  };

  size_t Slot(uint64_t id) const {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 17) & mask_;
  }

  void Grow() {
    std::vector<Entry> old = std::move(slots_);
    const size_t capacity = old.empty() ? 64 : 2 * old.size();
    slots_.assign(capacity, Entry{0, kNone});
    mask_ = capacity - 1;
    for (const Entry& e : old) {
      if (e.row == kNone) continue;
      size_t h = Slot(e.id);
      while (slots_[h].row != kNone) h = (h + 1) & mask_;
      slots_[h] = e;
    }
  }

  std::vector<Entry> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace colony::ps::internal
