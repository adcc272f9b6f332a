// Turns a data::Batch into the feeds of a CTR program: labels, dense features or feature
// values, and the ids rewritten as indices into the batch's unique ids (the rows the tables
// are pulled for).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/data/batch.h"
#include "colony/exec/executor.h"
#include "colony/models/ctr_models.h"

namespace colony::train::internal {

class BatchFeeder {
 public:
  // Sets the feeds of `model`'s program in `scope` ("dense", "sparse_ids", "label", or the
  // "feature_*" feeds for input "bag"). InvalidArgument when the batch does not fit the model.
  Status Feed(const data::Batch& batch, const models::CtrModelOptions& model, exec::Scope& scope);
  // The sorted unique ids of the last fed batch; row i of each sparse table feed is id i.
  const std::vector<uint64_t>& unique_ids() const { return unique_ids_; }

 private:
  // Makes unique_ids_ the sorted unique `ids` and returns each id's row in it, as `shape`.
  at::Tensor LocalRows(const std::vector<uint64_t>& ids, at::IntArrayRef shape);

  static constexpr uint32_t kEmpty = ~0u;
  // Scratch reused across batches.
  std::vector<uint64_t> unique_ids_;
  std::vector<uint32_t> slots_;                       // Hash slot -> first-seen index.
  std::vector<uint64_t> first_seen_;                  // Unique ids in order of appearance.
  std::vector<uint32_t> position_row_;                // Position -> first-seen index.
  std::vector<std::pair<uint64_t, uint32_t>> order_;  // (id, first-seen index), sorted.
  std::vector<uint32_t> rank_;                        // First-seen index -> sorted row.
};

}  // namespace colony::train::internal
