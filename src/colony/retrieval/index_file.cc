// TreeIndex::Save and TreeIndex::Load: one file, index.bin, that Load maps into memory.
//
// Layout (little-endian): a 64-byte header {magic "COLTREE1", version, dim, metric,
// num_trees, num_slots, seed, build_seconds}, num_trees int32 depths, then sections each
// starting at a multiple of 64 bytes: vectors (float32 slots x dim), ids (uint64 slots),
// alive (uint8 slots), the quantizer (float32 min[dim], then scale[dim]), and per tree its
// nodes (float32 (2^depth - 1) x dim), counts (int32 2^depth - 1) and leaves (int32 2^depth).
// The 8-bit codes are not stored: Load encodes them again from the float arrays.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "colony/base/file_util.h"
#include "colony/retrieval/internal/index_impl.h"

namespace colony::retrieval {
namespace {

constexpr char kMagic[8] = {'C', 'O', 'L', 'T', 'R', 'E', 'E', '1'};
constexpr uint32_t kVersion = 2;
constexpr size_t kAlign = 64;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t dim;
  uint32_t metric;
  uint32_t num_trees;
  uint64_t num_slots;
  uint64_t seed;
  double build_seconds;
  char reserved[16];
};
static_assert(sizeof(Header) == 64);

size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// a * b, or false when it does not fit in 64 bits.
bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }

// The sections in file order, as (byte offset, byte size) pairs, for a header and depths.
// Every size and offset is computed with overflow checks against `limit` (the file size when
// loading): a crafted header whose counts multiply past it leaves ok() false.
struct Layout {
  struct Section {
    size_t offset = 0, bytes = 0;
  };
  Section vectors, ids, alive, quantizer;
  std::vector<Section> nodes, counts, leaves;
  size_t total = 0;
  bool ok = true;

  Layout(const Header& h, const std::vector<int32_t>& depths, uint64_t limit) {
    uint64_t at = AlignUp(sizeof(Header) + 4 * depths.size());
    // A section of count x width bytes at the next aligned offset.
    auto next = [&](uint64_t count, uint64_t width) {
      uint64_t bytes = 0;
      if (!ok || !CheckedMul(count, width, &bytes) || at > limit || bytes > limit - at) {
        ok = false;
        return Section{};
      }
      Section s{at, bytes};
      at = AlignUp(at + bytes);
      return s;
    };
    uint64_t vector_floats = 0;
    ok = CheckedMul(h.num_slots, h.dim, &vector_floats);
    vectors = next(vector_floats, 4);
    ids = next(h.num_slots, 8);
    alive = next(h.num_slots, 1);
    quantizer = next(h.dim, 8);
    for (int32_t depth : depths) {
      const uint64_t inner = (uint64_t{1} << depth) - 1;
      uint64_t node_floats = 0;
      if (!CheckedMul(inner, h.dim, &node_floats)) ok = false;
      nodes.push_back(next(node_floats, 4));
      counts.push_back(next(inner, 4));
      leaves.push_back(next(inner + 1, 4));
    }
    total = at;
  }
};

class Writer {
 public:
  explicit Writer(FILE* file) : file_(file) {}
  void Put(const void* data, size_t bytes) {
    if (ok_ && bytes > 0 && std::fwrite(data, 1, bytes, file_) != bytes) ok_ = false;
    at_ += bytes;
  }
  void PadTo(size_t offset) {
    static const char kZeros[kAlign] = {};
    if (offset > at_) Put(kZeros, offset - at_);
  }
  bool ok() const { return ok_; }

 private:
  FILE* file_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace

Status TreeIndex::Save(const std::string& dir) const {
  std::shared_lock lock(impl_->mu);
  const Impl& ix = *impl_;
  COLONY_RETURN_IF_ERROR(MakeDirs(dir));
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.dim = static_cast<uint32_t>(ix.dim);
  h.metric = static_cast<uint32_t>(ix.metric);
  h.num_trees = static_cast<uint32_t>(ix.trees.size());
  h.num_slots = static_cast<uint64_t>(ix.num_slots());
  h.seed = ix.seed;
  h.build_seconds = ix.build_seconds;
  std::vector<int32_t> depths;
  for (const internal::Tree& tree : ix.trees) depths.push_back(tree.depth);
  const Layout layout(h, depths, std::numeric_limits<uint64_t>::max());

  const std::string path = dir + "/index.bin";
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  FILE* file = std::fopen(tmp.c_str(), "wb");
  if (file == nullptr) {
    return UnavailableError(tmp + ": cannot write (" + std::strerror(errno) + ")");
  }
  Writer w(file);
  w.Put(&h, sizeof(h));
  w.Put(depths.data(), 4 * depths.size());
  w.PadTo(layout.vectors.offset);
  w.Put(ix.vectors.data(), layout.vectors.bytes);
  w.PadTo(layout.ids.offset);
  w.Put(ix.ids.data(), layout.ids.bytes);
  w.PadTo(layout.alive.offset);
  w.Put(ix.alive.data(), layout.alive.bytes);
  w.PadTo(layout.quantizer.offset);
  w.Put(ix.quantizer.min().data(), 4 * ix.quantizer.min().size());
  w.Put(ix.quantizer.scale().data(), 4 * ix.quantizer.scale().size());
  for (size_t t = 0; t < ix.trees.size(); ++t) {
    const internal::Tree& tree = ix.trees[t];
    w.PadTo(layout.nodes[t].offset);
    w.Put(tree.nodes.data(), layout.nodes[t].bytes);
    w.PadTo(layout.counts[t].offset);
    w.Put(tree.counts.data(), layout.counts[t].bytes);
    w.PadTo(layout.leaves[t].offset);
    w.Put(tree.leaves.data(), layout.leaves[t].bytes);
  }
  w.PadTo(layout.total);
  const bool written = w.ok() && std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  std::fclose(file);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return UnavailableError(path + ": write failed (" + std::strerror(errno) + ")");
  }
  return SyncDir(dir);
}

StatusOr<std::unique_ptr<TreeIndex>> TreeIndex::Load(const std::string& dir) {
  const std::string path = dir + "/index.bin";
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    return NotFoundError(path + ": cannot open (" + std::strerror(errno) +
                         "); build an index there with `colony index build`");
  }
  struct stat st {};
  const bool stat_ok = fstat(fd, &st) == 0;
  const size_t bytes = stat_ok ? static_cast<size_t>(st.st_size) : 0;
  if (bytes < sizeof(Header)) {
    close(fd);
    return DataLossError(path + ": " + std::to_string(bytes) +
                         " bytes, too short for an index header");
  }
  void* addr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (addr == MAP_FAILED) {
    return UnavailableError(path + ": cannot map (" + std::strerror(errno) + ")");
  }
  std::shared_ptr<void> mapping(addr, [bytes](void* p) { munmap(p, bytes); });
  char* base = static_cast<char*>(addr);
  Header h;
  std::memcpy(&h, base, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    return DataLossError(path + ": not a colony tree index (bad magic)");
  }
  if (h.version != kVersion) {
    return FailedPreconditionError(path + ": index format version " + std::to_string(h.version) +
                                   ", this build reads version " + std::to_string(kVersion) +
                                   "; rebuild the index");
  }
  if (h.dim == 0 || h.metric > 1 || h.num_trees == 0 || h.num_trees > 1024 ||
      h.num_slots >= (uint64_t{1} << 31) ||
      bytes < sizeof(Header) + 4 * static_cast<size_t>(h.num_trees)) {
    return DataLossError(path + ": corrupt header");
  }
  std::vector<int32_t> depths(h.num_trees);
  std::memcpy(depths.data(), base + sizeof(Header), 4 * depths.size());
  for (int32_t depth : depths) {
    if (depth < 1 || depth > 31) return DataLossError(path + ": corrupt tree depth");
  }
  const Layout layout(h, depths, bytes);
  if (!layout.ok) {
    return DataLossError(path + ": " + std::to_string(bytes) + " bytes, too short for the " +
                         std::to_string(h.num_slots) + " items of dimension " +
                         std::to_string(h.dim) + " and the trees its header names; the file " +
                         "is truncated or corrupt");
  }
  if (bytes != layout.total) {
    return DataLossError(path + ": " + std::to_string(bytes) + " bytes, the header says " +
                         std::to_string(layout.total) + "; the file is truncated or corrupt");
  }
  auto impl = std::make_unique<Impl>();
  impl->dim = h.dim;
  impl->metric = static_cast<Metric>(h.metric);
  impl->seed = h.seed;
  impl->build_seconds = h.build_seconds;
  impl->vectors.View(reinterpret_cast<float*>(base + layout.vectors.offset),
                     layout.vectors.bytes / 4);
  impl->ids.View(reinterpret_cast<uint64_t*>(base + layout.ids.offset), h.num_slots);
  impl->alive.View(reinterpret_cast<uint8_t*>(base + layout.alive.offset), h.num_slots);
  impl->trees.resize(h.num_trees);
  for (size_t t = 0; t < h.num_trees; ++t) {
    internal::Tree& tree = impl->trees[t];
    tree.depth = depths[t];
    tree.nodes.View(reinterpret_cast<float*>(base + layout.nodes[t].offset),
                    layout.nodes[t].bytes / 4);
    tree.counts.View(reinterpret_cast<int32_t*>(base + layout.counts[t].offset),
                     layout.counts[t].bytes / 4);
    tree.leaves.View(reinterpret_cast<int32_t*>(base + layout.leaves[t].offset),
                     layout.leaves[t].bytes / 4);
  }
  impl->mapping = mapping;
  // A repeated id is InvalidArgument when building; in a file it is corruption.
  if (Status slots = impl->IndexSlots(); !slots.ok()) {
    return DataLossError(path + ": " + std::string(slots.message()));
  }
  // Every float the index computes with must be finite: NaN breaks the beam's sorts and the
  // 8-bit encoding.
  auto all_finite = [base](const Layout::Section& section) {
    const float* f = reinterpret_cast<const float*>(base + section.offset);
    return std::all_of(f, f + section.bytes / 4, [](float v) { return std::isfinite(v); });
  };
  bool finite = all_finite(layout.vectors) && all_finite(layout.quantizer);
  for (const Layout::Section& nodes : layout.nodes) finite = finite && all_finite(nodes);
  if (!finite) return DataLossError(path + ": holds a value that is not finite; it is corrupt");
  const float* quantizer = reinterpret_cast<const float*>(base + layout.quantizer.offset);
  impl->quantizer = ScalarQuantizer(std::vector<float>(quantizer, quantizer + h.dim),
                                    std::vector<float>(quantizer + h.dim, quantizer + 2 * h.dim));
  impl->EncodeAll();
  return std::unique_ptr<TreeIndex>(new TreeIndex(std::move(impl)));
}

}  // namespace colony::retrieval
