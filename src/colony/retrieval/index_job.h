// What `colony index build|query|add|remove` do, as library calls: each reads its files,
// works on a TreeIndex, prints progress and one summary line, and returns its figures.
//   COLONY_ASSIGN_OR_RETURN(QuerySummary s, RunIndexQuery({.index_dir = "idx", ...}));
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/retrieval/tree_index.h"

namespace colony::retrieval {

struct IndexBuildJob {
  std::string vectors_path;  // Items; any format ReadVectors takes. Required.
  std::string format = "auto";
  std::string out_dir;  // Where the index is saved. Required.
  TreeIndexOptions index;
};

struct IndexQueryJob {
  std::string index_dir;     // Required.
  std::string queries_path;  // Required; vectors of the index's dimension.
  std::string format = "auto";
  int64_t max_queries = 0;  // 0: all.
  QueryOptions query;
  // Compare with exact brute force for recall (costs a full scan per query). Default: true.
  bool exact = true;
  std::string results_path;  // When set: one line per query, its k ids separated by spaces.
};

struct QuerySummary {
  int64_t queries = 0, items = 0;
  int trees = 0;
  QueryOptions query;
  double recall_at_10 = -1;  // |first 10 results ∩ exact top 10| / 10, averaged; -1 if not run.
  double qps = 0;            // Queries per second of Search over the batch.
  double build_seconds = 0;  // From the index file.
  // What `colony index query --summary-json` writes; recall_at_10 only when it was measured.
  nlohmann::json ToJson() const;
};

// Reads the vectors, builds the index and saves it. InvalidArgument/NotFound for bad files.
StatusOr<double> RunIndexBuild(const IndexBuildJob& job);
StatusOr<QuerySummary> RunIndexQuery(const IndexQueryJob& job);
// Adds the vectors of `vectors_path` with ids first_id, first_id + 1, ... (first_id < 0: one
// past the largest id in the index) and saves the index in place. Returns how many.
StatusOr<int64_t> RunIndexAdd(const std::string& index_dir, const std::string& vectors_path,
                              int64_t first_id);
// Removes `ids` and saves the index in place; NotFound for an unknown id (nothing is saved).
Status RunIndexRemove(const std::string& index_dir, const std::vector<uint64_t>& ids);

}  // namespace colony::retrieval
