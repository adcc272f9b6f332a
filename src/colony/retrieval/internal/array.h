// A flat array that either owns its elements or views a memory-mapped file (copy-on-write,
// so in-place updates of a loaded index stay private). Growing it turns a view into a copy.
#pragma once

#include <cstddef>
#include <vector>

namespace colony::retrieval::internal {

template <typename T>
class Array {
 public:
  Array() = default;
  explicit Array(std::vector<T> values) { Assign(std::move(values)); }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
  Array(Array&&) = default;
  Array& operator=(Array&&) = default;

  void Assign(std::vector<T> values) {
    owned_ = std::move(values);
    data_ = owned_.data();
    size_ = owned_.size();
  }
  // Views `size` elements at `data`; the caller keeps the mapping alive.
  void View(T* data, size_t size) {
    owned_.clear();
    data_ = data;
    size_ = size;
  }
  // Keeps the first min(size(), new_size) elements; new ones are `fill`.
  void Resize(size_t new_size, T fill) {
    if (data_ != owned_.data()) owned_.assign(data_, data_ + size_);
    owned_.resize(new_size, fill);
    data_ = owned_.data();
    size_ = new_size;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  std::vector<T> owned_;
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace colony::retrieval::internal
