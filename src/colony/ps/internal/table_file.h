// The on-disk form of a table: a format name line, a header of fields, the payload, and a
// CRC-32 of all of it at the end. Both directions stream through a small buffer, so a file
// larger than memory can be written and read. Written atomically (temporary file, fsync,
// rename); a torn or edited file is DataLoss naming it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"

namespace colony::ps::internal {

// Writes `path` through a temporary file beside it; Finish() renames it into place. Destroyed
// without Finish(), the temporary file is removed and `path` is untouched.
class TableFileWriter {
 public:
  TableFileWriter(std::string path, std::string_view format);
  ~TableFileWriter();
  TableFileWriter(const TableFileWriter&) = delete;
  TableFileWriter& operator=(const TableFileWriter&) = delete;

  template <typename T>
  void Put(const T& value) {
    Append(&value, sizeof(T));
  }
  void PutString(std::string_view s);
  void PutFloats(const float* data, size_t n) { Append(data, n * sizeof(float)); }
  void PutBytes(std::string_view bytes) { Append(bytes.data(), bytes.size()); }
  // Appends the checksum, fsyncs and renames the file into place. Returns the first error
  // of any write (Unavailable naming the file), or OK.
  Status Finish();

 private:
  void Append(const void* data, size_t n);
  void Flush();

  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  Status status_;  // The first error; later writes are skipped.
  std::string buffer_;
  uint32_t crc_ = 0;
};

// Reads a file written by TableFileWriter. Open() checks the checksum over the whole file
// first (one streaming pass), so every byte handed out afterwards was verified.
class TableFileReader {
 public:
  // NotFound when missing; DataLoss naming the file when it is truncated, its checksum does
  // not match, or its format line is not `format`.
  static StatusOr<TableFileReader> Open(const std::string& path, std::string_view format);
  TableFileReader(TableFileReader&& other) noexcept;
  TableFileReader& operator=(TableFileReader&& other) noexcept;
  ~TableFileReader();

  // DataLoss naming the file when the payload ends early.
  template <typename T>
  Status Get(T* value) {
    return Read(value, sizeof(T));
  }
  Status GetString(std::string* s);
  Status GetFloats(float* data, size_t n) { return Read(data, n * sizeof(float)); }
  const std::string& path() const { return path_; }
  uint64_t remaining() const { return end_ - offset_; }  // Payload bytes not read yet.

 private:
  TableFileReader() = default;
  Status Read(void* out, size_t n);
  Status Fill();  // Refills buffer_ from the file at offset_.

  std::string path_;
  int fd_ = -1;
  uint64_t end_ = 0;     // Where the payload ends (the checksum's offset).
  uint64_t offset_ = 0;  // File offset of the next unread byte.
  std::vector<char> buffer_;
  size_t buffer_pos_ = 0, buffer_len_ = 0;
};

}  // namespace colony::ps::internal
