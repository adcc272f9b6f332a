// The on-disk form of a table: a format name line, a header of fields, the payload, and a
// CRC-32 of all of it at the end. Written atomically; a torn or edited file is DataLoss.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony::ps::internal {

class TableFileWriter {
 public:
  explicit TableFileWriter(std::string_view format);
  template <typename T>
  void Put(const T& value) {
    buffer_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void PutString(std::string_view s);
  void PutFloats(const float* data, size_t n);
  void PutBytes(std::string_view bytes) { buffer_.append(bytes); }
  // Appends the checksum and writes the file with WriteFileAtomic.
  Status Finish(const std::string& path);

 private:
  std::string buffer_;
};

class TableFileReader {
 public:
  // NotFound when missing; DataLoss when the checksum or the format name is wrong.
  static StatusOr<TableFileReader> Open(const std::string& path, std::string_view format);
  // DataLoss when the payload ends early.
  template <typename T>
  Status Get(T* value) {
    COLONY_RETURN_IF_ERROR(Need(sizeof(T)));
    std::memcpy(value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return OkStatus();
  }
  Status GetString(std::string* s);
  Status GetFloats(float* data, size_t n);
  const std::string& path() const { return path_; }
  size_t remaining() const { return data_.size() - pos_; }  // Payload bytes not read yet.

 private:
  Status Need(size_t bytes) const;
  std::string path_;
  std::string data_;  // Without the checksum.
  size_t pos_ = 0;
};

}  // namespace colony::ps::internal
