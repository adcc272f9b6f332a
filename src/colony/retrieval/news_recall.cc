#include "colony/retrieval/news_recall.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_set>

#include "colony/base/logging.h"
#include "colony/retrieval/internal/parallel.h"
#include "colony/retrieval/tree_index.h"

namespace colony::retrieval {
namespace {

void Normalize(float* v, int dim) {
  float norm = 0;
  for (int d = 0; d < dim; ++d) norm += v[d] * v[d];
  norm = std::sqrt(std::max(norm, 1e-12f));
  for (int d = 0; d < dim; ++d) v[d] /= norm;
}

// Rows of `dim` floats: a random direction each.
std::vector<float> RandomUnitRows(int64_t rows, int dim, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> out(static_cast<size_t>(rows * dim));
  for (float& v : out) v = normal(rng);
  for (int64_t r = 0; r < rows; ++r) Normalize(out.data() + r * dim, dim);
  return out;
}

// Mean of the tag rows `tags`, plus `noise` times `extra`, normalized, written to `out`.
void Mix(const std::vector<float>& tag_vectors, const std::vector<int64_t>& tags,
         const float* extra, float noise, int dim, float* out) {
  std::fill(out, out + dim, 0.0f);
  for (int64_t t : tags) {
    for (int d = 0; d < dim; ++d) out[d] += tag_vectors[static_cast<size_t>(t * dim + d)];
  }
  for (int d = 0; d < dim; ++d)
    out[d] = out[d] / static_cast<float>(tags.size()) + noise * extra[d];
  Normalize(out, dim);
}

double Share(const SearchResults& r, int64_t user, const std::unordered_set<uint64_t>& clicks) {
  int64_t hits = 0;
  for (uint64_t id : r.row(user)) hits += static_cast<int64_t>(clicks.count(id));
  return static_cast<double>(hits) / static_cast<double>(clicks.size());
}

}  // namespace

Status NewsRecallOptions::Validate() const {
  if (num_tags < 1 || num_news < 2 || num_users < 1 || dim < 1 || tags_per_user < 1 ||
      clicks_per_user < 1 || k < 1) {
    return InvalidArgumentError(
        "news recall: tags, news, users, dim, tags_per_user, "
        "clicks_per_user and k must be positive (and news >= 2)");
  }
  if (clicks_per_user > num_news || k > num_news) {
    return InvalidArgumentError("news recall: clicks_per_user and k must not exceed num_news");
  }
  return OkStatus();
}

nlohmann::json NewsRecallReport::ToJson() const {
  return {{"users", users},
          {"clicks", clicks},
          {"tree_recall", tree_recall},
          {"exact_recall", exact_recall},
          {"random_recall", random_recall},
          {"tree_overlap_with_exact", tree_overlap_with_exact},
          {"qps", qps}};
}

StatusOr<NewsRecallReport> RunNewsRecall(const NewsRecallOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  std::mt19937_64 rng(o.seed);
  const int dim = o.dim;
  const std::vector<float> tag_vectors = RandomUnitRows(o.num_tags, dim, rng);
  std::uniform_int_distribution<int64_t> any_tag(0, o.num_tags - 1);
  std::uniform_int_distribution<int> tag_count(1, 3);

  VectorSet news{.n = o.num_news, .dim = dim, .data = {}};
  news.data.resize(static_cast<size_t>(o.num_news * dim));
  const std::vector<float> news_noise = RandomUnitRows(o.num_news, dim, rng);
  for (int64_t i = 0; i < o.num_news; ++i) {
    std::vector<int64_t> tags(static_cast<size_t>(tag_count(rng)));
    for (int64_t& t : tags) t = any_tag(rng);
    Mix(tag_vectors, tags, news_noise.data() + i * dim, 0.5f, dim, news.data.data() + i * dim);
  }

  // Each user: the vector formed from its tags (what the recall sees), and its true interest
  // (tags plus a private part) that drives its clicks.
  std::vector<float> users(static_cast<size_t>(o.num_users * dim));
  std::vector<float> truth(users.size());
  const std::vector<float> private_part = RandomUnitRows(o.num_users, dim, rng);
  const std::vector<float> zero(static_cast<size_t>(dim), 0.0f);
  for (int64_t u = 0; u < o.num_users; ++u) {
    std::vector<int64_t> tags(static_cast<size_t>(o.tags_per_user));
    for (int64_t& t : tags) t = any_tag(rng);
    Mix(tag_vectors, tags, zero.data(), 0.0f, dim, users.data() + u * dim);
    Mix(tag_vectors, tags, private_part.data() + u * dim, 0.4f, dim, truth.data() + u * dim);
  }
  COLONY_LOG_INFO("news recall: {} tags, {} news, {} users, dim {}", o.num_tags, o.num_news,
                  o.num_users, dim);

  // Clicks without replacement by the Gumbel top-k trick: argmax of score + Gumbel noise.
  std::vector<std::unordered_set<uint64_t>> clicks(static_cast<size_t>(o.num_users));
  internal::ParallelChunks(o.num_users, 64, 0, [&](int64_t u0, int64_t u1) {
    std::vector<std::pair<float, uint64_t>> keyed(static_cast<size_t>(o.num_news));
    for (int64_t u = u0; u < u1; ++u) {
      std::mt19937_64 user_rng(o.seed * 1000003 + static_cast<uint64_t>(u));
      std::uniform_real_distribution<float> uniform(1e-7f, 1.0f);
      for (int64_t i = 0; i < o.num_news; ++i) {
        const float cosine = Dot(truth.data() + u * dim, news.row(i), dim);
        const float gumbel = -std::log(-std::log(uniform(user_rng)));
        keyed[static_cast<size_t>(i)] = {-(o.sharpness * cosine + gumbel),
                                         static_cast<uint64_t>(i)};
      }
      std::partial_sort(keyed.begin(), keyed.begin() + o.clicks_per_user, keyed.end());
      for (int c = 0; c < o.clicks_per_user; ++c) {
        clicks[static_cast<size_t>(u)].insert(keyed[static_cast<size_t>(c)].second);
      }
    }
  });

  TreeIndexOptions index_options;
  index_options.num_trees = o.num_trees;
  index_options.metric = Metric::kInnerProduct;
  index_options.seed = o.seed;
  COLONY_ASSIGN_OR_RETURN(auto index, TreeIndex::Build(index_options, news));
  QueryOptions query;
  query.k = o.k;
  query.beam = o.beam;
  query.scan_leaves = o.scan_leaves;
  query.rerank = 2 * o.k;
  const auto start = std::chrono::steady_clock::now();
  COLONY_ASSIGN_OR_RETURN(SearchResults tree, index->Search(query, users));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  COLONY_ASSIGN_OR_RETURN(SearchResults exact, index->ExactSearch(o.k, users));

  NewsRecallReport report;
  report.users = o.num_users;
  report.qps = static_cast<double>(o.num_users) / std::max(seconds, 1e-9);
  std::uniform_int_distribution<uint64_t> any_news(0, static_cast<uint64_t>(o.num_news - 1));
  for (int64_t u = 0; u < o.num_users; ++u) {
    const auto& user_clicks = clicks[static_cast<size_t>(u)];
    report.clicks += static_cast<int64_t>(user_clicks.size());
    report.tree_recall += Share(tree, u, user_clicks);
    report.exact_recall += Share(exact, u, user_clicks);
    std::unordered_set<uint64_t> random;
    while (static_cast<int>(random.size()) < o.k) random.insert(any_news(rng));
    int64_t hits = 0;
    for (uint64_t id : random) hits += static_cast<int64_t>(user_clicks.count(id));
    report.random_recall += static_cast<double>(hits) / static_cast<double>(user_clicks.size());
    const std::unordered_set<uint64_t> best(exact.row(u).begin(), exact.row(u).end());
    int64_t same = 0;
    for (uint64_t id : tree.row(u)) same += static_cast<int64_t>(best.count(id));
    report.tree_overlap_with_exact += static_cast<double>(same) / o.k;
  }
  const double users_count = static_cast<double>(o.num_users);
  report.tree_recall /= users_count;
  report.exact_recall /= users_count;
  report.random_recall /= users_count;
  report.tree_overlap_with_exact /= users_count;
  return report;
}

}  // namespace colony::retrieval
