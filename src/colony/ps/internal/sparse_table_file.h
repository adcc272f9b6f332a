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
#include "colony/ps/internal/table_file.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps::internal {

// What a table file must agree on with the table loading it.
struct SparseTableLayout {
  SparseTableOptions options;
  int state_width = 0;         // Optimizer state floats per row.
  std::string_view optimizer;  // The optimizer's registry name.
  size_t stride() const { return static_cast<size_t>(options.dim + state_width); }
};

// Streams a table file of `rows` rows to `path` (through a temporary file until Finish()).
class SparseTableFileWriter {
 public:
  SparseTableFileWriter(const std::string& path, const SparseTableLayout& layout, int64_t rows);
  // One row of dim + state floats. REQUIRES: ids strictly increase from call to call.
  void Add(uint64_t id, const float* row);
  // Internal when Add was not called exactly `rows` times with increasing ids (the file is
  // then not written); otherwise what TableFileWriter::Finish returns.
  Status Finish();

 private:
  TableFileWriter file_;
  const size_t stride_;
  const int64_t rows_;
  int64_t added_ = 0;
  uint64_t last_id_ = 0;
  bool ordered_ = true;
};

// Reads a table file row by row, after TableFileReader::Open has verified its checksum.
class SparseTableFileReader {
 public:
  // NotFound when missing; DataLoss when corrupt; FailedPrecondition when its dim or
  // optimizer differ from `layout`'s.
  static StatusOr<SparseTableFileReader> Open(const std::string& path,
                                              const SparseTableLayout& layout);
  int64_t rows() const { return rows_; }
  const std::string& path() const { return file_.path(); }
  // Calls add(id, row) for every row. DataLoss when the ids do not strictly increase (a file
  // written by colony never repeats one); an error from `add` stops the read and is
  // returned. Once only.
  Status ReadRows(const std::function<Status(uint64_t id, const float* row)>& add);

 private:
  SparseTableFileReader(TableFileReader file, size_t stride, int64_t rows)
      : file_(std::move(file)), stride_(stride), rows_(rows) {}
  TableFileReader file_;
  size_t stride_;
  int64_t rows_;
};

}  // namespace colony::ps::internal
