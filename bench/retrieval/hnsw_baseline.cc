#include "hnsw_baseline.h"

#include <hnswlib/hnswlib.h>

#include <atomic>
#include <thread>
#include <vector>

namespace colony::bench {
namespace {

class Hnsw final : public HnswBaseline {
 public:
  Hnsw(int64_t n, int64_t dim, int m, int ef_construction)
      : space_(static_cast<size_t>(dim)),
        index_(&space_, static_cast<size_t>(n), static_cast<size_t>(m),
               static_cast<size_t>(ef_construction)),
        dim_(dim) {}
  void Add(const float* data, int64_t n, int threads) {
    std::atomic<int64_t> next{0};
    auto work = [&] {
      for (int64_t i; (i = next.fetch_add(1)) < n;) {
        index_.addPoint(data + i * dim_, static_cast<hnswlib::labeltype>(i));
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  void Search(const float* queries, int64_t num_queries, int k, int ef, int64_t* out) override {
    index_.setEf(static_cast<size_t>(ef));
    for (int64_t q = 0; q < num_queries; ++q) {
      auto top = index_.searchKnn(queries + q * dim_, static_cast<size_t>(k));
      for (int r = k - 1; r >= 0; --r) {
        out[q * k + r] = top.empty() ? -1 : static_cast<int64_t>(top.top().second);
        if (!top.empty()) top.pop();
      }
    }
  }

 private:
  hnswlib::L2Space space_;
  hnswlib::HierarchicalNSW<float> index_;
  int64_t dim_;
};

}  // namespace

std::unique_ptr<HnswBaseline> HnswBaseline::Build(const float* data, int64_t n, int64_t dim, int m,
                                                  int ef_construction, int threads) {
  auto index = std::make_unique<Hnsw>(n, dim, m, ef_construction);
  index->Add(data, n, threads);
  return index;
}

bool HnswBaselineRunnable() {
#if defined(__AVX2__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return true;
#endif
}

}  // namespace colony::bench
