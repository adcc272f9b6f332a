// The SparseTable with row policies: admission, ttl eviction and an SSD tier in RocksDB.
// SparseTable::Create picks it when SparseTableOptions::tiered(). Private to ps.
#pragma once

#include <memory>

#include "colony/base/status.h"
#include "colony/ps/optimizer.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps::internal {

// REQUIRES: options.Validate().ok(). FailedPrecondition naming ssd_dir when RocksDB cannot open it.
StatusOr<std::unique_ptr<SparseTable>> CreateTieredSparseTable(
    const SparseTableOptions& options, std::unique_ptr<Optimizer> optimizer);

}  // namespace colony::ps::internal
