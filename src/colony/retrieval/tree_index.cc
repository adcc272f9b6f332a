#include "colony/retrieval/tree_index.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <limits>
#include <mutex>
#include <random>
#include <utility>

#include "colony/base/logging.h"
#include "colony/retrieval/internal/exact_search.h"
#include "colony/retrieval/internal/index_impl.h"
#include "colony/retrieval/internal/parallel.h"

namespace colony::retrieval {
namespace {

using internal::Tree;

// Per-thread buffers, reused across queries so that a query allocates nothing once warm.
struct Scratch {
  std::vector<std::pair<float, int64_t>> beam, next;  // (distance, index within the layer)
  std::vector<std::pair<float, int32_t>> candidates;  // (exact distance, item slot)
  std::vector<uint32_t> seen;                         // seen[slot] == epoch: already a candidate
  uint32_t epoch = 0;

  void StartQuery(int64_t num_slots) {
    if (seen.size() < static_cast<size_t>(num_slots)) {
      seen.assign(static_cast<size_t>(num_slots), 0);
      epoch = 0;
    }
    if (++epoch == 0) {
      std::fill(seen.begin(), seen.end(), 0);
      epoch = 1;
    }
    candidates.clear();
  }
  bool FirstVisit(int32_t slot) {
    if (seen[static_cast<size_t>(slot)] == epoch) return false;
    seen[static_cast<size_t>(slot)] = epoch;
    return true;
  }
};

int Log2(int power_of_two) {
  int log = 0;
  while ((1 << log) < power_of_two) ++log;
  return log;
}

bool IsPowerOfTwo(int v) { return v > 0 && (v & (v - 1)) == 0; }

// Most results (queries x k) one Search returns: about 400 MB of ids and distances.
constexpr int64_t kMaxResults = int64_t{1} << 25;

void KeepBest(std::vector<std::pair<float, int64_t>>& v, int beam) {
  if (static_cast<int>(v.size()) <= beam) return;
  std::nth_element(v.begin(), v.begin() + beam, v.end());
  v.resize(static_cast<size_t>(beam));
}

// Asks for every cache line of a vector: candidates sit at random places in memory, so
// fetching the next one while the current one is compared hides most of the latency.
template <typename T>
inline void Prefetch(const T* v, int64_t dim) {
  const char* bytes = reinterpret_cast<const char*>(v);
  for (int64_t i = 0; i < dim * static_cast<int64_t>(sizeof(T)); i += 64) {
    __builtin_prefetch(bytes + i);
  }
}

// out[i].first = the coded distance from `query` to row(i), for i in [0, out.size()).
template <typename Row>
void Score(const TreeIndex::Impl& ix, const float* query, Row&& row,
           std::vector<std::pair<float, int64_t>>& out) {
  const size_t n = out.size();
  if (n > 0) Prefetch(row(0), ix.dim);
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n) Prefetch(row(i + 1), ix.dim);
    out[i].first = ix.quantizer.Distance(ix.metric, query, row(i));
  }
}

// Beam descent in one tree; adds the leaves reached to scratch.candidates, with their coded
// distances.
void DescendTree(const TreeIndex::Impl& ix, const Tree& tree, const QueryOptions& options,
                 const float* query, Scratch& s) {
  const int stop = std::max(0, tree.depth - Log2(options.scan_leaves));
  s.beam.assign(1, {0.0f, 0});
  int layer = 0;
  for (; layer < stop; ++layer) {
    s.next.clear();
    const int child_layer = layer + 1;
    if (child_layer < tree.depth) {
      const int64_t base = Tree::NodeIndex(child_layer, 0);
      for (const auto& [unused, j] : s.beam) {
        for (int64_t c = 2 * j; c < 2 * j + 2; ++c) {
          if (tree.counts[static_cast<size_t>(base + c)] != 0) s.next.emplace_back(0.0f, c);
        }
      }
      // A layer that keeps every child needs no scores (near the root, where 2^l <= beam).
      if (static_cast<int>(s.next.size()) > options.beam) {
        Score(
            ix, query, [&](size_t i) { return ix.node_code(tree, base + s.next[i].second); },
            s.next);
      }
    } else {
      for (const auto& [unused, j] : s.beam) {
        for (int64_t c = 2 * j; c < 2 * j + 2; ++c) {
          if (tree.leaves[static_cast<size_t>(c)] >= 0) s.next.emplace_back(0.0f, c);
        }
      }
      Score(
          ix, query,
          [&](size_t i) { return ix.code(tree.leaves[static_cast<size_t>(s.next[i].second)]); },
          s.next);
    }
    KeepBest(s.next, options.beam);
    std::swap(s.beam, s.next);
  }
  if (layer == tree.depth) {
    for (const auto& [d, leaf] : s.beam) {
      const int32_t slot = tree.leaves[static_cast<size_t>(leaf)];
      if (s.FirstVisit(slot)) s.candidates.emplace_back(d, slot);
    }
    return;
  }
  // Every leaf under the kept nodes: gather the new slots, then score them.
  const int shift = tree.depth - layer;
  s.next.clear();
  for (const auto& [unused, j] : s.beam) {
    for (int64_t leaf = j << shift; leaf < (j + 1) << shift; ++leaf) {
      const int32_t slot = tree.leaves[static_cast<size_t>(leaf)];
      if (slot >= 0 && s.FirstVisit(slot)) s.next.emplace_back(0.0f, slot);
    }
  }
  Score(
      ix, query, [&](size_t i) { return ix.code(s.next[i].second); }, s.next);
  for (const auto& [d, slot] : s.next) s.candidates.emplace_back(d, static_cast<int32_t>(slot));
}

void SearchOne(const TreeIndex::Impl& ix, const QueryOptions& options, DistanceFn distance,
               const float* query, uint64_t* out_ids, float* out_distances) {
  thread_local Scratch scratch;
  scratch.StartQuery(ix.num_slots());
  for (const Tree& tree : ix.trees) DescendTree(ix, tree, options, query, scratch);
  // Exact re-rank of the best candidates by coded distance.
  auto& c = scratch.candidates;
  const size_t rerank =
      options.rerank == 0
          ? c.size()
          : std::min(c.size(), static_cast<size_t>(std::max(options.rerank, options.k)));
  if (rerank < c.size()) {
    std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(rerank), c.end());
    c.resize(rerank);
  }
  for (size_t i = 0; i < c.size(); ++i) {
    if (i + 1 < c.size()) Prefetch(ix.vector(c[i + 1].second), ix.dim);
    c[i].first = distance(query, ix.vector(c[i].second), ix.dim);
  }
  const int found = std::min(options.k, static_cast<int>(c.size()));
  std::partial_sort(c.begin(), c.begin() + found, c.end());
  for (int r = 0; r < options.k; ++r) {
    out_ids[r] = r < found ? ix.ids[static_cast<size_t>(c[static_cast<size_t>(r)].second)]
                           : SearchResults::kNoItem;
    out_distances[r] =
        r < found ? c[static_cast<size_t>(r)].first : std::numeric_limits<float>::infinity();
  }
}

Status CheckQueries(const TreeIndex::Impl& ix, std::span<const float> queries) {
  if (queries.size() % static_cast<size_t>(ix.dim) != 0) {
    return InvalidArgumentError("queries hold " + std::to_string(queries.size()) +
                                " floats, not a multiple of the index dimension " +
                                std::to_string(ix.dim));
  }
  // NaN distances would break the strict weak order the beam's sorts rely on.
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!std::isfinite(queries[i])) {
      return InvalidArgumentError("query " + std::to_string(i / static_cast<size_t>(ix.dim)) +
                                  " holds a value that is not finite (NaN or infinity)");
    }
  }
  return OkStatus();
}

// Moves every leaf one layer down: the old leaf becomes a node over itself (left) and a free
// leaf (right), so a full tree gains 2^depth free leaves and stays complete.
void Deepen(TreeIndex::Impl& ix, Tree& tree) {
  const int64_t old_leaves = tree.num_leaves();
  const size_t dim = static_cast<size_t>(ix.dim);
  tree.nodes.Resize(static_cast<size_t>(2 * old_leaves - 1) * dim, 0.0f);
  tree.counts.Resize(static_cast<size_t>(2 * old_leaves - 1), 0);
  const int64_t base = old_leaves - 1;  // Heap index of the new layer's first node.
  std::vector<int32_t> leaves(static_cast<size_t>(2 * old_leaves), -1);
  for (int64_t j = 0; j < old_leaves; ++j) {
    const int32_t slot = tree.leaves[static_cast<size_t>(j)];
    if (slot < 0) continue;
    std::copy_n(ix.vector(slot), dim, tree.nodes.data() + (base + j) * ix.dim);
    tree.counts[static_cast<size_t>(base + j)] = 1;
    leaves[static_cast<size_t>(2 * j)] = slot;
    tree.item_leaf[static_cast<size_t>(slot)] = 2 * j;
  }
  tree.leaves.Assign(std::move(leaves));
  tree.node_codes.resize(tree.nodes.size());
  for (int64_t j = 0; j < old_leaves; ++j) {
    if (tree.counts[static_cast<size_t>(base + j)] > 0) ix.EncodeNode(tree, base + j);
  }
  ++tree.depth;
}

// Running-mean update of a node's centroid when one item joins (sign +1) or leaves (-1).
void UpdateCentroid(float* center, const float* x, int64_t dim, int32_t count_after, int sign) {
  if (count_after <= 0) return;
  const float w = 1.0f / static_cast<float>(count_after);
  for (int64_t d = 0; d < dim; ++d) center[d] += static_cast<float>(sign) * (x[d] - center[d]) * w;
}

// Stores the items in the first tree's leaf order, so that the leaves under any node of that
// tree are neighbors in memory and a scan reads them sequentially.
void RenumberByFirstTree(TreeIndex::Impl& ix, int64_t dim) {
  const Tree& first = ix.trees[0];
  std::vector<int32_t> new_slot(static_cast<size_t>(ix.num_slots()), -1);
  std::vector<float> vectors(ix.vectors.size());
  std::vector<uint64_t> ids(ix.ids.size());
  int32_t next = 0;
  for (int64_t leaf = 0; leaf < first.num_leaves(); ++leaf) {
    const int32_t slot = first.leaves[static_cast<size_t>(leaf)];
    if (slot < 0) continue;
    new_slot[static_cast<size_t>(slot)] = next;
    std::copy_n(ix.vector(slot), dim, vectors.data() + next * dim);
    ids[static_cast<size_t>(next)] = ix.ids[static_cast<size_t>(slot)];
    ++next;
  }
  ix.vectors.Assign(std::move(vectors));
  ix.ids.Assign(std::move(ids));
  for (Tree& tree : ix.trees) {
    for (size_t leaf = 0; leaf < tree.leaves.size(); ++leaf) {
      int32_t& slot = tree.leaves[leaf];
      if (slot >= 0) slot = new_slot[static_cast<size_t>(slot)];
    }
  }
}

}  // namespace

Status TreeIndexOptions::Validate() const {
  if (num_trees < 1 || num_trees > 1024) {
    return InvalidArgumentError("num_trees must be in [1, 1024], got " + std::to_string(num_trees));
  }
  if (kmeans_iterations < 1) {
    return InvalidArgumentError("kmeans_iterations must be >= 1, got " +
                                std::to_string(kmeans_iterations));
  }
  if (num_threads < 0) return InvalidArgumentError("num_threads must be >= 0 (0: one per core)");
  return OkStatus();
}

Status QueryOptions::Validate() const {
  if (k < 1 || k > kMaxK) {
    return InvalidArgumentError("k must be in [1, " + std::to_string(kMaxK) + "], got " +
                                std::to_string(k));
  }
  if (beam < 1 || beam > kMaxBeam) {
    return InvalidArgumentError("beam must be in [1, " + std::to_string(kMaxBeam) + "], got " +
                                std::to_string(beam));
  }
  if (!IsPowerOfTwo(scan_leaves) || scan_leaves > kMaxScanLeaves) {
    return InvalidArgumentError("scan_leaves must be a power of two (1, 2, 4, ..., " +
                                std::to_string(kMaxScanLeaves) + "), got " +
                                std::to_string(scan_leaves));
  }
  if (rerank < 0 || rerank > kMaxRerank) {
    return InvalidArgumentError("rerank must be in [0, " + std::to_string(kMaxRerank) +
                                "] (0: re-rank every candidate), got " + std::to_string(rerank));
  }
  if (num_threads < 0 || num_threads > kMaxThreads) {
    return InvalidArgumentError("num_threads must be in [0, " + std::to_string(kMaxThreads) +
                                "] (0: one per core), got " + std::to_string(num_threads));
  }
  return OkStatus();
}

TreeIndex::TreeIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TreeIndex::~TreeIndex() = default;

StatusOr<std::unique_ptr<TreeIndex>> TreeIndex::Build(const TreeIndexOptions& options,
                                                      const VectorSet& items,
                                                      std::span<const uint64_t> ids) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  if (items.n <= 0 || items.dim <= 0) return InvalidArgumentError("no items to index");
  if (items.n >= std::numeric_limits<int32_t>::max()) {
    return InvalidArgumentError("at most 2^31 - 2 items, got " + std::to_string(items.n));
  }
  if (!ids.empty() && static_cast<int64_t>(ids.size()) != items.n) {
    return InvalidArgumentError(std::to_string(ids.size()) + " ids for " + std::to_string(items.n) +
                                " items");
  }
  const auto start = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->dim = items.dim;
  impl->metric = options.metric;
  impl->seed = options.seed;
  impl->vectors.Assign(items.data);
  std::vector<uint64_t> all_ids(static_cast<size_t>(items.n));
  for (int64_t i = 0; i < items.n; ++i) {
    all_ids[static_cast<size_t>(i)] = ids.empty() ? static_cast<uint64_t>(i) : ids[i];
  }
  impl->ids.Assign(std::move(all_ids));
  impl->alive.Assign(std::vector<uint8_t>(static_cast<size_t>(items.n), 1));
  impl->trees.resize(static_cast<size_t>(options.num_trees));
  std::vector<int32_t> slots(static_cast<size_t>(items.n));
  for (int64_t i = 0; i < items.n; ++i) slots[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  std::atomic<int> done{0};
  internal::ParallelChunks(options.num_trees, 1, options.num_threads, [&](int64_t t, int64_t) {
    std::mt19937_64 rng(options.seed + static_cast<uint64_t>(t));
    Tree& tree = impl->trees[static_cast<size_t>(t)];
    tree.item_leaf.assign(static_cast<size_t>(items.n), -1);
    internal::BuildTree(items.data.data(), items.dim, slots, options.kmeans_iterations, rng, &tree);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    COLONY_LOG_INFO("index build: tree {}/{} done (depth {}), {:.1f} s", ++done, options.num_trees,
                    tree.depth, seconds);
  });
  RenumberByFirstTree(*impl, items.dim);
  COLONY_RETURN_IF_ERROR(impl->IndexSlots().WithContext("build"));
  impl->quantizer = ScalarQuantizer::Fit(impl->vectors.data(), items.n, items.dim);
  impl->EncodeAll();
  impl->build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::unique_ptr<TreeIndex>(new TreeIndex(std::move(impl)));
}

Status TreeIndex::Impl::IndexSlots() {
  slot_of.clear();
  free_slots.clear();
  slot_of.reserve(static_cast<size_t>(num_slots()));
  for (int64_t s = 0; s < num_slots(); ++s) {
    if (!alive[static_cast<size_t>(s)]) {
      free_slots.push_back(static_cast<int32_t>(s));
      continue;
    }
    if (!slot_of.emplace(ids[static_cast<size_t>(s)], static_cast<int32_t>(s)).second) {
      return InvalidArgumentError("id " + std::to_string(ids[static_cast<size_t>(s)]) +
                                  " appears twice");
    }
  }
  for (size_t t = 0; t < trees.size(); ++t) {
    Tree& tree = trees[t];
    tree.item_leaf.assign(static_cast<size_t>(num_slots()), -1);
    for (int64_t leaf = 0; leaf < tree.num_leaves(); ++leaf) {
      const int32_t slot = tree.leaves[static_cast<size_t>(leaf)];
      if (slot < 0) continue;
      if (slot >= num_slots() || !alive[static_cast<size_t>(slot)] ||
          tree.item_leaf[static_cast<size_t>(slot)] >= 0) {
        return DataLossError("tree " + std::to_string(t) + " leaf " + std::to_string(leaf) +
                             " names item slot " + std::to_string(slot) +
                             ", which is not a live item or is in another leaf");
      }
      tree.item_leaf[static_cast<size_t>(slot)] = leaf;
    }
    if (static_cast<int64_t>(std::count_if(tree.item_leaf.begin(), tree.item_leaf.end(),
                                           [](int64_t l) { return l >= 0; })) !=
        static_cast<int64_t>(slot_of.size())) {
      return DataLossError("tree " + std::to_string(t) + " does not hold every live item");
    }
  }
  return OkStatus();
}

void TreeIndex::Impl::EncodeAll() {
  codes.resize(static_cast<size_t>(num_slots() * dim));
  for (int64_t s = 0; s < num_slots(); ++s) EncodeSlot(s);
  for (Tree& tree : trees) {
    tree.node_codes.resize(tree.nodes.size());
    for (int64_t node = 0; node < tree.num_leaves() - 1; ++node) EncodeNode(tree, node);
  }
}

StatusOr<SearchResults> TreeIndex::Search(const QueryOptions& options,
                                          std::span<const float> queries) const {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_RETURN_IF_ERROR(CheckQueries(*impl_, queries));
  SearchResults results;
  results.num_queries = static_cast<int64_t>(queries.size()) / impl_->dim;
  if (results.num_queries > kMaxResults / options.k) {
    return InvalidArgumentError(std::to_string(results.num_queries) + " queries x k " +
                                std::to_string(options.k) + " is more than " +
                                std::to_string(kMaxResults) +
                                " results in one call; send fewer queries per call");
  }
  results.k = options.k;
  results.ids.resize(static_cast<size_t>(results.num_queries * options.k));
  results.distances.resize(results.ids.size());
  const DistanceFn distance = GetDistanceFn(impl_->metric);
  std::shared_lock lock(impl_->mu);
  internal::ParallelChunks(
      results.num_queries, 16, options.num_threads, [&](int64_t q0, int64_t q1) {
        for (int64_t q = q0; q < q1; ++q) {
          SearchOne(*impl_, options, distance, queries.data() + q * impl_->dim,
                    results.ids.data() + q * options.k, results.distances.data() + q * options.k);
        }
      });
  return results;
}

StatusOr<SearchResults> TreeIndex::ExactSearch(int k, std::span<const float> queries,
                                               int num_threads) const {
  if (k < 1) return InvalidArgumentError("k must be >= 1, got " + std::to_string(k));
  COLONY_RETURN_IF_ERROR(CheckQueries(*impl_, queries));
  SearchResults results;
  results.num_queries = static_cast<int64_t>(queries.size()) / impl_->dim;
  results.k = k;
  std::vector<int32_t> slots(static_cast<size_t>(results.num_queries * k));
  results.distances.resize(slots.size());
  std::shared_lock lock(impl_->mu);
  internal::ExactTopK(GetDistanceFn(impl_->metric), impl_->vectors.data(), impl_->alive.data(),
                      impl_->num_slots(), impl_->dim, queries.data(), results.num_queries, k,
                      num_threads, slots.data(), results.distances.data());
  results.ids.resize(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    results.ids[i] =
        slots[i] < 0 ? SearchResults::kNoItem : impl_->ids[static_cast<size_t>(slots[i])];
  }
  return results;
}

Status TreeIndex::Insert(uint64_t id, std::span<const float> vector) {
  Impl& ix = *impl_;
  if (static_cast<int64_t>(vector.size()) != ix.dim) {
    return InvalidArgumentError("Insert: the vector has " + std::to_string(vector.size()) +
                                " floats, the index dimension is " + std::to_string(ix.dim));
  }
  if (!std::all_of(vector.begin(), vector.end(), [](float v) { return std::isfinite(v); })) {
    return InvalidArgumentError("Insert: the vector of id " + std::to_string(id) +
                                " holds a value that is not finite (NaN or infinity)");
  }
  std::unique_lock lock(ix.mu);
  if (ix.slot_of.count(id) != 0) {
    return AlreadyExistsError("Insert: id " + std::to_string(id) +
                              " is in the index; remove it first");
  }
  int32_t slot;
  if (!ix.free_slots.empty()) {
    slot = ix.free_slots.back();
    ix.free_slots.pop_back();
  } else {
    slot = static_cast<int32_t>(ix.num_slots());
    ix.vectors.Resize(static_cast<size_t>((slot + 1) * ix.dim), 0.0f);
    ix.ids.Resize(static_cast<size_t>(slot + 1), 0);
    ix.alive.Resize(static_cast<size_t>(slot + 1), 0);
    ix.codes.resize(static_cast<size_t>((slot + 1) * ix.dim));
    for (Tree& tree : ix.trees) tree.item_leaf.push_back(-1);
  }
  std::copy(vector.begin(), vector.end(), ix.vectors.data() + slot * ix.dim);
  ix.EncodeSlot(slot);
  ix.ids[static_cast<size_t>(slot)] = id;
  ix.alive[static_cast<size_t>(slot)] = 1;
  ix.slot_of[id] = slot;
  const DistanceFn distance = GetDistanceFn(ix.metric);
  const float* x = ix.vector(slot);
  for (Tree& tree : ix.trees) {
    if (tree.counts[0] >= tree.num_leaves()) Deepen(ix, tree);
    int64_t j = 0;
    for (int layer = 0; layer < tree.depth; ++layer) {
      const int64_t node = Tree::NodeIndex(layer, j);
      const int32_t count = ++tree.counts[static_cast<size_t>(node)];
      UpdateCentroid(tree.nodes.data() + node * ix.dim, x, ix.dim, count, +1);
      ix.EncodeNode(tree, node);
      // Of the two children with room, the nearer; at the last layer, the free leaf.
      int64_t best = -1;
      float best_distance = std::numeric_limits<float>::infinity();
      for (int64_t c = 2 * j; c < 2 * j + 2; ++c) {
        if (layer + 1 == tree.depth) {
          if (tree.leaves[static_cast<size_t>(c)] < 0 && best < 0) best = c;
          continue;
        }
        const int64_t child = Tree::NodeIndex(layer + 1, c);
        const int64_t room = (tree.num_leaves() >> (layer + 1)) - tree.counts[child];
        if (room <= 0) continue;
        const float d = tree.counts[child] == 0
                            ? std::numeric_limits<float>::max()
                            : distance(x, tree.nodes.data() + child * ix.dim, ix.dim);
        if (best < 0 || d < best_distance) best = c, best_distance = d;
      }
      j = best;
    }
    tree.leaves[static_cast<size_t>(j)] = slot;
    tree.item_leaf[static_cast<size_t>(slot)] = j;
  }
  return OkStatus();
}

Status TreeIndex::Remove(uint64_t id) {
  Impl& ix = *impl_;
  std::unique_lock lock(ix.mu);
  auto it = ix.slot_of.find(id);
  if (it == ix.slot_of.end()) {
    return NotFoundError("Remove: id " + std::to_string(id) + " is not in the index");
  }
  const int32_t slot = it->second;
  const float* x = ix.vector(slot);
  for (Tree& tree : ix.trees) {
    const int64_t leaf = tree.item_leaf[static_cast<size_t>(slot)];
    tree.leaves[static_cast<size_t>(leaf)] = -1;
    tree.item_leaf[static_cast<size_t>(slot)] = -1;
    for (int layer = tree.depth - 1; layer >= 0; --layer) {
      const int64_t node = Tree::NodeIndex(layer, leaf >> (tree.depth - layer));
      const int32_t count = --tree.counts[static_cast<size_t>(node)];
      UpdateCentroid(tree.nodes.data() + node * ix.dim, x, ix.dim, count, -1);
      ix.EncodeNode(tree, node);
    }
  }
  ix.alive[static_cast<size_t>(slot)] = 0;
  ix.free_slots.push_back(slot);
  ix.slot_of.erase(it);
  return OkStatus();
}

int64_t TreeIndex::size() const {
  std::shared_lock lock(impl_->mu);
  return static_cast<int64_t>(impl_->slot_of.size());
}
uint64_t TreeIndex::NextId() const {
  std::shared_lock lock(impl_->mu);
  uint64_t next = 0;
  for (const auto& [id, slot] : impl_->slot_of) next = std::max(next, id + 1);
  return next;
}
int64_t TreeIndex::dim() const { return impl_->dim; }
int TreeIndex::num_trees() const { return static_cast<int>(impl_->trees.size()); }
Metric TreeIndex::metric() const { return impl_->metric; }
double TreeIndex::build_seconds() const { return impl_->build_seconds; }
int TreeIndex::tree_depth(int tree) const {
  std::shared_lock lock(impl_->mu);
  return impl_->trees[static_cast<size_t>(tree)].depth;
}

Status TreeIndex::CheckInvariantsForTesting() const {
  std::shared_lock lock(impl_->mu);
  const Impl& ix = *impl_;
  for (size_t t = 0; t < ix.trees.size(); ++t) {
    const Tree& tree = ix.trees[t];
    const std::string where = "tree " + std::to_string(t) + ": ";
    if (tree.depth < 1) return InternalError(where + "fewer than two layers");
    if (static_cast<int64_t>(tree.leaves.size()) != tree.num_leaves() ||
        static_cast<int64_t>(tree.counts.size()) != tree.num_leaves() - 1 ||
        static_cast<int64_t>(tree.nodes.size()) != (tree.num_leaves() - 1) * ix.dim) {
      return InternalError(where + "arrays are not those of a complete tree of depth " +
                           std::to_string(tree.depth));
    }
    for (int layer = tree.depth - 1; layer >= 0; --layer) {
      for (int64_t j = 0; j < (int64_t{1} << layer); ++j) {
        int64_t below = 0;
        for (int64_t c = 2 * j; c < 2 * j + 2; ++c) {
          below += layer + 1 == tree.depth
                       ? (tree.leaves[static_cast<size_t>(c)] >= 0 ? 1 : 0)
                       : tree.counts[static_cast<size_t>(Tree::NodeIndex(layer + 1, c))];
        }
        if (tree.counts[static_cast<size_t>(Tree::NodeIndex(layer, j))] != below) {
          return InternalError(where + "node " + std::to_string(j) + " of layer " +
                               std::to_string(layer) + " counts the wrong number of items");
        }
      }
    }
    for (const auto& [id, slot] : ix.slot_of) {
      const int64_t leaf = tree.item_leaf[static_cast<size_t>(slot)];
      if (leaf < 0 || tree.leaves[static_cast<size_t>(leaf)] != slot) {
        return InternalError(where + "item " + std::to_string(id) + " is not in a leaf");
      }
    }
    if (tree.counts[0] != static_cast<int32_t>(ix.slot_of.size())) {
      return InternalError(where + "root counts " + std::to_string(tree.counts[0]) + " items");
    }
  }
  return OkStatus();
}

}  // namespace colony::retrieval
