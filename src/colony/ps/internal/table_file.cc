#include "colony/ps/internal/table_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "colony/base/crc32.h"
#include "colony/base/file_util.h"

namespace colony::ps::internal {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;

Status ErrnoError(std::string_view what, const std::string& path) {
  return UnavailableError(std::string(what) + " '" + path + "': " + std::strerror(errno));
}

// Reads exactly n bytes at `offset`; false at an early end of file or an error (errno set).
bool PreadAll(int fd, char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

TableFileWriter::TableFileWriter(std::string path, std::string_view format)
    : path_(std::move(path)) {
  // Unique per writer, so two writers of one path in a process do not share a temporary.
  static std::atomic<uint64_t> counter{0};
  tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) status_ = ErrnoError("cannot create", tmp_);
  buffer_.reserve(kBufferBytes);
  Append(format.data(), format.size());
  Append("\n", 1);
}

TableFileWriter::~TableFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void TableFileWriter::PutString(std::string_view s) {
  Put(static_cast<uint32_t>(s.size()));
  Append(s.data(), s.size());
}

void TableFileWriter::Append(const void* data, size_t n) {
  const char* bytes = static_cast<const char*>(data);
  while (n > 0) {
    const size_t take = std::min(n, kBufferBytes - buffer_.size());
    buffer_.append(bytes, take);
    bytes += take;
    n -= take;
    if (buffer_.size() == kBufferBytes) Flush();
  }
}

void TableFileWriter::Flush() {
  if (status_.ok()) {
    crc_ = Crc32(buffer_, crc_);
    const char* data = buffer_.data();
    size_t left = buffer_.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status_ = ErrnoError("cannot write", tmp_);
        break;
      }
      data += n;
      left -= static_cast<size_t>(n);
    }
  }
  buffer_.clear();
}

Status TableFileWriter::Finish() {
  Flush();  // The checksum covers everything before it.
  const uint32_t crc = crc_;
  buffer_.append(reinterpret_cast<const char*>(&crc), sizeof(crc));
  Flush();
  if (status_.ok() && ::fsync(fd_) != 0) status_ = ErrnoError("cannot fsync", tmp_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (status_.ok() && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
    status_ = ErrnoError("cannot rename to", path_);
  }
  if (!status_.ok()) {
    ::unlink(tmp_.c_str());
    return status_;
  }
  return SyncDir(std::filesystem::path(path_).parent_path().string());
}

StatusOr<TableFileReader> TableFileReader::Open(const std::string& path, std::string_view format) {
  TableFileReader reader;
  reader.path_ = path;
  reader.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader.fd_ < 0) {
    if (errno == ENOENT) return NotFoundError("cannot open '" + path + "'; check that it exists");
    return ErrnoError("cannot open", path);
  }
  struct stat st;
  if (::fstat(reader.fd_, &st) != 0) return ErrnoError("cannot stat", path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  uint32_t stored = 0;
  if (size < sizeof(stored)) {
    return DataLossError(path + ": file is truncated (" + std::to_string(size) + " bytes)");
  }
  reader.end_ = size - sizeof(stored);
  // Pass one: the checksum of everything before the stored one.
  reader.buffer_.resize(kBufferBytes);
  uint32_t crc = 0;
  for (uint64_t at = 0; at < reader.end_;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBufferBytes, reader.end_ - at));
    if (!PreadAll(reader.fd_, reader.buffer_.data(), n, at)) return ErrnoError("cannot read", path);
    crc = Crc32(std::string_view(reader.buffer_.data(), n), crc);
    at += n;
  }
  if (!PreadAll(reader.fd_, reinterpret_cast<char*>(&stored), sizeof(stored), reader.end_)) {
    return ErrnoError("cannot read", path);
  }
  if (crc != stored) {
    return DataLossError(path + ": checksum mismatch; the file is corrupt or truncated");
  }
  // Pass two starts: the format line.
  std::string line(format.size() + 1, '\0');
  if (reader.remaining() < line.size() || !reader.Read(line.data(), line.size()).ok() ||
      line.back() != '\n' || std::string_view(line).substr(0, format.size()) != format) {
    return DataLossError(path + ": not a '" + std::string(format) + "' file");
  }
  return reader;
}

TableFileReader::TableFileReader(TableFileReader&& other) noexcept { *this = std::move(other); }

TableFileReader& TableFileReader::operator=(TableFileReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    end_ = other.end_;
    offset_ = other.offset_;
    buffer_ = std::move(other.buffer_);
    buffer_pos_ = other.buffer_pos_;
    buffer_len_ = other.buffer_len_;
  }
  return *this;
}

TableFileReader::~TableFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status TableFileReader::Fill() {
  const uint64_t file_at = offset_;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), end_ - file_at));
  if (!PreadAll(fd_, buffer_.data(), n, file_at)) return ErrnoError("cannot read", path_);
  buffer_pos_ = 0;
  buffer_len_ = n;
  return OkStatus();
}

Status TableFileReader::Read(void* out, size_t n) {
  if (remaining() < n) return DataLossError(path_ + ": payload ends early");
  char* dst = static_cast<char*>(out);
  while (n > 0) {
    if (buffer_pos_ == buffer_len_) COLONY_RETURN_IF_ERROR(Fill());
    const size_t take = std::min(n, buffer_len_ - buffer_pos_);
    std::memcpy(dst, buffer_.data() + buffer_pos_, take);
    buffer_pos_ += take;
    offset_ += take;
    dst += take;
    n -= take;
  }
  return OkStatus();
}

Status TableFileReader::GetString(std::string* s) {
  uint32_t size = 0;
  COLONY_RETURN_IF_ERROR(Get(&size));
  if (remaining() < size) return DataLossError(path_ + ": payload ends early");
  s->resize(size);
  return Read(s->data(), size);
}

}  // namespace colony::ps::internal
