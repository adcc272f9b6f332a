#include "colony/retrieval/index_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "colony/base/file_util.h"
#include "colony/base/logging.h"

namespace colony::retrieval {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double RecallAt10(const SearchResults& got, const SearchResults& exact) {
  int64_t hits = 0;
  for (int64_t q = 0; q < got.num_queries; ++q) {
    std::set<uint64_t> want(exact.row(q).begin(), exact.row(q).begin() + 10);
    const auto row = got.row(q);
    for (int r = 0; r < std::min(10, got.k); ++r) hits += static_cast<int64_t>(want.count(row[r]));
  }
  return got.num_queries == 0 ? 0.0 : static_cast<double>(hits) / (10.0 * got.num_queries);
}

}  // namespace

nlohmann::json QuerySummary::ToJson() const {
  nlohmann::json json = {{"qps", qps},
                         {"build_seconds", build_seconds},
                         {"queries", queries},
                         {"items", items},
                         {"trees", trees},
                         {"k", query.k},
                         {"beam", query.beam},
                         {"scan_leaves", query.scan_leaves},
                         {"rerank", query.rerank},
                         {"threads", query.num_threads}};
  if (recall_at_10 >= 0) json["recall_at_10"] = recall_at_10;
  return json;
}

StatusOr<double> RunIndexBuild(const IndexBuildJob& job) {
  if (job.out_dir.empty()) return InvalidArgumentError("--out: give a directory for the index");
  COLONY_ASSIGN_OR_RETURN(VectorSet items, ReadVectors(job.vectors_path, {.format = job.format}));
  COLONY_LOG_INFO("index build: {} vectors x {} dims from {}; {} trees, metric {}", items.n,
                  items.dim, job.vectors_path, job.index.num_trees, MetricName(job.index.metric));
  COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Build(job.index, items));
  COLONY_RETURN_IF_ERROR(index->Save(job.out_dir));
  std::printf("index build: %lld items, %d trees of depth %d, %.2f s; saved to %s\n",
              static_cast<long long>(index->size()), index->num_trees(), index->tree_depth(0),
              index->build_seconds(), job.out_dir.c_str());
  return index->build_seconds();
}

StatusOr<QuerySummary> RunIndexQuery(const IndexQueryJob& job) {
  COLONY_RETURN_IF_ERROR(job.query.Validate());
  COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Load(job.index_dir));
  COLONY_ASSIGN_OR_RETURN(VectorSet queries,
                          ReadVectors(job.queries_path, {.format = job.format,
                                                         .expected_dim = index->dim(),
                                                         .max_vectors = job.max_queries}));
  QuerySummary summary;
  summary.queries = queries.n;
  summary.items = index->size();
  summary.trees = index->num_trees();
  summary.query = job.query;
  summary.build_seconds = index->build_seconds();
  const auto start = std::chrono::steady_clock::now();
  COLONY_ASSIGN_OR_RETURN(SearchResults results, index->Search(job.query, queries.data));
  summary.qps = static_cast<double>(queries.n) / std::max(Seconds(start), 1e-9);
  COLONY_LOG_INFO("index query: {} queries, {:.0f} per second", queries.n, summary.qps);
  if (job.exact) {
    COLONY_LOG_INFO("index query: exact top 10 by brute force over {} items for recall",
                    summary.items);
    COLONY_ASSIGN_OR_RETURN(SearchResults exact,
                            index->ExactSearch(10, queries.data, job.query.num_threads));
    summary.recall_at_10 = RecallAt10(results, exact);
  }
  if (!job.results_path.empty()) {
    std::string text;
    for (int64_t q = 0; q < results.num_queries; ++q) {
      for (uint64_t id : results.row(q)) {
        if (id != SearchResults::kNoItem) text += fmt::format("{} ", id);
      }
      if (!text.empty() && text.back() == ' ') text.pop_back();
      text += '\n';
    }
    COLONY_RETURN_IF_ERROR(WriteFileAtomic(job.results_path, text));
  }
  std::printf(
      "index query: %lld queries, k %d, beam %d, scan_leaves %d: recall@10 %.4f, %.0f "
      "queries/s\n",
      static_cast<long long>(summary.queries), job.query.k, job.query.beam, job.query.scan_leaves,
      summary.recall_at_10, summary.qps);
  return summary;
}

StatusOr<int64_t> RunIndexAdd(const std::string& index_dir, const std::string& vectors_path,
                              int64_t first_id) {
  COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Load(index_dir));
  COLONY_ASSIGN_OR_RETURN(VectorSet items,
                          ReadVectors(vectors_path, {.expected_dim = index->dim()}));
  const uint64_t first = first_id >= 0 ? static_cast<uint64_t>(first_id) : index->NextId();
  for (int64_t i = 0; i < items.n; ++i) {
    COLONY_RETURN_IF_ERROR(
        index
            ->Insert(first + static_cast<uint64_t>(i),
                     std::span<const float>(items.row(i), static_cast<size_t>(items.dim)))
            .WithContext(vectors_path + " vector " + std::to_string(i)));
  }
  COLONY_RETURN_IF_ERROR(index->Save(index_dir));
  std::printf("index add: %lld items (ids %llu..%llu), the index holds %lld\n",
              static_cast<long long>(items.n), static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + static_cast<uint64_t>(items.n) - 1),
              static_cast<long long>(index->size()));
  return items.n;
}

Status RunIndexRemove(const std::string& index_dir, const std::vector<uint64_t>& ids) {
  COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Load(index_dir));
  for (uint64_t id : ids) COLONY_RETURN_IF_ERROR(index->Remove(id));
  COLONY_RETURN_IF_ERROR(index->Save(index_dir));
  std::printf("index remove: %zu items, the index holds %lld\n", ids.size(),
              static_cast<long long>(index->size()));
  return OkStatus();
}

}  // namespace colony::retrieval
