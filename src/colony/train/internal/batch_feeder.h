// Turns a data::Batch into the feeds of a CTR program: dense features, labels, and the slot
// ids rewritten as indices into the batch's unique ids (the rows the tables are pulled for).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/data/batch.h"
#include "colony/exec/executor.h"

namespace colony::train::internal {

class BatchFeeder {
 public:
  // Sets "dense", "sparse_ids" and "label" in `scope`. InvalidArgument when the batch's
  // widths differ from the model's.
  Status Feed(const data::Batch& batch, int num_dense, int num_slots, exec::Scope& scope);
  // The sorted unique ids of the last fed batch; row i of each sparse table feed is id i.
  const std::vector<uint64_t>& unique_ids() const { return unique_ids_; }

 private:
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
