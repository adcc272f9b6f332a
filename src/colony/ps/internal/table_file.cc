#include "colony/ps/internal/table_file.h"

#include "colony/base/crc32.h"
#include "colony/base/file_util.h"

namespace colony::ps::internal {

TableFileWriter::TableFileWriter(std::string_view format) {
  buffer_.append(format);
  buffer_.push_back('\n');
}

void TableFileWriter::PutString(std::string_view s) {
  Put(static_cast<uint32_t>(s.size()));
  buffer_.append(s);
}

void TableFileWriter::PutFloats(const float* data, size_t n) {
  buffer_.append(reinterpret_cast<const char*>(data), n * sizeof(float));
}

Status TableFileWriter::Finish(const std::string& path) {
  const uint32_t crc = Crc32(buffer_);
  Put(crc);
  return WriteFileAtomic(path, buffer_);
}

StatusOr<TableFileReader> TableFileReader::Open(const std::string& path, std::string_view format) {
  COLONY_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  uint32_t stored = 0;
  if (data.size() < sizeof(stored)) return DataLossError(path + ": file is truncated");
  std::memcpy(&stored, data.data() + data.size() - sizeof(stored), sizeof(stored));
  data.resize(data.size() - sizeof(stored));
  if (Crc32(data) != stored) {
    return DataLossError(path + ": checksum mismatch; the file is corrupt or truncated");
  }
  const size_t newline = data.find('\n');
  if (newline == std::string::npos || std::string_view(data).substr(0, newline) != format) {
    return DataLossError(path + ": not a '" + std::string(format) + "' file");
  }
  TableFileReader reader;
  reader.path_ = path;
  reader.data_ = std::move(data);
  reader.pos_ = newline + 1;
  return reader;
}

Status TableFileReader::Need(size_t bytes) const {
  if (data_.size() - pos_ < bytes) return DataLossError(path_ + ": payload ends early");
  return OkStatus();
}

Status TableFileReader::GetString(std::string* s) {
  uint32_t size = 0;
  COLONY_RETURN_IF_ERROR(Get(&size));
  COLONY_RETURN_IF_ERROR(Need(size));
  s->assign(data_.data() + pos_, size);
  pos_ += size;
  return OkStatus();
}

Status TableFileReader::GetFloats(float* data, size_t n) {
  COLONY_RETURN_IF_ERROR(Need(n * sizeof(float)));
  std::memcpy(data, data_.data() + pos_, n * sizeof(float));
  pos_ += n * sizeof(float);
  return OkStatus();
}

}  // namespace colony::ps::internal
