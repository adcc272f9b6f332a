// hnswlib behind a plain interface: its header defines non-inline functions, so exactly one
// translation unit (hnsw_baseline.cc) includes it, compiled for AVX2 where the build host has
// it so that hnswlib's own AVX kernels are on, as ours are through run-time dispatch.
#pragma once

#include <cstdint>
#include <memory>

namespace colony::bench {

class HnswBaseline {
 public:
  // L2 index with hnswlib's M and efConstruction, built on `threads` threads.
  static std::unique_ptr<HnswBaseline> Build(const float* data, int64_t n, int64_t dim, int m,
                                             int ef_construction, int threads);
  virtual ~HnswBaseline() = default;
  // Single-threaded: k ids per query (row-major), ef = the search beam.
  virtual void Search(const float* queries, int64_t num_queries, int k, int ef, int64_t* out) = 0;
};

// Whether this CPU can run the AVX2 build of hnsw_baseline.cc.
bool HnswBaselineRunnable();

}  // namespace colony::bench
