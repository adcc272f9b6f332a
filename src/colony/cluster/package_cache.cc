#include "colony/cluster/package_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "colony/base/crc32.h"
#include "colony/base/file_util.h"

namespace colony::cluster {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "COLPKG1\n";
constexpr std::string_view kTrailer = "END!";
constexpr std::string_view kArchiveName = "package.colpkg";

// FNV-1a, 64 bits, over 8-byte words (the tail byte by byte), with a final mix so every
// input bit reaches every output bit. Fast, not cryptographic.
struct Fnv64 {
  static constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t h = 1469598103934665603ull;
  void Add(std::string_view data) {
    size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
      uint64_t word;
      std::memcpy(&word, data.data() + i, 8);
      h = (h ^ word) * kPrime;
    }
    for (; i < data.size(); ++i) h = (h ^ static_cast<unsigned char>(data[i])) * kPrime;
  }
  void AddU64(uint64_t v) { Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof(v))); }
  uint64_t Final() const {
    uint64_t x = h;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
  }
};

struct FileEntry {
  std::string relative;  // Generic form, "/" separated.
  uint64_t size = 0;
};

// The regular files under `dir`, sorted by relative path.
StatusOr<std::vector<FileEntry>> ListFiles(const fs::path& dir) {
  std::vector<FileEntry> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return NotFoundError(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return UnavailableError(fmt::format("listing {}: {}", dir.string(), ec.message()));
    const fs::file_status st = it->symlink_status();
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) {
      return InvalidArgumentError(fmt::format(
          "{}: dependencies may hold only regular files and folders (a {} is not allowed)",
          it->path().string(), fs::is_symlink(st) ? "symbolic link" : "special file"));
    }
    files.push_back({it->path().lexically_relative(dir).generic_string(),
                     static_cast<uint64_t>(it->file_size())});
  }
  std::sort(files.begin(), files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.relative < b.relative; });
  return files;
}

class DirLock {
 public:
  static StatusOr<std::unique_ptr<DirLock>> Acquire(const std::string& path) {
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
      return UnavailableError(
          fmt::format("cannot open lock file {}: {}", path, std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return UnavailableError(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    }
    return std::unique_ptr<DirLock>(new DirLock(fd));
  }
  ~DirLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

void AppendU64(std::string& out, uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

// Packs `files` of `source` into `archive`: magic, then per file its path length, path, size
// and bytes, then "END!" and the CRC-32 of everything before it.
Status WriteArchive(const fs::path& source, const std::vector<FileEntry>& files,
                    const std::string& archive) {
  std::ofstream out(archive, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError("cannot write " + archive);
  uint32_t crc = 0;
  auto put = [&](std::string_view data) {
    crc = Crc32(data, crc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  };
  put(kMagic);
  for (const FileEntry& f : files) {
    const std::string path = (source / f.relative).string();
    COLONY_ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
    std::string header;
    AppendU64(header, f.relative.size());
    header += f.relative;
    AppendU64(header, contents.size());
    put(header);
    put(contents);
  }
  put(kTrailer);
  out.write(reinterpret_cast<const char*>(&crc), sizeof(crc));
  out.flush();
  if (!out) return UnavailableError("cannot write " + archive);
  return OkStatus();
}

// Reads and checks `archive`; DataLoss when it is truncated or its checksum does not match.
StatusOr<std::string> ReadArchive(const std::string& archive) {
  COLONY_ASSIGN_OR_RETURN(std::string data, ReadFile(archive));
  const size_t tail = kTrailer.size() + sizeof(uint32_t);
  if (data.size() < kMagic.size() + tail || data.compare(0, kMagic.size(), kMagic) != 0 ||
      data.compare(data.size() - tail, kTrailer.size(), kTrailer) != 0) {
    return DataLossError(archive + ": not a complete package (bad header or trailer)");
  }
  uint32_t stored = 0;
  std::memcpy(&stored, data.data() + data.size() - sizeof(stored), sizeof(stored));
  const uint32_t actual = Crc32(std::string_view(data).substr(0, data.size() - sizeof(stored)));
  if (stored != actual) {
    return DataLossError(fmt::format("{}: checksum mismatch (stored {:08x}, actual {:08x})",
                                     archive, stored, actual));
  }
  data.resize(data.size() - tail);
  return data;
}

// Writes the files of a checked archive's `data` under `dest`.
Status Unpack(const std::string& data, const std::string& archive, const fs::path& dest) {
  size_t pos = kMagic.size();
  auto read_u64 = [&](uint64_t* v) {
    if (data.size() - pos < sizeof(*v)) return false;
    std::memcpy(v, data.data() + pos, sizeof(*v));
    pos += sizeof(*v);
    return true;
  };
  while (pos < data.size()) {
    uint64_t name_len = 0, size = 0;
    if (!read_u64(&name_len) || data.size() - pos < name_len) {
      return DataLossError(fmt::format("{}: truncated record at byte {}", archive, pos));
    }
    const fs::path name = fs::path(data.substr(pos, name_len)).lexically_normal();
    pos += name_len;
    if (name.empty() || name.is_absolute() || *name.begin() == "..") {
      return DataLossError(
          fmt::format("{}: file name '{}' leaves the package", archive, name.string()));
    }
    if (!read_u64(&size) || data.size() - pos < size) {
      return DataLossError(fmt::format("{}: truncated file '{}'", archive, name.string()));
    }
    const fs::path target = dest / name;
    COLONY_RETURN_IF_ERROR(MakeDirs(target.parent_path().string()));
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(data.data() + pos, static_cast<std::streamsize>(size));
    if (!out) return UnavailableError("cannot write " + target.string());
    pos += size;
  }
  return OkStatus();
}

// Whether `files_dir` still holds `fp.files` files of `fp.bytes` bytes in all (a cheap check
// of the unpacked copy; the archive itself is checked by its checksum).
bool UnpackedMatches(const fs::path& files_dir, const PackageFingerprint& fp) {
  std::error_code ec;
  if (!fs::is_directory(files_dir, ec)) return false;
  auto files = ListFiles(files_dir);
  if (!files.ok()) return false;
  uint64_t bytes = 0;
  for (const FileEntry& f : *files) bytes += f.size;
  return static_cast<int>(files->size()) == fp.files && bytes == fp.bytes;
}

// The checked sub-directory: InvalidArgument/NotFound naming it as the header says.
StatusOr<std::pair<fs::path, std::string>> ResolveSubDirectory(const std::string& job_root,
                                                               const std::string& sub) {
  if (sub.empty()) return InvalidArgumentError("dependencies: the sub-directory is empty");
  const fs::path rel = fs::path(sub).lexically_normal();
  if (rel.is_absolute()) {
    return InvalidArgumentError(fmt::format(
        "dependencies '{}': must be a path relative to the job root {}", sub, job_root));
  }
  if (!rel.empty() && *rel.begin() == "..") {
    return InvalidArgumentError(
        fmt::format("dependencies '{}': escapes the job root {}", sub, job_root));
  }
  const fs::path full = fs::path(job_root) / rel;
  std::error_code ec;
  const fs::file_status st = fs::status(full, ec);
  if (!fs::exists(st)) {
    return NotFoundError(fmt::format("dependencies '{}': {} does not exist", sub, full.string()));
  }
  if (!fs::is_directory(st)) {
    return InvalidArgumentError(
        fmt::format("dependencies '{}': {} is a file, not a directory", sub, full.string()));
  }
  // A symbolic link on the way may still lead outside the root.
  const fs::path root_real = fs::canonical(job_root, ec);
  const fs::path full_real = fs::canonical(full, ec);
  if (ec) return NotFoundError(fmt::format("dependencies '{}': {}", sub, ec.message()));
  const std::string inside = full_real.lexically_relative(root_real).generic_string();
  if (inside.empty() || inside.starts_with("..")) {
    return InvalidArgumentError(fmt::format(
        "dependencies '{}': {} resolves outside the job root {}", sub, full.string(), job_root));
  }
  std::string name = rel.generic_string();
  while (name.size() > 1 && name.ends_with('/')) name.pop_back();
  return std::make_pair(full, name);
}

bool HasSeparator(std::string_view s) { return s.find_first_of("\t\n\r") != s.npos; }

}  // namespace

StatusOr<PackageFingerprint> FingerprintDirectory(const std::string& dir) {
  COLONY_ASSIGN_OR_RETURN(std::vector<FileEntry> files, ListFiles(dir));
  Fnv64 hash;
  PackageFingerprint fp;
  for (const FileEntry& f : files) {
    COLONY_ASSIGN_OR_RETURN(std::string contents, ReadFile((fs::path(dir) / f.relative).string()));
    hash.Add(f.relative);
    hash.Add(std::string_view("\0", 1));
    hash.AddU64(contents.size());
    hash.Add(contents);
    fp.files += 1;
    fp.bytes += contents.size();
  }
  fp.hex = fmt::format("{:016x}", hash.Final());
  return fp;
}

StatusOr<std::unique_ptr<PackageCache>> PackageCache::Open(const PackageCacheOptions& options) {
  if (options.dir.empty()) return InvalidArgumentError("package cache: dir is required");
  COLONY_RETURN_IF_ERROR(MakeDirs(options.dir + "/entries"));
  COLONY_RETURN_IF_ERROR(MakeDirs(options.dir + "/tmp"));
  return std::unique_ptr<PackageCache>(new PackageCache(options));
}

std::string PackageCache::IndexPath() const { return options_.dir + "/index.tsv"; }

StatusOr<PreparedPackage> PackageCache::Prepare(const std::string& job_root,
                                                const std::string& sub_directory,
                                                const std::string& task_id) {
  const auto start = std::chrono::steady_clock::now();
  if (task_id.empty() || HasSeparator(task_id)) {
    return InvalidArgumentError(fmt::format(
        "package cache: task id '{}' must be non-empty, without tabs or newlines", task_id));
  }
  COLONY_ASSIGN_OR_RETURN(auto resolved, ResolveSubDirectory(job_root, sub_directory));
  const auto& [source, name] = resolved;
  if (HasSeparator(name)) {
    return InvalidArgumentError(
        fmt::format("dependencies '{}': tabs and newlines are not allowed", sub_directory));
  }
  PreparedPackage p;
  p.sub_directory = name;
  COLONY_ASSIGN_OR_RETURN(p.fingerprint, FingerprintDirectory(source.string()));

  Fnv64 key;
  key.Add(name);
  key.Add(std::string_view("\0", 1));
  key.Add(p.fingerprint.hex);
  const fs::path entry = fs::path(options_.dir) / "entries" / fmt::format("{:016x}", key.Final());
  p.archive_path = (entry / kArchiveName).string();
  p.unpacked_dir = (entry / "files").string();

  COLONY_ASSIGN_OR_RETURN(auto lock, DirLock::Acquire(options_.dir + "/lock"));
  std::error_code ec;
  if (fs::exists(entry, ec)) {
    auto stored = ReadArchive(p.archive_path);
    if (stored.ok() && UnpackedMatches(p.unpacked_dir, p.fingerprint)) {
      p.hit = true;
    } else {
      std::fprintf(stderr, "package cache: entry of '%s' is corrupt (%s); rebuilding it\n",
                   name.c_str(),
                   stored.ok() ? "its unpacked files changed" : stored.status().ToString().c_str());
      p.rebuilt_corrupt = true;
    }
  }
  if (!p.hit) {
    static std::atomic<int> counter{0};
    const fs::path tmp = fs::path(options_.dir) / "tmp" /
                         fmt::format("{}-{}-{}", entry.filename().string(), ::getpid(), ++counter);
    fs::remove_all(tmp, ec);
    COLONY_RETURN_IF_ERROR(MakeDirs(tmp.string()));
    const std::string tmp_archive = (tmp / kArchiveName).string();
    COLONY_ASSIGN_OR_RETURN(std::vector<FileEntry> files, ListFiles(source));
    COLONY_RETURN_IF_ERROR(WriteArchive(source, files, tmp_archive));
    // Unpack from the written archive, so the workers' files are what the package holds.
    COLONY_ASSIGN_OR_RETURN(std::string data, ReadArchive(tmp_archive));
    COLONY_RETURN_IF_ERROR(Unpack(data, tmp_archive, tmp / "files"));
    fs::remove_all(entry, ec);
    fs::rename(tmp, entry, ec);
    if (ec) {
      return UnavailableError(
          fmt::format("cannot move {} to {}: {}", tmp.string(), entry.string(), ec.message()));
    }
    COLONY_RETURN_IF_ERROR(SyncDir((fs::path(options_.dir) / "entries").string()));
  }

  std::string index;
  if (PathExists(IndexPath())) {
    COLONY_ASSIGN_OR_RETURN(index, ReadFile(IndexPath()));
  }
  index += fmt::format("{}\t{}\t{}\t{}\n", task_id, name, p.fingerprint.hex,
                       p.hit ? "hit" : (p.rebuilt_corrupt ? "rebuilt" : "miss"));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(IndexPath(), index));
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

StatusOr<std::vector<PackageSubmission>> PackageCache::ReadIndex() const {
  std::vector<PackageSubmission> out;
  if (!PathExists(IndexPath())) return out;
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(IndexPath()));
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::vector<std::string> fields;
    size_t f = 0;
    while (true) {
      const size_t tab = line.find('\t', f);
      fields.push_back(line.substr(f, tab == std::string::npos ? std::string::npos : tab - f));
      if (tab == std::string::npos) break;
      f = tab + 1;
    }
    if (fields.size() != 4) {
      return DataLossError(fmt::format("{}:{}: expected 4 tab-separated fields, got {}",
                                       IndexPath(), line_no, fields.size()));
    }
    out.push_back({fields[0], fields[1], fields[2], fields[3]});
  }
  return out;
}

}  // namespace colony::cluster
