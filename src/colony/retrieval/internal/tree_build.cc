// Balanced 2-means, top-down: the build half of internal/tree.h.
#include <algorithm>
#include <utility>

#include "colony/retrieval/internal/tree.h"

namespace colony::retrieval::internal {
namespace {

class Builder {
 public:
  Builder(const float* data, int64_t dim, int iterations, std::mt19937_64& rng, Tree* tree)
      : data_(data), dim_(dim), iterations_(iterations), rng_(rng), tree_(tree) {}

  void Node(int layer, int64_t j, int32_t* items, int64_t n) {
    float* center = tree_->nodes.data() + Tree::NodeIndex(layer, j) * dim_;
    Mean(items, n, center);
    tree_->counts[static_cast<size_t>(Tree::NodeIndex(layer, j))] = static_cast<int32_t>(n);
    const int64_t left = (n + 1) / 2;
    if (layer == tree_->depth - 1) {
      // n is 1 or 2 here; the second leaf stays padding when n == 1.
      for (int64_t i = 0; i < n; ++i) {
        const int64_t leaf = 2 * j + i;
        tree_->leaves[static_cast<size_t>(leaf)] = items[i];
        tree_->item_leaf[static_cast<size_t>(items[i])] = leaf;
      }
      return;
    }
    Split(items, n, left);
    Node(layer + 1, 2 * j, items, left);
    Node(layer + 1, 2 * j + 1, items + left, n - left);
  }

 private:
  void Mean(const int32_t* items, int64_t n, float* out) {
    std::fill(out, out + dim_, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float* x = data_ + static_cast<int64_t>(items[i]) * dim_;
      for (int64_t d = 0; d < dim_; ++d) out[d] += x[d];
    }
    const float inv = 1.0f / static_cast<float>(n);
    for (int64_t d = 0; d < dim_; ++d) out[d] *= inv;
  }

  // Reorders items so that the `left` items nearest center a (of two balanced centers) come
  // first. Nearer a than b in L2 means a larger projection on (a - b), up to a constant, so
  // an nth_element on the projection is an exactly balanced assignment step.
  void Split(int32_t* items, int64_t n, int64_t left) {
    if (n <= 2) return;
    center_a_.resize(static_cast<size_t>(dim_));
    center_b_.resize(static_cast<size_t>(dim_));
    direction_.resize(static_cast<size_t>(dim_));
    std::uniform_int_distribution<int64_t> pick(0, n - 1);
    const int64_t ia = pick(rng_);
    int64_t ib = pick(rng_);
    if (ib == ia) ib = (ia + 1) % n;
    std::copy_n(data_ + static_cast<int64_t>(items[ia]) * dim_, dim_, center_a_.data());
    std::copy_n(data_ + static_cast<int64_t>(items[ib]) * dim_, dim_, center_b_.data());
    keyed_.resize(static_cast<size_t>(n));
    for (int it = 0; it < iterations_; ++it) {
      for (int64_t d = 0; d < dim_; ++d) direction_[d] = center_a_[d] - center_b_[d];
      for (int64_t i = 0; i < n; ++i) {
        const float* x = data_ + static_cast<int64_t>(items[i]) * dim_;
        keyed_[static_cast<size_t>(i)] = {-Dot(x, direction_.data(), dim_), items[i]};
      }
      std::nth_element(keyed_.begin(), keyed_.begin() + left, keyed_.end());
      for (int64_t i = 0; i < n; ++i) items[i] = keyed_[static_cast<size_t>(i)].second;
      if (it + 1 < iterations_) {
        Mean(items, left, center_a_.data());
        Mean(items + left, n - left, center_b_.data());
      }
    }
  }

  const float* data_;
  const int64_t dim_;
  const int iterations_;
  std::mt19937_64& rng_;
  Tree* tree_;
  std::vector<float> center_a_, center_b_, direction_;
  std::vector<std::pair<float, int32_t>> keyed_;
};

}  // namespace

int DepthFor(int64_t n) {
  int depth = 1;
  while ((int64_t{1} << depth) < n) ++depth;
  return depth;
}

void BuildTree(const float* data, int64_t dim, std::vector<int32_t> items, int iterations,
               std::mt19937_64& rng, Tree* tree) {
  const int64_t n = static_cast<int64_t>(items.size());
  tree->depth = DepthFor(n);
  const size_t inner = static_cast<size_t>(tree->num_leaves() - 1);
  tree->nodes.Assign(std::vector<float>(inner * static_cast<size_t>(dim)));
  tree->counts.Assign(std::vector<int32_t>(inner, 0));
  tree->leaves.Assign(std::vector<int32_t>(static_cast<size_t>(tree->num_leaves()), -1));
  Builder builder(data, dim, std::max(1, iterations), rng, tree);
  builder.Node(0, 0, items.data(), n);
}

}  // namespace colony::retrieval::internal
