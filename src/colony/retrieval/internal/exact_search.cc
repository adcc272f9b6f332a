#include "colony/retrieval/internal/exact_search.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "colony/retrieval/internal/parallel.h"

namespace colony::retrieval::internal {
namespace {
constexpr int64_t kQueryBlock = 64;
constexpr int64_t kItemBlock = 64;
}  // namespace

void ExactTopK(DistanceFn distance, const float* items, const uint8_t* alive, int64_t num_slots,
               int64_t dim, const float* queries, int64_t num_queries, int k, int num_threads,
               int32_t* out_slots, float* out_distances) {
  ParallelChunks(num_queries, kQueryBlock, num_threads, [&](int64_t q0, int64_t q1) {
    // One max-heap of (distance, slot) per query: the worst of the best k on top.
    std::vector<std::vector<std::pair<float, int32_t>>> heaps(static_cast<size_t>(q1 - q0));
    for (int64_t i0 = 0; i0 < num_slots; i0 += kItemBlock) {
      const int64_t i1 = std::min(num_slots, i0 + kItemBlock);
      for (int64_t q = q0; q < q1; ++q) {
        auto& heap = heaps[static_cast<size_t>(q - q0)];
        const float* query = queries + q * dim;
        for (int64_t i = i0; i < i1; ++i) {
          if (!alive[i]) continue;
          const float d = distance(query, items + i * dim, dim);
          if (static_cast<int>(heap.size()) < k) {
            heap.emplace_back(d, static_cast<int32_t>(i));
            std::push_heap(heap.begin(), heap.end());
          } else if (d < heap.front().first) {
            std::pop_heap(heap.begin(), heap.end());
            heap.back() = {d, static_cast<int32_t>(i)};
            std::push_heap(heap.begin(), heap.end());
          }
        }
      }
    }
    for (int64_t q = q0; q < q1; ++q) {
      auto& heap = heaps[static_cast<size_t>(q - q0)];
      std::sort_heap(heap.begin(), heap.end());
      for (int r = 0; r < k; ++r) {
        const bool has = r < static_cast<int>(heap.size());
        out_slots[q * k + r] = has ? heap[static_cast<size_t>(r)].second : -1;
        out_distances[q * k + r] =
            has ? heap[static_cast<size_t>(r)].first : std::numeric_limits<float>::infinity();
      }
    }
  });
}

}  // namespace colony::retrieval::internal
