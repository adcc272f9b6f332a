// Seeded vector sets for the retrieval tests: Gaussian clusters, like real embeddings.
#pragma once

#include <random>

#include "colony/retrieval/vector_file.h"

namespace colony::retrieval::testing {

inline VectorSet ClusteredVectors(int64_t n, int64_t dim, int clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centers(static_cast<size_t>(clusters * dim));
  for (float& c : centers) c = 4.0f * normal(rng);
  VectorSet set;
  set.n = n;
  set.dim = dim;
  set.data.resize(static_cast<size_t>(n * dim));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(rng() % static_cast<uint64_t>(clusters));
    for (int64_t d = 0; d < dim; ++d) {
      set.data[static_cast<size_t>(i * dim + d)] =
          centers[static_cast<size_t>(c * dim + d)] + normal(rng);
    }
  }
  return set;
}

}  // namespace colony::retrieval::testing
