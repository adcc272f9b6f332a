// The news-recall example (examples/news/): interest tags and news as vectors, a user's
// vector formed from the user's tags, news recalled through a TreeIndex, and recall measured
// against the user's clicks.
//
// The vectors are given (planted by a seeded generator), not trained: each tag has a random
// unit vector; a news item carries 1 to 3 tags and its vector is the normalized mean of their
// vectors plus noise; a user has `tags_per_user` interest tags, and clicks
// `clicks_per_user` news drawn without replacement with probability proportional to
// exp(sharpness * cos(user's true interest, news)), where the true interest also holds a
// private component the tags do not reveal. No click is used to form a vector, so every
// click is held out.
//   COLONY_ASSIGN_OR_RETURN(NewsRecallReport r, RunNewsRecall({.num_news = 20000}));
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "colony/base/status.h"

namespace colony::retrieval {

struct NewsRecallOptions {
  int64_t num_tags = 300;
  int64_t num_news = 50000;
  int64_t num_users = 2000;
  int dim = 32;
  int tags_per_user = 3;
  int clicks_per_user = 20;
  float sharpness = 12.0f;  // How strongly clicks follow the interest.
  int k = 100;              // News recalled per user.
  int num_trees = 2;
  int beam = 32;
  int scan_leaves = 16;
  uint64_t seed = 7;
  Status Validate() const;
};

struct NewsRecallReport {
  int64_t users = 0, clicks = 0;
  double tree_recall = 0;              // Share of clicks among the k news the tree index recalls.
  double exact_recall = 0;             // Same for the exact top k by inner product (brute force).
  double random_recall = 0;            // Same for k news drawn at random: the floor.
  double tree_overlap_with_exact = 0;  // |tree top k ∩ exact top k| / k.
  double qps = 0;                      // Tree queries per second (all threads).
  nlohmann::json ToJson() const;       // What `colony index news --summary-json` writes.
};

// InvalidArgument for bad options.
StatusOr<NewsRecallReport> RunNewsRecall(const NewsRecallOptions& options);

}  // namespace colony::retrieval
