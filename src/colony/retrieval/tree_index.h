// A tree-based recall index (US20180349512A1): M complete binary trees over the same items,
// each built top-down by balanced 2-means with its own seed, so their errors are independent.
// A query descends every tree from the root, keeping the `beam` best nodes of each layer (by
// the distance between the query and the node's centroid), merges the leaves the M trees
// reach, re-ranks the best of them by their exact distance and returns the top k.
//   COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Build({.num_trees = 4}, items));
//   COLONY_ASSIGN_OR_RETURN(SearchResults r, index->Search({.k = 10, .beam = 8}, queries));
//   COLONY_RETURN_IF_ERROR(index->Save("my_index"));  // TreeIndex::Load maps it back.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/retrieval/distance.h"
#include "colony/retrieval/vector_file.h"

namespace colony::retrieval {

struct TreeIndexOptions {
  // Behavior.
  int num_trees = 4;            // M, the number of trees. Default: 4.
  Metric metric = Metric::kL2;  // How queries rank nodes and items. Default: L2.
  uint64_t seed = 1;            // Tree t is built from seed + t. Default: 1.
  // Lloyd steps of each balanced 2-means split. More: tighter clusters, slower build.
  // Default: 4.
  int kmeans_iterations = 4;
  // Performance.
  int num_threads = 0;  // Trees built in parallel; 0 means one per core. Default: 0.
  // InvalidArgument naming the field.
  Status Validate() const;
};

struct QueryOptions {
  // Upper bounds Validate enforces, so that one request (e.g. over gRPC) cannot ask for
  // unbounded memory or work.
  static constexpr int kMaxK = 10000;
  static constexpr int kMaxBeam = 4096;
  static constexpr int kMaxScanLeaves = 1 << 20;
  static constexpr int kMaxRerank = 1 << 20;
  static constexpr int kMaxThreads = 1024;

  int k = 10;     // Results per query, in [1, kMaxK]. Default: 10.
  // Nodes kept per layer in each tree, in [1, kMaxBeam]; 1 is the seed's single path.
  // Default: 16.
  int beam = 16;
  // Where the beam stops: at the layer whose nodes hold `scan_leaves` leaves, then every leaf
  // under the kept nodes is a candidate. 1 descends to the leaves themselves (the beam keeps
  // the `beam` best leaves). A power of two, at most kMaxScanLeaves. Default: 1.
  int scan_leaves = 1;
  // Routing and candidate scoring use 8-bit codes of the vectors (quantizer.h); the best
  // max(rerank, k) candidates by coded distance are then ranked by their exact float
  // distance. 0 re-ranks every candidate exactly. At most kMaxRerank. Default: 64.
  int rerank = 64;
  // Threads for a batch of queries, at most kMaxThreads; 0 means one per core. Default: 0.
  int num_threads = 0;
  Status Validate() const;
};

// `num_queries` rows of `k` results, best first. A row has fewer than k items only when the
// index holds fewer; the rest are kNoItem with an infinite distance.
struct SearchResults {
  static constexpr uint64_t kNoItem = std::numeric_limits<uint64_t>::max();
  int64_t num_queries = 0;
  int k = 0;
  std::vector<uint64_t> ids;
  std::vector<float> distances;  // L2: squared distance; inner product: its negation.
  std::span<const uint64_t> row(int64_t q) const {
    return {ids.data() + q * k, static_cast<size_t>(k)};
  }
};

// Searches may run concurrently with each other; Insert and Remove take an exclusive lock.
class TreeIndex {
 public:
  // Builds the M trees over `items`. `ids` are the items' ids (default: 0 .. n-1).
  // InvalidArgument for bad options, no items, ids of another count or duplicate ids.
  static StatusOr<std::unique_ptr<TreeIndex>> Build(const TreeIndexOptions& options,
                                                    const VectorSet& items,
                                                    std::span<const uint64_t> ids = {});
  // Maps the index saved in `dir` into memory (copy-on-write). NotFound without an index
  // there, DataLoss for a truncated or corrupt file, FailedPrecondition for another version.
  static StatusOr<std::unique_ptr<TreeIndex>> Load(const std::string& dir);
  ~TreeIndex();
  TreeIndex(const TreeIndex&) = delete;
  TreeIndex& operator=(const TreeIndex&) = delete;

  // Writes the index to `dir`/index.bin atomically (temp file, fsync, rename).
  Status Save(const std::string& dir) const;

  // Queries are rows of dim() floats. InvalidArgument for bad options, a size that is not a
  // multiple of dim(), or more than 2^25 results (queries x k) in one call.
  StatusOr<SearchResults> Search(const QueryOptions& options, std::span<const float> queries) const;
  // Exact top k by brute force over the live items (the reference for recall).
  StatusOr<SearchResults> ExactSearch(int k, std::span<const float> queries,
                                      int num_threads = 0) const;

  // Adds an item to every tree without a rebuild: it takes a free leaf reached by descending
  // toward the nearest child with room, and updates the centroids on its path. A full tree
  // first grows one layer (each leaf becomes a node over itself and a free leaf).
  // AlreadyExists for a known id, InvalidArgument for a vector of another dimension.
  Status Insert(uint64_t id, std::span<const float> vector);
  // Frees the item's leaf in every tree and updates the centroids above it. NotFound for an
  // unknown id.
  Status Remove(uint64_t id);

  int64_t size() const;     // Live items.
  uint64_t NextId() const;  // One past the largest live id; 0 when empty.
  int64_t dim() const;
  int num_trees() const;
  Metric metric() const;
  double build_seconds() const;  // Wall time of Build (kept through Save/Load).
  int tree_depth(int tree) const;
  // Checks the trees' invariants (complete shape, counts, each live item in one leaf of every
  // tree); Internal naming the first violation.
  Status CheckInvariantsForTesting() const;

  struct Impl;

 private:
  explicit TreeIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace colony::retrieval
