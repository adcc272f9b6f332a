// Readers turn data files into Batches: Criteo TSV, libsvm and CSV with a column schema, with
// optional shuffling (a seeded reservoir buffer) and a prefetch thread that parses ahead.
//   ReaderOptions o;  o.format = "criteo";  o.files = {"data/ctr/train.txt"};
//   COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, Reader::Create(o));
//   Batch batch;
//   for (Status s = reader->Next(&batch); !IsOutOfRange(s); s = reader->Next(&batch)) {
//     COLONY_RETURN_IF_ERROR(s);  ...
//   }
// Formats, transforms and the bad-line policy are described in docs/data.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/data/batch.h"

namespace colony::data {

// Columns of a CSV file, 0-based. Sparse column k becomes slot k of Batch::sparse_ids.
struct CsvSchema {
  int label_column = 0;             // Label, a number in [0, 1]. Default: 0.
  std::vector<int> dense_columns;   // Read as floats, as written (no transform); empty -> 0.
  std::vector<int> sparse_columns;  // Hashed with their slot: SlotValueId(k, value).
  char delimiter = ',';             // Default: ','. No quoting: a field cannot hold it.
  bool header = true;               // The first line of each file names the columns.
};

struct ReaderOptions {
  // "criteo", "libsvm" or "csv". Default: "criteo".
  std::string format = "criteo";
  // Files read in this order, each once per epoch. Required, non-empty.
  std::vector<std::string> files;
  // Samples per batch; the last batch of an epoch may be smaller. Default: 512. > 0.
  int batch_size = 512;
  // 0 keeps file order; N > 0 shuffles through a buffer of N samples: each output is drawn
  // at random from the buffer and its place refilled from the files. The order is a pure
  // function of (seed, epoch). Default: 0.
  int shuffle_buffer = 0;
  // Seeds the shuffle. Default: 0.
  uint64_t seed = 0;
  // Performance: batches parsed ahead by a background thread; 0 parses on the caller's thread.
  // Does not change the batches. Default: 4. >= 0.
  int prefetch_batches = 4;
  // Columns for format "csv"; ignored otherwise.
  CsvSchema csv;
  // How many bad lines ReaderStats::first_bad_lines keeps. Default: 10. >= 0.
  int max_bad_line_reports = 10;
  Status Validate() const;  // InvalidArgument naming the bad field.
};

struct ReaderStats {
  int64_t lines = 0;      // Lines read, headers and empty lines included.
  int64_t samples = 0;    // Lines parsed into samples.
  int64_t bad_lines = 0;  // Lines skipped as malformed.
  // The first max_bad_line_reports of them: "train.txt:17: expected 40 fields, got 12".
  std::vector<std::string> first_bad_lines;
};

// Not thread-safe: one thread calls a reader's methods (it may own a prefetch thread inside).
class Reader {
 public:
  // Opens a reader positioned at the start of epoch 0. Returns NotFound naming a missing or
  // unreadable file, InvalidArgument for bad options or a CSV schema naming a column beyond
  // the columns of a file's first line.
  static StatusOr<std::unique_ptr<Reader>> Create(const ReaderOptions& options);
  virtual ~Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Starts epoch `epoch` from the beginning of the first file; the shuffle order is a pure
  // function of (seed, epoch). NotFound if a file has gone.
  virtual Status Reset(int64_t epoch) = 0;
  // Replaces the contents of `batch` with the next 1 .. batch_size samples. Returns OutOfRange
  // at the end of the epoch (and again until Reset). A malformed line is counted in stats()
  // and skipped; read errors return Unavailable. REQUIRES: batch != nullptr.
  virtual Status Next(Batch* batch) = 0;
  // Cumulative over all epochs. With prefetch, it counts lines parsed so far, which may run
  // ahead of the batches returned.
  virtual ReaderStats stats() const = 0;

 protected:
  Reader() = default;
};

}  // namespace colony::data
