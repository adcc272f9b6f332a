// The state behind a TreeIndex, shared by its query/update code (tree_index.cc) and its file
// code (index_file.cc).
#pragma once

#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "colony/retrieval/internal/tree.h"
#include "colony/retrieval/quantizer.h"
#include "colony/retrieval/tree_index.h"

namespace colony::retrieval {

struct TreeIndex::Impl {
  int64_t dim = 0;
  Metric metric = Metric::kL2;
  uint64_t seed = 1;
  double build_seconds = 0;
  // Item slots: vectors (slots x dim), ids and a live flag; freed slots are reused.
  internal::Array<float> vectors;
  internal::Array<uint64_t> ids;
  internal::Array<uint8_t> alive;
  std::vector<internal::Tree> trees;
  // Coded copies of the vectors and node centroids that queries scan (quantizer.h).
  ScalarQuantizer quantizer;
  std::vector<uint8_t> codes;
  std::unordered_map<uint64_t, int32_t> slot_of;
  std::vector<int32_t> free_slots;
  std::shared_ptr<void> mapping;  // Keeps a loaded file mapped while views point into it.
  mutable std::shared_mutex mu;

  int64_t num_slots() const { return static_cast<int64_t>(ids.size()); }
  const float* vector(int64_t slot) const { return vectors.data() + slot * dim; }
  const uint8_t* code(int64_t slot) const { return codes.data() + slot * dim; }
  const uint8_t* node_code(const internal::Tree& tree, int64_t node) const {
    return tree.node_codes.data() + node * dim;
  }
  // Re-encodes one slot / one node after its float vector changed.
  void EncodeSlot(int64_t slot) { quantizer.Encode(vector(slot), codes.data() + slot * dim); }
  void EncodeNode(internal::Tree& tree, int64_t node) {
    quantizer.Encode(tree.nodes.data() + node * dim, tree.node_codes.data() + node * dim);
  }
  // Codes for every slot and node, from the float arrays and `quantizer`.
  void EncodeAll();
  // Fills slot_of, free_slots and each tree's item_leaf from the arrays; DataLoss when a
  // leaf names a slot that does not exist or is not live, or a live item lacks a leaf.
  Status IndexSlots();
};

}  // namespace colony::retrieval
