// Reader throughput on generated Criteo data: lines/s with and without the prefetch thread
// and the shuffle buffer. The data (200k lines, ~34 MB) is generated once into a temporary
// folder; the first epoch warms the page cache.
//   data_reader_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "colony/data/ctr_generator.h"
#include "colony/data/reader.h"

namespace colony::data {
namespace {

const std::string& DataDir() {
  static const std::string* dir = [] {
    auto* d =
        new std::string((std::filesystem::temp_directory_path() / "colony_reader_bench").string());
    CtrGeneratorOptions o;
    o.out_dir = *d;
    o.rows = 200000;
    o.test_fraction = 0.01;
    const Status s = GenerateCtr(o);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::abort();
    }
    return d;
  }();
  return *dir;
}

void BM_CriteoEpoch(benchmark::State& state) {
  ReaderOptions o;
  o.format = "criteo";
  o.files = {DataDir() + "/train.txt"};
  o.batch_size = 512;
  o.prefetch_batches = static_cast<int>(state.range(0));
  o.shuffle_buffer = static_cast<int>(state.range(1));
  auto reader = Reader::Create(o);
  if (!reader.ok()) {
    state.SkipWithError(reader.status().ToString().c_str());
    return;
  }
  Batch batch;
  int64_t epoch = 0, samples = 0;
  for (auto _ : state) {
    if (!(*reader)->Reset(epoch++).ok()) state.SkipWithError("reset failed");
    while ((*reader)->Next(&batch).ok()) samples += batch.size;
  }
  state.SetItemsProcessed(samples);
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CriteoEpoch)
    ->ArgNames({"prefetch", "shuffle"})
    ->Args({0, 0})
    ->Args({4, 0})
    ->Args({0, 100000})
    ->Args({4, 100000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace colony::data

BENCHMARK_MAIN();
