// One search tree of a TreeIndex: a complete binary tree stored in heap order.
//
// Layers 0 .. depth-1 hold non-leaf nodes (layer l has 2^l of them, node j of layer l sits at
// heap index 2^l - 1 + j), layer `depth` holds the 2^depth leaves. Each non-leaf node has a
// vector (the centroid of the items below it) and a count of live items below it; each leaf
// holds one item slot or -1 (a padding leaf, free for an insert).
//
// Padding rule: a tree over n items has depth D = max(1, ceil(log2 n)) and 2^D >= n leaves.
// Every node splits its items into halves of ceil(n/2) (left) and floor(n/2) (right), so a
// node of layer l holds floor(n / 2^l) or ceil(n / 2^l) items: the 2^D - n padding leaves are
// spread evenly, every non-leaf node has at least one item (n > 2^(D-1)), and the tree is
// complete for any n >= 1.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "colony/retrieval/distance.h"
#include "colony/retrieval/internal/array.h"

namespace colony::retrieval::internal {

struct Tree {
  int depth = 1;
  Array<float> nodes;               // (2^depth - 1) x dim, heap order.
  Array<int32_t> counts;            // Live items below each non-leaf node.
  Array<int32_t> leaves;            // 2^depth item slots; -1 for a padding leaf.
  std::vector<int64_t> item_leaf;   // Per item slot: its leaf, or -1.
  std::vector<uint8_t> node_codes;  // `nodes` quantized (the index's quantizer), for routing.

  int64_t num_leaves() const { return int64_t{1} << depth; }
  static int64_t NodeIndex(int layer, int64_t j) { return (int64_t{1} << layer) - 1 + j; }
};

// The depth of a tree over n >= 1 items (the padding rule above).
int DepthFor(int64_t n);

// Builds `tree` over the item slots `items` (vectors at data + slot * dim) by balanced
// 2-means, top-down: each node's items are split in two halves by their projection on the
// difference of two centers, refined `iterations` times (Lloyd steps with the halves kept
// equal). `rng` seeds the initial centers, so trees built with different seeds differ.
// REQUIRES: !items.empty(); item_leaf sized to the number of slots.
void BuildTree(const float* data, int64_t dim, std::vector<int32_t> items, int iterations,
               std::mt19937_64& rng, Tree* tree);

}  // namespace colony::retrieval::internal
