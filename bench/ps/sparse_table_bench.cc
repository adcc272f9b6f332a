// Pull + push (adagrad) of Zipf-distributed ids on the in-process SparseTable, against a
// baseline in the same binary: a plain std::unordered_map<id, vector<float>> with the same
// adagrad update, single-threaded and lock-free. Run:
//   build/bench/ps/colony_ps_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <unordered_map>
#include <vector>

#include "colony/ps/sparse_table.h"

namespace {

constexpr uint64_t kVocabulary = 1'000'000;

// Batches of ids drawn from a Zipf(1.1) law over kVocabulary ids, fixed seed.
std::vector<std::vector<uint64_t>> ZipfBatches(int batch, int count) {
  std::vector<double> cdf(kVocabulary);
  double sum = 0;
  for (uint64_t i = 0; i < kVocabulary; ++i) cdf[i] = (sum += 1.0 / std::pow(i + 1.0, 1.1));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& b : batches) {
    for (int i = 0; i < batch; ++i) {
      const uint64_t rank = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
      b.push_back(rank * 0x9E3779B97F4A7C15ull);  // Spread like hashed feature ids.
    }
  }
  return batches;
}

void BM_SparseTablePullPush(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const auto batches = ZipfBatches(batch, 16);
  colony::ps::SparseTableOptions o;
  o.dim = dim;
  o.optimizer.name = "adagrad";
  auto table = std::move(colony::ps::SparseTable::Create(o)).value();
  std::vector<float> rows(size_t{1} * batch * dim), grads(rows.size(), 0.01f);
  size_t i = 0;
  for (auto _ : state) {
    const auto& ids = batches[i++ % batches.size()];
    benchmark::DoNotOptimize(table->Pull({}, ids, rows).ok());
    benchmark::DoNotOptimize(table->Push(ids, grads).ok());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_UnorderedMapPullPush(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const auto batches = ZipfBatches(batch, 16);
  struct Row {
    std::vector<float> w, acc;
  };
  std::unordered_map<uint64_t, Row> table;
  std::vector<float> rows(size_t{1} * batch * dim), grads(rows.size(), 0.01f);
  size_t i = 0;
  for (auto _ : state) {
    const auto& ids = batches[i++ % batches.size()];
    for (size_t k = 0; k < ids.size(); ++k) {
      auto [it, inserted] = table.try_emplace(ids[k]);
      if (inserted) {
        it->second.w.assign(dim, 0.001f);
        it->second.acc.assign(dim, 0.0f);
      }
      std::copy(it->second.w.begin(), it->second.w.end(), rows.begin() + k * dim);
    }
    // Sum duplicates, then one adagrad step per row, as the table does.
    std::unordered_map<uint64_t, std::vector<float>> summed;
    for (size_t k = 0; k < ids.size(); ++k) {
      auto& g = summed[ids[k]];
      if (g.empty()) g.assign(dim, 0.0f);
      for (int j = 0; j < dim; ++j) g[j] += grads[k * dim + j];
    }
    for (const auto& [id, g] : summed) {
      Row& r = table[id];
      for (int j = 0; j < dim; ++j) {
        r.acc[j] += g[j] * g[j];
        r.w[j] -= 0.01f * g[j] / (std::sqrt(r.acc[j]) + 1e-8f);
      }
    }
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int dim : {8, 64}) {
    for (int batch : {1024, 16384}) b->Args({dim, batch});
  }
}

BENCHMARK(BM_SparseTablePullPush)->Apply(Args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnorderedMapPullPush)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
