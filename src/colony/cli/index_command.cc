// colony index build|query|add|remove: the tree recall index (retrieval layer).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/retrieval/index_job.h"
#include "colony/retrieval/news_recall.h"

namespace colony::cli {
namespace {

struct IndexFlags {
  retrieval::IndexBuildJob build;
  std::string build_metric = "l2";
  retrieval::IndexQueryJob query;
  std::string summary_json;
  std::string dir, vectors;
  int64_t first_id = -1;
  std::vector<uint64_t> ids;
  retrieval::NewsRecallOptions news;
};

Status RunBuild(IndexFlags& f) {
  COLONY_ASSIGN_OR_RETURN(f.build.index.metric, retrieval::ParseMetric(f.build_metric));
  return retrieval::RunIndexBuild(f.build).status();
}

Status RunQuery(const IndexFlags& f) {
  COLONY_ASSIGN_OR_RETURN(retrieval::QuerySummary summary, retrieval::RunIndexQuery(f.query));
  return WriteSummaryJson(f.summary_json, summary.ToJson());
}

Status RunNews(const IndexFlags& f) {
  COLONY_ASSIGN_OR_RETURN(retrieval::NewsRecallReport r, retrieval::RunNewsRecall(f.news));
  std::printf(
      "news recall: %lld users, %lld clicks; recall of clicks in the top %d: tree %.4f, "
      "exact %.4f, random %.4f; tree top %d overlaps exact by %.4f; %.0f queries/s\n",
      static_cast<long long>(r.users), static_cast<long long>(r.clicks), f.news.k, r.tree_recall,
      r.exact_recall, r.random_recall, f.news.k, r.tree_overlap_with_exact, r.qps);
  return WriteSummaryJson(f.summary_json, r.ToJson());
}

}  // namespace

void AddIndexCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<IndexFlags>();
  CLI::App* index = app.add_subcommand("index", "tree recall index: build, query, add, remove");
  index->require_subcommand(1);

  CLI::App* build = index->add_subcommand("build", "build M trees over item vectors and save");
  build->add_option("--vectors", f->build.vectors_path, "items: .fvecs .ivecs .npy .csv or idx")
      ->required();
  build->add_option("--format", f->build.format, "file format (default: from the name)");
  build->add_option("--out", f->build.out_dir, "directory to save the index in")->required();
  build->add_option("--trees", f->build.index.num_trees, "M, the number of trees")
      ->capture_default_str();
  build->add_option("--metric", f->build_metric, "l2 or ip (inner product)")->capture_default_str();
  build->add_option("--seed", f->build.index.seed, "tree t uses seed + t")->capture_default_str();
  build
      ->add_option("--kmeans-iterations", f->build.index.kmeans_iterations,
                   "Lloyd steps per balanced 2-means split")
      ->capture_default_str();
  build->add_option("--threads", f->build.index.num_threads, "build threads (0: one per core)")
      ->capture_default_str();
  build->callback([f, exit_code] { *exit_code = ExitCode(RunBuild(*f)); });

  CLI::App* query = index->add_subcommand("query", "query an index; recall vs brute force, QPS");
  query->add_option("--index", f->query.index_dir, "index directory")->required();
  query->add_option("--queries", f->query.queries_path, "query vectors")->required();
  query->add_option("--format", f->query.format, "file format (default: from the name)");
  query->add_option("--max-queries", f->query.max_queries, "use the first N queries (0: all)");
  query->add_option("--k", f->query.query.k, "results per query")->capture_default_str();
  query->add_option("--beam", f->query.query.beam, "nodes kept per layer in each tree")
      ->capture_default_str();
  query
      ->add_option("--scan-leaves", f->query.query.scan_leaves,
                   "stop the beam at nodes over this many leaves and scan them (power of 2)")
      ->capture_default_str();
  query
      ->add_option("--rerank", f->query.query.rerank,
                   "candidates re-ranked on float vectors (0: all, exact for a full beam)")
      ->capture_default_str();
  query->add_option("--threads", f->query.query.num_threads, "query threads (0: one per core)")
      ->capture_default_str();
  query->add_flag("!--no-exact", f->query.exact, "skip the brute-force recall measurement");
  query->add_option("--results", f->query.results_path, "write each query's ids, one line each");
  query->add_option("--summary-json", f->summary_json,
                    "write recall_at_10, qps, build_seconds, ... as JSON");
  query->callback([f, exit_code] { *exit_code = ExitCode(RunQuery(*f)); });

  CLI::App* add = index->add_subcommand("add", "insert vectors into a saved index");
  add->add_option("--index", f->dir, "index directory")->required();
  add->add_option("--vectors", f->vectors, "vectors to insert")->required();
  add->add_option("--first-id", f->first_id, "id of the first vector (default: largest + 1)");
  add->callback([f, exit_code] {
    *exit_code = ExitCode(retrieval::RunIndexAdd(f->dir, f->vectors, f->first_id).status());
  });

  CLI::App* news = index->add_subcommand(
      "news-recall", "examples/news: user vectors from interest tags recall news (planted data)");
  news->add_option("--news", f->news.num_news, "news items")->capture_default_str();
  news->add_option("--users", f->news.num_users, "users")->capture_default_str();
  news->add_option("--tags", f->news.num_tags, "interest tags")->capture_default_str();
  news->add_option("--k", f->news.k, "news recalled per user")->capture_default_str();
  news->add_option("--trees", f->news.num_trees, "M")->capture_default_str();
  news->add_option("--beam", f->news.beam, "beam")->capture_default_str();
  news->add_option("--scan-leaves", f->news.scan_leaves, "scan_leaves")->capture_default_str();
  news->add_option("--seed", f->news.seed, "generator seed")->capture_default_str();
  news->add_option("--summary-json", f->summary_json, "write the figures as JSON");
  news->callback([f, exit_code] { *exit_code = ExitCode(RunNews(*f)); });

  CLI::App* remove = index->add_subcommand("remove", "delete items from a saved index by id");
  remove->add_option("--index", f->dir, "index directory")->required();
  remove->add_option("--ids", f->ids, "ids to remove")->required()->delimiter(',');
  remove->callback(
      [f, exit_code] { *exit_code = ExitCode(retrieval::RunIndexRemove(f->dir, f->ids)); });
}

}  // namespace colony::cli
