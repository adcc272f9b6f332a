// Exact top-k by brute force, blocked so that a block of queries and a block of items stay in
// cache while every pair is compared: the reference that recall is measured against.
#pragma once

#include <cstdint>

#include "colony/retrieval/distance.h"

namespace colony::retrieval::internal {

// For each of `num_queries` queries (rows of `dim` floats), writes the k nearest live slots
// (alive[slot] != 0) and their distances, best first, into out_slots / out_distances (k per
// query; -1 and +inf past the number of live items). Runs on `num_threads` threads.
void ExactTopK(DistanceFn distance, const float* items, const uint8_t* alive, int64_t num_slots,
               int64_t dim, const float* queries, int64_t num_queries, int k, int num_threads,
               int32_t* out_slots, float* out_distances);

}  // namespace colony::retrieval::internal
