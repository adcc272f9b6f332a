// Pull and push (adagrad) of Zipf-distributed ids on the in-process SparseTable, against a
// baseline in the same binary: a plain std::unordered_map<id, std::vector<float>> (weights and
// accumulator in one vector per row) with the same duplicate summing and adagrad update,
// single-threaded and lock-free. DESIGN.md: the table must not be slower than the baseline.
// Both sides see the same 16 batches, cycled; every row exists before timing starts, so the
// figures are steady-state lookups and updates. Run:
//   <build>/bench/ps/colony_ps_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <unordered_map>
#include <vector>

#include "colony/ps/sparse_table.h"

namespace {

constexpr uint64_t kVocabulary = 1'000'000;
constexpr int kBatches = 16;
constexpr float kLearningRate = 0.01f;
constexpr float kEpsilon = 1e-8f;

// Batches of ids drawn from a Zipf(1.1) law over kVocabulary ids, fixed seed.
const std::vector<std::vector<uint64_t>>& ZipfBatches(int batch) {
  static auto* cache = new std::unordered_map<int, std::vector<std::vector<uint64_t>>>;
  auto& batches = (*cache)[batch];
  if (!batches.empty()) return batches;
  std::vector<double> cdf(kVocabulary);
  double sum = 0;
  for (uint64_t i = 0; i < kVocabulary; ++i) cdf[i] = (sum += 1.0 / std::pow(i + 1.0, 1.1));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, sum);
  batches.resize(kBatches);
  for (auto& b : batches) {
    for (int i = 0; i < batch; ++i) {
      const uint64_t rank = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
      b.push_back(rank * 0x9E3779B97F4A7C15ull);  // Spread like hashed feature ids.
    }
  }
  return batches;
}

std::vector<float> Gradients(int batch, int dim) {
  std::vector<float> g(size_t{1} * batch * dim);
  for (size_t i = 0; i < g.size(); ++i) g[i] = 0.001f * static_cast<float>(i % 17) - 0.008f;
  return g;
}

std::unique_ptr<colony::ps::SparseTable> MakeTable(int dim, int shards) {
  colony::ps::SparseTableOptions o;
  o.dim = dim;
  o.num_shards = shards;
  o.optimizer.name = "adagrad";
  o.optimizer.learning_rate = kLearningRate;
  o.optimizer.epsilon = kEpsilon;
  return std::move(colony::ps::SparseTable::Create(o)).value();
}

// The baseline: what one would write without a table library.
class MapTable {
 public:
  explicit MapTable(int dim) : dim_(dim) {}

  void Pull(const std::vector<uint64_t>& ids, float* out) {
    for (size_t k = 0; k < ids.size(); ++k) {
      const std::vector<float>& row = FindOrCreate(ids[k]);
      std::copy(row.begin(), row.begin() + dim_, out + k * dim_);
    }
  }

  void Push(const std::vector<uint64_t>& ids, const float* grads) {
    // Sum duplicates, then one adagrad step per row, as the table does.
    std::unordered_map<uint64_t, size_t> first;
    std::vector<uint64_t> unique;
    std::vector<float> summed;
    for (size_t k = 0; k < ids.size(); ++k) {
      auto [it, inserted] = first.try_emplace(ids[k], unique.size());
      if (inserted) {
        unique.push_back(ids[k]);
        summed.insert(summed.end(), grads + k * dim_, grads + (k + 1) * dim_);
      } else {
        for (int j = 0; j < dim_; ++j) summed[it->second * dim_ + j] += grads[k * dim_ + j];
      }
    }
    for (size_t u = 0; u < unique.size(); ++u) {
      std::vector<float>& row = FindOrCreate(unique[u]);
      float* w = row.data();
      float* acc = w + dim_;
      const float* g = summed.data() + u * dim_;
      for (int j = 0; j < dim_; ++j) {
        acc[j] += g[j] * g[j];
        w[j] -= kLearningRate * g[j] / (std::sqrt(acc[j]) + kEpsilon);
      }
    }
  }

 private:
  std::vector<float>& FindOrCreate(uint64_t id) {
    auto [it, inserted] = rows_.try_emplace(id);
    if (inserted) {
      it->second.assign(2 * dim_, 0.0f);
      for (int j = 0; j < dim_; ++j) it->second[j] = 0.001f * static_cast<float>(j);
    }
    return it->second;
  }

  int dim_;
  std::unordered_map<uint64_t, std::vector<float>> rows_;
};

void SetCounters(benchmark::State& state, int batch) {
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_TablePull(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  const auto& batches = ZipfBatches(batch);
  auto table = MakeTable(dim, static_cast<int>(state.range(2)));
  std::vector<float> rows(size_t{1} * batch * dim);
  for (const auto& ids : batches) benchmark::DoNotOptimize(table->Pull({}, ids, rows).ok());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Pull({}, batches[i++ % kBatches], rows).ok());
  }
  SetCounters(state, batch);
}

void BM_MapPull(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  const auto& batches = ZipfBatches(batch);
  MapTable table(dim);
  std::vector<float> rows(size_t{1} * batch * dim);
  for (const auto& ids : batches) table.Pull(ids, rows.data());
  size_t i = 0;
  for (auto _ : state) {
    table.Pull(batches[i++ % kBatches], rows.data());
    benchmark::DoNotOptimize(rows.data());
  }
  SetCounters(state, batch);
}

void BM_TablePush(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  const auto& batches = ZipfBatches(batch);
  auto table = MakeTable(dim, static_cast<int>(state.range(2)));
  const std::vector<float> grads = Gradients(batch, dim);
  std::vector<float> rows(grads.size());
  for (const auto& ids : batches) benchmark::DoNotOptimize(table->Pull({}, ids, rows).ok());
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Push(batches[i++ % kBatches], grads).ok());
  }
  SetCounters(state, batch);
}

void BM_MapPush(benchmark::State& state) {
  const int dim = static_cast<int>(state.range(0)), batch = static_cast<int>(state.range(1));
  const auto& batches = ZipfBatches(batch);
  MapTable table(dim);
  const std::vector<float> grads = Gradients(batch, dim);
  std::vector<float> rows(grads.size());
  for (const auto& ids : batches) table.Pull(ids, rows.data());
  size_t i = 0;
  for (auto _ : state) {
    table.Push(batches[i++ % kBatches], grads.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, batch);
}

void Args(benchmark::internal::Benchmark* b) {
  for (int dim : {8, 64}) {
    for (int batch : {1024, 16384}) b->Args({dim, batch});
  }
  b->ArgNames({"dim", "batch"});
}

// The table with its default 16 lock stripes and with one (no grouping of ids by stripe).
void TableArgs(benchmark::internal::Benchmark* b) {
  for (int dim : {8, 64}) {
    for (int batch : {1024, 16384}) {
      for (int shards : {16, 1}) b->Args({dim, batch, shards});
    }
  }
  b->ArgNames({"dim", "batch", "shards"});
}

BENCHMARK(BM_TablePull)->Apply(TableArgs)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MapPull)->Apply(Args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TablePush)->Apply(TableArgs)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MapPush)->Apply(Args)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
