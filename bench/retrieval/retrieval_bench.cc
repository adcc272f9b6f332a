// Recall@10 and single-thread QPS (median of interleaved rounds) of colony's tree index next
// to hnswlib (HNSW) and faiss IVF-Flat, on the same vectors in the same process: Fashion-MNIST (60k
// x 784 items, test images as queries) and a seeded clustered set (default 1M x 64). Writes
// results.csv for plot.gnuplot and prints, for each tree point with recall >= 0.9, its QPS as a
// share of hnswlib's QPS at the same recall (interpolated along hnswlib's ef sweep).
//   colony_retrieval_bench --out bench_out [--dataset fashion|clustered|both]
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "colony/retrieval/distance.h"
#include "colony/retrieval/tree_index.h"
#include "colony/retrieval/vector_file.h"
#include "hnsw_baseline.h"

namespace colony::bench {
namespace {

using retrieval::QueryOptions;
using retrieval::SearchResults;
using retrieval::TreeIndex;
using retrieval::VectorSet;

constexpr int kK = 10;

struct Flags {
  std::string dataset = "both";
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  std::string out = "bench_out";
  int64_t fashion_queries = 2000;
  int64_t clustered_n = 1000000;
  int64_t clustered_queries = 1000;
  // Default sweeps are short: the builds of all three libraries on 1M x 64 alone take about
  // 5 minutes on 2 cores. The README figures use --trees 1,2,4 --beams 4,8,16,32,64.
  std::vector<int> trees = {1, 2};
  std::vector<int> beams = {8, 16, 32, 64};
  int scan_leaves = 32;
  std::vector<int> efs = {10, 20, 40, 80, 160};
  std::vector<int> nprobes = {1, 2, 4, 8, 16, 32, 64};
  int build_threads = 2;
  int rounds = 3;
};

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Point {
  std::string method, param;
  double recall, qps, build_seconds;
};

class Run {
 public:
  Run(std::string dataset, const VectorSet& items, const VectorSet& queries, FILE* csv)
      : dataset_(std::move(dataset)), items_(items), queries_(queries), csv_(csv) {}

  void Truth(const TreeIndex& index) {
    const double t = Now();
    auto exact = index.ExactSearch(kK, queries_.data, 0);
    if (!exact.ok()) Die(exact.status().ToString());
    truth_.resize(static_cast<size_t>(queries_.n));
    for (int64_t q = 0; q < queries_.n; ++q) {
      for (uint64_t id : exact->row(q)) truth_[static_cast<size_t>(q)].insert(id);
    }
    std::printf("[%s] exact top-%d of %lld queries by brute force: %.1f s\n", dataset_.c_str(), kK,
                static_cast<long long>(queries_.n), Now() - t);
  }

  template <typename Id>
  double Recall(const std::vector<Id>& ids) const {
    int64_t hits = 0;
    for (int64_t q = 0; q < queries_.n; ++q) {
      for (int r = 0; r < kK; ++r) {
        hits += truth_[static_cast<size_t>(q)].count(
            static_cast<uint64_t>(ids[static_cast<size_t>(q * kK + r)]));
      }
    }
    return static_cast<double>(hits) / static_cast<double>(queries_.n * kK);
  }

  void Add(Point p) {
    std::printf("[%s] %-8s %-18s recall@10 %.4f  %9.0f QPS  (build %.1f s)\n", dataset_.c_str(),
                p.method.c_str(), p.param.c_str(), p.recall, p.qps, p.build_seconds);
    std::fflush(stdout);
    std::fprintf(csv_, "%s,%s,%s,%.5f,%.1f,%.2f\n", dataset_.c_str(), p.method.c_str(),
                 p.param.c_str(), p.recall, p.qps, p.build_seconds);
    std::fflush(csv_);
    points_.push_back(std::move(p));
  }

  // hnswlib's QPS at `recall`, linear between its sweep points; < 0 outside its range.
  double HnswQpsAt(double recall) const {
    std::vector<std::pair<double, double>> curve;
    for (const Point& p : points_) {
      if (p.method == "hnswlib") curve.emplace_back(p.recall, p.qps);
    }
    std::sort(curve.begin(), curve.end());
    for (size_t i = 1; i < curve.size(); ++i) {
      if (curve[i - 1].first <= recall && recall <= curve[i].first) {
        const double span = curve[i].first - curve[i - 1].first;
        const double w = span > 0 ? (recall - curve[i - 1].first) / span : 0.0;
        return curve[i - 1].second + w * (curve[i].second - curve[i - 1].second);
      }
    }
    return -1;
  }

  void Summarize() const {
    std::printf(
        "[%s] tree points with recall@10 >= 0.9: QPS as a share of hnswlib's at the same"
        " recall (target >= 0.50)\n",
        dataset_.c_str());
    for (const Point& p : points_) {
      if (p.method != "tree" || p.recall < 0.9) continue;
      const double hnsw = HnswQpsAt(p.recall);
      if (hnsw < 0) {
        std::printf("  %-18s recall %.4f: outside hnswlib's measured recall range\n",
                    p.param.c_str(), p.recall);
      } else {
        std::printf("  %-18s recall %.4f: %.0f vs %.0f QPS = %.2fx\n", p.param.c_str(), p.recall,
                    p.qps, hnsw, p.qps / hnsw);
      }
    }
  }

  static void Die(const std::string& message) {
    std::fprintf(stderr, "colony_retrieval_bench: %s\n", message.c_str());
    std::exit(1);
  }

  const VectorSet& items() const { return items_; }
  const VectorSet& queries() const { return queries_; }

 private:
  std::string dataset_;
  const VectorSet& items_;
  const VectorSet& queries_;
  FILE* csv_;
  std::vector<std::set<uint64_t>> truth_;
  std::vector<Point> points_;
};

// One sweep point: a built index and the parameters of a search over all queries, writing
// k ids per query.
struct Searcher {
  std::string method, param;
  double build_seconds;
  std::function<void(std::vector<int64_t>&)> search;
};

void AddTrees(Run& run, const Flags& flags, std::vector<std::shared_ptr<void>>& keep,
              std::vector<Searcher>& out) {
  for (int m : flags.trees) {
    retrieval::TreeIndexOptions options;
    options.num_trees = m;
    options.num_threads = flags.build_threads;
    auto built = TreeIndex::Build(options, run.items());
    if (!built.ok()) Run::Die(built.status().ToString());
    std::shared_ptr<TreeIndex> index = std::move(built).value();
    keep.push_back(index);
    if (m == flags.trees.front()) run.Truth(*index);
    for (int beam : flags.beams) {
      const QueryOptions q{
          .k = kK, .beam = beam, .scan_leaves = flags.scan_leaves, .num_threads = 1};
      out.push_back({"tree", "M=" + std::to_string(m) + " beam=" + std::to_string(beam),
                     index->build_seconds(), [&run, index, q](std::vector<int64_t>& ids) {
                       auto r = index->Search(q, run.queries().data);
                       if (!r.ok()) Run::Die(r.status().ToString());
                       for (size_t i = 0; i < ids.size(); ++i) {
                         ids[i] = static_cast<int64_t>(r->ids[i]);
                       }
                     }});
    }
  }
}

void AddHnsw(Run& run, const Flags& flags, int m, int ef_construction,
             std::vector<std::shared_ptr<void>>& keep, std::vector<Searcher>& out) {
  if (!HnswBaselineRunnable()) Run::Die("hnswlib baseline was built for AVX2; this CPU lacks it");
  const VectorSet& items = run.items();
  const double t = Now();
  std::shared_ptr<HnswBaseline> index = HnswBaseline::Build(
      items.data.data(), items.n, items.dim, m, ef_construction, flags.build_threads);
  const double build = Now() - t;
  std::printf("[hnswlib] built in %.1f s\n", build);
  keep.push_back(index);
  for (int ef : flags.efs) {
    out.push_back({"hnswlib", "ef=" + std::to_string(ef), build,
                   [&run, index, ef](std::vector<int64_t>& ids) {
                     index->Search(run.queries().data.data(), run.queries().n, kK, std::max(ef, kK),
                                   ids.data());
                   }});
  }
}

void AddFaiss(Run& run, const Flags& flags, int nlist, std::vector<std::shared_ptr<void>>& keep,
              std::vector<Searcher>& out) {
  const VectorSet& items = run.items();
  omp_set_num_threads(flags.build_threads);
  const double t = Now();
  auto coarse = std::make_shared<faiss::IndexFlatL2>(items.dim);
  auto index =
      std::make_shared<faiss::IndexIVFFlat>(coarse.get(), items.dim, static_cast<size_t>(nlist));
  // 40 training points per list: faiss's own lower bound, and a k-means that fits the budget.
  const int64_t train_n = std::min<int64_t>(items.n, 40 * nlist);
  index->train(train_n, items.data.data());
  index->add(items.n, items.data.data());
  const double build = Now() - t;
  std::printf("[faiss] built in %.1f s\n", build);
  keep.push_back(coarse);
  keep.push_back(index);
  for (int nprobe : flags.nprobes) {
    out.push_back({"faiss", "nlist=" + std::to_string(nlist) + " nprobe=" + std::to_string(nprobe),
                   build, [&run, index, nprobe](std::vector<int64_t>& ids) {
                     omp_set_num_threads(1);
                     index->nprobe = static_cast<size_t>(nprobe);
                     std::vector<faiss::Index::idx_t> labels(ids.size());
                     std::vector<float> distances(ids.size());
                     index->search(run.queries().n, run.queries().data.data(), kK, distances.data(),
                                   labels.data());
                     for (size_t i = 0; i < ids.size(); ++i) ids[i] = labels[i];
                   }});
  }
}

// Times every point in `rounds` interleaved rounds (so that a slow spell of a shared machine
// hits all methods alike) and keeps each point's median QPS.
void Measure(Run& run, const std::vector<Searcher>& searchers, int rounds) {
  std::vector<std::vector<double>> qps(searchers.size());
  std::vector<double> recall(searchers.size());
  std::vector<int64_t> ids(static_cast<size_t>(run.queries().n * kK));
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < searchers.size(); ++i) {
      const double t = Now();
      searchers[i].search(ids);
      qps[i].push_back(static_cast<double>(run.queries().n) / (Now() - t));
      if (round == 0) recall[i] = run.Recall(ids);
    }
    std::printf("timing round %d/%d done\n", round + 1, rounds);
    std::fflush(stdout);
  }
  for (size_t i = 0; i < searchers.size(); ++i) {
    std::sort(qps[i].begin(), qps[i].end());
    run.Add({searchers[i].method, searchers[i].param, recall[i], qps[i][qps[i].size() / 2],
             searchers[i].build_seconds});
  }
}

// Gaussian clusters: 1000 centers ~ N(0, 1) per coordinate, points = center + N(0, 0.35).
VectorSet Clustered(int64_t n, int64_t dim, uint64_t seed) {
  std::mt19937_64 centers_rng(12345);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int kClusters = 1000;
  std::vector<float> centers(static_cast<size_t>(kClusters * dim));
  for (float& c : centers) c = normal(centers_rng);
  std::mt19937_64 rng(seed);
  VectorSet set{.n = n, .dim = dim, .data = std::vector<float>(static_cast<size_t>(n * dim))};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = static_cast<int64_t>(rng() % kClusters);
    for (int64_t d = 0; d < dim; ++d) {
      set.data[static_cast<size_t>(i * dim + d)] =
          centers[static_cast<size_t>(c * dim + d)] + 0.35f * normal(rng);
    }
  }
  return set;
}

// hnswlib runs with M = 16 and `hnsw_ef_construction`; faiss with `nlist` lists.
void RunDataset(const std::string& name, const VectorSet& items, const VectorSet& queries,
                const Flags& flags, FILE* csv, int hnsw_ef_construction, int nlist) {
  std::printf("[%s] %lld items x %lld dims, %lld queries; distance kernels: %s\n", name.c_str(),
              static_cast<long long>(items.n), static_cast<long long>(items.dim),
              static_cast<long long>(queries.n),
              std::string(retrieval::DistanceKernelName()).c_str());
  Run run(name, items, queries, csv);
  std::vector<std::shared_ptr<void>> keep;  // The built indexes, alive through the rounds.
  std::vector<Searcher> searchers;
  AddTrees(run, flags, keep, searchers);
  AddHnsw(run, flags, 16, hnsw_ef_construction, keep, searchers);
  AddFaiss(run, flags, nlist, keep, searchers);
  Measure(run, searchers, flags.rounds);
  run.Summarize();
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--dataset")
      flags.dataset = value;
    else if (key == "--fashion-dir")
      flags.fashion_dir = value;
    else if (key == "--out")
      flags.out = value;
    else if (key == "--fashion-queries")
      flags.fashion_queries = std::stoll(value);
    else if (key == "--clustered-n")
      flags.clustered_n = std::stoll(value);
    else if (key == "--clustered-queries")
      flags.clustered_queries = std::stoll(value);
    else if (key == "--trees")
      flags.trees = ParseList(value);
    else if (key == "--beams")
      flags.beams = ParseList(value);
    else if (key == "--scan-leaves")
      flags.scan_leaves = std::stoi(value);
    else if (key == "--efs")
      flags.efs = ParseList(value);
    else if (key == "--nprobes")
      flags.nprobes = ParseList(value);
    else if (key == "--build-threads")
      flags.build_threads = std::stoi(value);
    else
      Run::Die("unknown flag " + key);
  }
  std::filesystem::create_directories(flags.out);
  const std::string csv_path = flags.out + "/results.csv";
  FILE* csv = std::fopen(csv_path.c_str(), "w");
  if (csv == nullptr) Run::Die("cannot write " + csv_path);
  std::fprintf(csv, "dataset,method,param,recall_at_10,qps,build_seconds\n");
  if (flags.dataset == "fashion" || flags.dataset == "both") {
    auto items = retrieval::ReadVectors(flags.fashion_dir + "/train-images-idx3-ubyte.gz", {});
    auto queries = retrieval::ReadVectors(flags.fashion_dir + "/t10k-images-idx3-ubyte.gz",
                                          {.max_vectors = flags.fashion_queries});
    if (!items.ok())
      Run::Die(items.status().ToString() + " (apt-get install dataset-fashion-mnist)");
    if (!queries.ok()) Run::Die(queries.status().ToString());
    RunDataset("fashion-mnist", *items, *queries, flags, csv, 100, 1024);
  }
  if (flags.dataset == "clustered" || flags.dataset == "both") {
    const VectorSet items = Clustered(flags.clustered_n, 64, 1);
    const VectorSet queries = Clustered(flags.clustered_queries, 64, 2);
    RunDataset("clustered-" + std::to_string(flags.clustered_n / 1000) + "k", items, queries, flags,
               csv, 100, 4096);
  }
  std::fclose(csv);
  std::printf("wrote %s\n", csv_path.c_str());
  return 0;
}

}  // namespace
}  // namespace colony::bench

int main(int argc, char** argv) { return colony::bench::Main(argc, argv); }
