// Sparse embedding tables held by one parameter-server shard: hashed id -> row of `dim`
// floats. A row is created on first pull and updated by the table's optimizer on push.
// The interface is what a remote client implements too; Create() gives the in-memory table.
//   COLONY_ASSIGN_OR_RETURN(auto table, SparseTable::Create({.dim = 16}));
//   COLONY_RETURN_IF_ERROR(table->Pull({}, ids, rows));
//   COLONY_RETURN_IF_ERROR(table->Push(ids, grads));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/ps/initializer.h"
#include "colony/ps/optimizer.h"

namespace colony::ps {

inline constexpr char kSparseTableFormat[] = "colony-sparse-v1";

struct SparseTableOptions {
  int dim = 0;                     // Row width in floats. Required, in [1, 2^20].
  OptimizerOptions optimizer;      // Update rule applied on push. Default: adagrad.
  InitializerOptions initializer;  // First values of a new row. Default: uniform +-0.01.
  // Seeds the initializer: a new row is a pure function of (seed, id). Default: 0.
  uint64_t seed = 0;
  // Performance: lock stripes, in [1, 65536]. More lets more threads work at once; one is
  // fastest for a single-threaded user (no grouping of a batch by stripe). Default: 16.
  int num_shards = 16;

  // Row policies of CTR systems. Any of them set: the table is a TieredSparseTable (one lock,
  // rows in a hash map, spilled rows in RocksDB), which is slower than the default table.
  // Admission: an id gets a row at its admit_count-th training pull; before that it reads as
  // zeros and its gradients are dropped. Default: 1 (at once).
  int admit_count = 1;
  // Admission by chance: at each training pull an id without a row gets one with this
  // probability (a pure function of seed, id and the pull's number). Default: 1.
  float admit_probability = 1.0f;
  // Eviction: EndPass() drops rows not pulled in the last ttl_passes passes; 0: never.
  int ttl_passes = 0;
  // SSD tier: at most this many rows stay in memory, the least recently used of the rest
  // live in a RocksDB database under ssd_dir and come back on pull. 0: all in memory.
  int64_t memory_rows = 0;
  std::string ssd_dir;  // Required with memory_rows > 0; the table owns the folder.

  Status Validate() const;  // InvalidArgument naming the bad field.
  bool tiered() const {     // Whether a row policy is set.
    return admit_count > 1 || admit_probability < 1.0f || ttl_passes > 0 || memory_rows > 0;
  }
};

struct PullOptions {
  bool create_missing = true;  // false: unseen ids read as zeros and create no row.
};

// All methods are safe to call concurrently from many threads.
class SparseTable {
 public:
  // InvalidArgument for bad options, NotFound for an unknown optimizer.
  static StatusOr<std::unique_ptr<SparseTable>> Create(const SparseTableOptions& options);
  virtual ~SparseTable() = default;
  SparseTable(const SparseTable&) = delete;
  SparseTable& operator=(const SparseTable&) = delete;

  // Writes the rows of `ids` into `out`, row-major. The caller owns both buffers.
  // InvalidArgument unless out.size() == ids.size() * dim().
  virtual Status Pull(const PullOptions& options, std::span<const uint64_t> ids,
                      std::span<float> out) = 0;
  // Sums the gradients of duplicate ids, then applies one optimizer step per row. A row that
  // does not exist yet is created first. InvalidArgument on a size mismatch.
  virtual Status Push(std::span<const uint64_t> ids, std::span<const float> grads) = 0;
  // Adds `deltas` (ids * dim) to the weights of `ids`, no optimizer step, creating missing
  // rows first: how geo workers merge their local progress. Ids must not repeat.
  // InvalidArgument on a size mismatch.
  virtual Status Add(std::span<const uint64_t> ids, std::span<const float> deltas) = 0;
  // Writes rows, optimizer state and the options to `dir`/table.bin atomically (format
  // kSparseTableFormat, rows sorted by id, CRC-32 at the end). Streams: rows on the SSD tier
  // go from RocksDB to the file without being gathered in memory. `dir` must exist.
  // Unavailable naming the file when it cannot be written.
  virtual Status Save(const std::string& dir) const = 0;
  // Replaces the contents with `dir`/table.bin. NotFound when missing, DataLoss naming the
  // file when corrupt (checksum, format line, payload length, ids not increasing),
  // FailedPrecondition when its dim or optimizer differ from this table's. On error the table
  // is unchanged (with an SSD tier: unless the error comes after every checksum was verified,
  // from the disk or a crafted file).
  Status Load(const std::string& dir) { return LoadFrom({dir}, nullptr); }
  // Load of several files: replaces the contents with the rows of every `dirs`[k]/table.bin
  // that `keep` accepts (every row when `keep` is empty). How a parameter server takes its
  // share of a checkpoint written by another number of servers. DataLoss when two files
  // hold the same id (detected for rows kept in memory); other errors as Load.
  virtual Status LoadFrom(const std::vector<std::string>& dirs,
                          const std::function<bool(uint64_t id)>& keep) = 0;
  // Ends a pass over the data: evicts the rows not pulled in the last ttl_passes passes
  // (none without a ttl) and returns how many.
  virtual StatusOr<int64_t> EndPass() = 0;
  virtual int64_t size() const = 0;      // Rows held, in memory and on SSD.
  virtual int64_t ssd_rows() const = 0;  // Rows held on SSD (0 without an SSD tier).
  virtual int dim() const = 0;

 protected:
  SparseTable() = default;
};

}  // namespace colony::ps
