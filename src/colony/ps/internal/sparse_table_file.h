// The table.bin file of a sparse table (format kSparseTableFormat), shared by every
// SparseTable implementation so that their checkpoints are interchangeable. Private to ps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps::internal {

// What a table file must agree on with the table loading it.
struct SparseTableLayout {
  SparseTableOptions options;
  int state_width = 0;         // Optimizer state floats per row.
  std::string_view optimizer;  // The optimizer's registry name.
  size_t stride() const { return static_cast<size_t>(options.dim + state_width); }
};

// Writes `rows` ((id, dim + state floats), sorted by id) to `path` atomically.
Status WriteSparseTableFile(const std::string& path, const SparseTableLayout& layout,
                            const std::vector<std::pair<uint64_t, const float*>>& rows);

// Calls add(id, row) for every row of the file at `path`. NotFound when missing; DataLoss
// when corrupt; FailedPrecondition when its dim or optimizer differ from `layout`'s. An
// error from `add` stops the read and is returned.
Status ReadSparseTableFile(const std::string& path, const SparseTableLayout& layout,
                           const std::function<Status(uint64_t id, const float* row)>& add);

}  // namespace colony::ps::internal
