#include "colony/retrieval/vector_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace colony::retrieval {
namespace {

// Whole file, gunzipped when it is gzip data (zlib reads plain files unchanged).
StatusOr<std::string> ReadMaybeGzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return NotFoundError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  gzbuffer(file, 1 << 20);
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    const int got = gzread(file, chunk, sizeof(chunk));
    if (got < 0) return InvalidArgumentError(path + ": not readable as plain or gzip data");
    if (got == 0) break;
    bytes.append(chunk, static_cast<size_t>(got));
  }
  if (bytes.empty()) return InvalidArgumentError(path + ": empty file, no vectors in it");
  return bytes;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Rejects a set whose dimension differs from the one the caller expects.
Status CheckDim(const std::string& path, const VectorSet& set, int64_t expected) {
  if (expected > 0 && set.dim != expected) {
    return InvalidArgumentError(path + ": vectors have dimension " + std::to_string(set.dim) +
                                ", expected " + std::to_string(expected));
  }
  return OkStatus();
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// fvecs / ivecs: records of [int32 d][d x 4 bytes].
template <typename V>
StatusOr<VectorSet> ParseVecs(const std::string& path, const std::string& bytes, int64_t limit) {
  VectorSet set;
  size_t pos = 0;
  while (pos < bytes.size() && (limit <= 0 || set.n < limit)) {
    if (bytes.size() - pos < 4) {
      return InvalidArgumentError(path + ": record " + std::to_string(set.n) +
                                  " is truncated (no room for its dimension)");
    }
    const int32_t d = Load<int32_t>(bytes.data() + pos);
    if (d <= 0 || d > (1 << 24)) {
      return InvalidArgumentError(path + ": record " + std::to_string(set.n) + " has dimension " +
                                  std::to_string(d) + "; is this a " +
                                  (sizeof(V) == 4 ? "fvecs/ivecs" : "") + " file?");
    }
    if (set.n == 0) set.dim = d;
    if (d != set.dim) {
      return InvalidArgumentError(path + ": record " + std::to_string(set.n) + " has dimension " +
                                  std::to_string(d) + ", the first has " + std::to_string(set.dim));
    }
    pos += 4;
    if (bytes.size() - pos < size_t{4} * static_cast<size_t>(d)) {
      return InvalidArgumentError(path + ": record " + std::to_string(set.n) + " is truncated");
    }
    for (int32_t i = 0; i < d; ++i, pos += 4) {
      set.data.push_back(static_cast<float>(Load<V>(bytes.data() + pos)));
    }
    ++set.n;
  }
  return set;
}

// A value of the npy header's dictionary, e.g. Field(h, "descr") -> "'<f4'".
std::string NpyField(const std::string& header, const std::string& key) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t v = header.find(':', k);
  if (v == std::string::npos) return "";
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  const char open = header[v];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, v + 1);
  if (end == std::string::npos) return "";
  return header.substr(v, end - v + (close == ',' ? 0 : 1));
}

StatusOr<VectorSet> ParseNpy(const std::string& path, const std::string& bytes, int64_t limit) {
  auto bad = [&](const std::string& what) {
    return InvalidArgumentError(path + ": bad .npy header: " + what);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    return bad("no \\x93NUMPY magic at the start");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("file ends inside the header");
    header_len = Load<uint32_t>(bytes.data() + 8);
    offset = 12;
  } else {
    return bad("version " + std::to_string(major) + " is not 1, 2 or 3");
  }
  if (bytes.size() < offset + header_len) return bad("file ends inside the header");
  const std::string header = bytes.substr(offset, header_len);
  const std::string descr = NpyField(header, "descr");
  const std::string fortran = NpyField(header, "fortran_order");
  const std::string shape = NpyField(header, "shape");
  if (fortran.find("False") == std::string::npos) {
    return bad("fortran_order must be False (save a C-order array)");
  }
  int width = 0;
  if (descr == "'<f4'" || descr == "'<i4'") width = 4;
  if (descr == "'<f8'" || descr == "'<i8'") width = 8;
  if (descr == "'|u1'" || descr == "'u1'") width = 1;
  if (width == 0) return bad("dtype " + descr + " is not one of <f4 <f8 |u1 <i4 <i8");
  int64_t dims[2];
  int count = 0;
  for (size_t p = 1; p < shape.size() && count < 3;) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size() || shape[p] == ')') break;
    int64_t v = 0;
    auto [next, ec] = std::from_chars(shape.data() + p, shape.data() + shape.size(), v);
    if (ec != std::errc()) return bad("shape " + shape + " is not a tuple of integers");
    if (count < 2) dims[count] = v;
    ++count;
    p = static_cast<size_t>(next - shape.data());
  }
  if (count != 2) return bad("shape " + shape + " is not 2-D (vectors x dimension)");
  VectorSet set;
  set.n = limit > 0 ? std::min(dims[0], limit) : dims[0];
  set.dim = dims[1];
  if (set.n <= 0 || set.dim <= 0) {
    return InvalidArgumentError(path + ": shape " + shape + " holds no vectors");
  }
  const size_t data_offset = offset + header_len;
  // The shape comes from the file: its product must not overflow before it is compared.
  uint64_t need = 0;
  if (dims[0] <= 0 || __builtin_mul_overflow(static_cast<uint64_t>(dims[0]),
                                             static_cast<uint64_t>(dims[1]), &need) ||
      __builtin_mul_overflow(need, static_cast<uint64_t>(width), &need)) {
    return InvalidArgumentError(path + ": shape " + shape + " is too large for any file");
  }
  if (bytes.size() - data_offset < need) {
    return InvalidArgumentError(path + ": data is truncated: shape " + shape + " needs " +
                                std::to_string(need) + " bytes, the file has " +
                                std::to_string(bytes.size() - data_offset));
  }
  set.data.resize(static_cast<size_t>(set.n * set.dim));
  const char* p = bytes.data() + data_offset;
  for (size_t i = 0; i < set.data.size(); ++i, p += width) {
    if (descr == "'<f4'") set.data[i] = Load<float>(p);
    if (descr == "'<f8'") set.data[i] = static_cast<float>(Load<double>(p));
    if (descr == "'<i4'") set.data[i] = static_cast<float>(Load<int32_t>(p));
    if (descr == "'<i8'") set.data[i] = static_cast<float>(Load<int64_t>(p));
    if (width == 1) set.data[i] = static_cast<unsigned char>(*p);
  }
  return set;
}

StatusOr<VectorSet> ParseCsv(const std::string& path, const std::string& bytes, int64_t limit) {
  VectorSet set;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < bytes.size() && (limit <= 0 || set.n < limit)) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    ++line_no;
    std::string_view line(bytes.data() + pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    int64_t fields = 0;
    size_t p = 0;
    for (;;) {
      size_t comma = line.find(',', p);
      if (comma == std::string_view::npos) comma = line.size();
      std::string_view field = line.substr(p, comma - p);
      while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) {
        field.remove_prefix(1);
      }
      while (!field.empty() && (field.back() == ' ' || field.back() == '\t'))
        field.remove_suffix(1);
      float v = 0;
      auto [next, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty() || ec != std::errc() || next != field.data() + field.size()) {
        return InvalidArgumentError(path + ":" + std::to_string(line_no) + ": field " +
                                    std::to_string(fields + 1) + " '" + std::string(field) +
                                    "' is not a number (CSV vectors have no header line)");
      }
      set.data.push_back(v);
      ++fields;
      if (comma == line.size()) break;
      p = comma + 1;
    }
    if (set.n == 0) set.dim = fields;
    if (fields != set.dim) {
      return InvalidArgumentError(path + ":" + std::to_string(line_no) + ": " +
                                  std::to_string(fields) + " fields, the first line has " +
                                  std::to_string(set.dim));
    }
    ++set.n;
  }
  if (set.n == 0) return InvalidArgumentError(path + ": no vectors in it (only blank lines)");
  return set;
}

uint32_t BigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

StatusOr<VectorSet> ParseIdx(const std::string& path, const std::string& bytes, int64_t limit) {
  auto bad = [&](const std::string& what) {
    return InvalidArgumentError(path + ": bad idx header: " + what);
  };
  if (bytes.size() < 8 || bytes[0] != 0 || bytes[1] != 0) {
    return bad("it does not start with two zero bytes");
  }
  const int type = static_cast<unsigned char>(bytes[2]);
  const int ndims = static_cast<unsigned char>(bytes[3]);
  if (type != 0x08 && type != 0x0D) {
    return bad("value type 0x" + fmt::format("{:02x}", type) +
               " is not 0x08 (uint8) or 0x0d (float32)");
  }
  if (ndims < 1 || ndims > 4) return bad(std::to_string(ndims) + " dimensions (1 to 4 allowed)");
  if (bytes.size() < 4 + 4 * static_cast<size_t>(ndims)) return bad("file ends inside the header");
  VectorSet set;
  const int64_t count = BigEndian32(bytes.data() + 4);
  const size_t width = type == 0x08 ? 1 : 4;
  const size_t offset = 4 + 4 * static_cast<size_t>(ndims);
  // Sizes from the header multiply with overflow checks: three 32-bit dimensions can exceed
  // 2^64 together.
  uint64_t dim = 1, need = 0;
  for (int d = 1; d < ndims; ++d) {
    if (__builtin_mul_overflow(dim, uint64_t{BigEndian32(bytes.data() + 4 + 4 * d)}, &dim)) {
      return bad("the dimensions multiply past 2^64");
    }
  }
  if (count <= 0 || dim == 0) return bad("the header declares no vectors");
  if (__builtin_mul_overflow(static_cast<uint64_t>(count), dim, &need) ||
      __builtin_mul_overflow(need, uint64_t{width}, &need) ||
      dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return bad("the header declares more values than any file holds");
  }
  set.dim = static_cast<int64_t>(dim);
  if (bytes.size() - offset < need) {
    return InvalidArgumentError(path + ": data is truncated: the header declares " +
                                std::to_string(count) + " x " + std::to_string(set.dim) +
                                " values, the file holds " +
                                std::to_string((bytes.size() - offset) / width));
  }
  set.n = limit > 0 ? std::min(count, limit) : count;
  set.data.resize(static_cast<size_t>(set.n * set.dim));
  const char* p = bytes.data() + offset;
  for (size_t i = 0; i < set.data.size(); ++i) {
    if (width == 1) {
      set.data[i] = static_cast<unsigned char>(p[i]);
    } else {
      const uint32_t bits = BigEndian32(p + 4 * i);
      std::memcpy(&set.data[i], &bits, 4);
    }
  }
  return set;
}

}  // namespace

StatusOr<std::string> DetectVectorFormat(const std::string& path) {
  std::string name =
      path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  for (const char* ext : {"fvecs", "ivecs", "npy", "csv"}) {
    if (EndsWith(name, std::string(".") + ext)) return std::string(ext);
  }
  if (name.find("idx") != std::string::npos) return std::string("idx");
  return InvalidArgumentError(path +
                              ": cannot tell the format from the name; name it .fvecs, .ivecs, "
                              ".npy, .csv or *idx* (MNIST), or pass the format explicitly");
}

StatusOr<VectorSet> ReadVectors(const std::string& path, const ReadVectorsOptions& options) {
  std::string format = options.format;
  if (format == "auto") {
    COLONY_ASSIGN_OR_RETURN(format, DetectVectorFormat(path));
  }
  StatusOr<VectorSet> set = InvalidArgumentError("vector format '" + format +
                                                 "' is unknown; use fvecs, ivecs, npy, csv or idx");
  if (format != "fvecs" && format != "ivecs" && format != "npy" && format != "csv" &&
      format != "idx") {
    return set.status();
  }
  COLONY_ASSIGN_OR_RETURN(std::string bytes, ReadMaybeGzipped(path));
  const int64_t limit = options.max_vectors;
  if (format == "fvecs") set = ParseVecs<float>(path, bytes, limit);
  if (format == "ivecs") set = ParseVecs<int32_t>(path, bytes, limit);
  if (format == "npy") set = ParseNpy(path, bytes, limit);
  if (format == "csv") set = ParseCsv(path, bytes, limit);
  if (format == "idx") set = ParseIdx(path, bytes, limit);
  if (!set.ok()) return set.status();
  COLONY_RETURN_IF_ERROR(CheckDim(path, *set, options.expected_dim));
  return set;
}

Status WriteFvecs(const std::string& path, const VectorSet& vectors) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (file == nullptr) {
    return UnavailableError(path + ": cannot write (" + std::strerror(errno) + ")");
  }
  const int32_t d = static_cast<int32_t>(vectors.dim);
  for (int64_t i = 0; i < vectors.n; ++i) {
    if (std::fwrite(&d, 4, 1, file.get()) != 1 ||
        std::fwrite(vectors.row(i), 4, static_cast<size_t>(d), file.get()) !=
            static_cast<size_t>(d)) {
      return UnavailableError(path + ": write failed (disk full?)");
    }
  }
  if (std::fflush(file.get()) != 0) return UnavailableError(path + ": write failed (disk full?)");
  return OkStatus();
}

}  // namespace colony::retrieval
