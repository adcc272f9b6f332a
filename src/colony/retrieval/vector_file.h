// Reading and writing sets of float vectors: the item and query files of `colony index`.
// Formats: fvecs / ivecs (TEXMEX, as ann-benchmarks ships them: per vector an int32 dimension,
// then that many float32 / int32 values), .npy (2-D, C order, float32/float64/uint8/int32/
// int64), CSV (one vector a line, comma-separated numbers) and idx (the MNIST format: a
// big-endian header, then uint8 or float32 values; an image of r x c pixels is one vector of
// r*c floats). Any of them may be gzip-compressed (the name then ends in .gz).
//   COLONY_ASSIGN_OR_RETURN(VectorSet items, ReadVectors("items.fvecs", {}));
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::retrieval {

// `n` vectors of `dim` floats, row-major.
struct VectorSet {
  int64_t n = 0;
  int64_t dim = 0;
  std::vector<float> data;
  const float* row(int64_t i) const { return data.data() + i * dim; }
};

struct ReadVectorsOptions {
  // "auto" (from the file name: .fvecs, .ivecs, .npy, .csv, or "idx" anywhere in the name),
  // "fvecs", "ivecs", "npy", "csv" or "idx". Default: "auto".
  std::string format = "auto";
  // When > 0, a file whose vectors have another dimension is an error. Default: 0 (any).
  int64_t expected_dim = 0;
  // When > 0, reads at most this many vectors. Default: 0 (all).
  int64_t max_vectors = 0;
};

// NotFound when the file cannot be opened; InvalidArgument (naming the file, and the record,
// line or header field) for an empty file, a bad header, a truncated record, vectors of
// different dimensions, a non-numeric CSV field or a dimension other than `expected_dim`.
StatusOr<VectorSet> ReadVectors(const std::string& path, const ReadVectorsOptions& options);

// The format ReadVectors would pick for `path` under "auto"; InvalidArgument when none fits.
StatusOr<std::string> DetectVectorFormat(const std::string& path);

// Writes `vectors` as fvecs (uncompressed). Unavailable when the file cannot be written.
Status WriteFvecs(const std::string& path, const VectorSet& vectors);

}  // namespace colony::retrieval
