// Storage for the rows of one sparse-table shard: rows of `stride` floats numbered 0, 1, ...
// in blocks that double in size (16, 32, 64, ... rows). Unlike one growing vector, a
// large shard never copies its rows to grow and a row's address never changes; like one, a
// small shard wastes at most half of its last block. Not thread-safe; the shard's mutex
// guards it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace colony::ps::internal {

class RowArena {
 public:
  explicit RowArena(size_t stride) : stride_(stride) {}

  uint32_t size() const { return size_; }

  float* row(uint32_t r) {
    const uint64_t shifted = uint64_t{r} + kFirstBlockRows;
    const int block = std::bit_width(shifted) - 1 - kFirstBlockShift;
    const uint64_t offset = shifted - (uint64_t{1} << (block + kFirstBlockShift));
    return blocks_[block].get() + offset * stride_;
  }
  const float* row(uint32_t r) const { return const_cast<RowArena*>(this)->row(r); }

  // Adds a row with unspecified contents and returns its number.
  uint32_t Append() {
    const uint64_t shifted = uint64_t{size_} + kFirstBlockRows;
    const size_t block = std::bit_width(shifted) - 1 - kFirstBlockShift;
    if (block == blocks_.size()) {
      const size_t rows = size_t{1} << (block + kFirstBlockShift);
      blocks_.push_back(std::make_unique_for_overwrite<float[]>(rows * stride_));
    }
    return size_++;
  }

 private:
  static constexpr int kFirstBlockShift = 4;
  static constexpr uint64_t kFirstBlockRows = uint64_t{1} << kFirstBlockShift;

  size_t stride_;
  uint32_t size_ = 0;
  std::vector<std::unique_ptr<float[]>> blocks_;  // Block b holds 16 << b rows.
};

}  // namespace colony::ps::internal
