// A batch of training samples as the readers produce them and the trainers consume them.
// Fixed-slot data (Criteo, CSV) fills `sparse_ids`; variable-length data (libsvm) fills the
// CSR arrays `feature_*`.
#pragma once

#include <cstdint>
#include <vector>

namespace colony::data {

struct Batch {
  int64_t size = 0;           // Number of samples.
  std::vector<float> labels;  // [size]
  int num_dense = 0;          // Dense features per sample.
  std::vector<float> dense;   // [size * num_dense], row-major.
  int num_slots = 0;          // Categorical slots per sample (one id each).
  // [size * num_slots], row-major. Ids are already hashed with their slot index, so equal
  // raw values in different slots give different ids.
  std::vector<uint64_t> sparse_ids;
  // Variable-length sparse features: sample i owns [feature_offsets[i], feature_offsets[i+1]).
  std::vector<uint64_t> feature_ids;
  std::vector<float> feature_values;
  std::vector<int64_t> feature_offsets;  // [size + 1] when used, else empty.

  void Clear() {
    size = 0;
    labels.clear();
    dense.clear();
    sparse_ids.clear();
    feature_ids.clear();
    feature_values.clear();
    feature_offsets.clear();
  }
};

}  // namespace colony::data
