// The built-in PS of strategy heter: a local cache of the sparse rows one pass of training
// needs and of every dense parameter, with their optimizer state. Compute trainers (several
// threads) pull from it and push gradients to it, updated per batch with the servers'
// optimizers run locally; between passes the IO trainer exchanges it with the distributed PS
// (the tables of a ParameterSet, on servers or embedded): it adds the cache's change since
// the last exchange to the tables, as geo workers merge, then takes their fresh values.
// Private to train.
//   COLONY_ASSIGN_OR_RETURN(auto cache, BuiltinPs::Create(parameters, sparse_opt, dense_opt));
//   COLONY_ASSIGN_OR_RETURN(BuiltinPs::Fetched rows, cache->Fetch(pass_keys));  // IO thread.
//   COLONY_ASSIGN_OR_RETURN(BuiltinPs::Exchanged e, cache->Exchange(std::move(rows)));
//   ... compute threads: PullDense, PullSparse, (train), PushGradients ...
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "colony/base/status.h"
#include "colony/exec/scope.h"
#include "colony/ps/optimizer.h"
#include "colony/train/internal/parameter_set.h"

namespace colony::train::internal {

// Thread safety: PullDense, PullSparse and PushGradients may run on many threads at once, and
// with Fetch; Exchange must run alone.
class BuiltinPs {
 public:
  // A cache in front of `distributed`'s tables (which must outlive it), updated with the
  // optimizers of `sparse` and `dense`. Empty until the first Exchange. `workers` caches
  // (one per worker of a job) share the tables: each adds 1/workers of its dense change,
  // so that the dense parameters, which every worker trains on every batch, move by the
  // workers' mean change rather than their sum (geo-SGD's rule). Sparse rows, mostly
  // trained by one worker in a pass, add their whole change. An exchange moves the dense
  // tables with `distributed`'s PullDenseTables/AddDenseTables (one call per server).
  static StatusOr<std::unique_ptr<BuiltinPs>> Create(ParameterSet& distributed,
                                                     const ps::OptimizerOptions& sparse,
                                                     const ps::OptimizerOptions& dense,
                                                     int workers = 1);

  // The rows a coming pass needs that the cache does not hold.
  struct Fetched {
    std::vector<uint64_t> keys;            // Every key of the pass, sorted, unique.
    std::vector<uint64_t> missing;         // Those the cache did not hold, sorted.
    std::vector<std::vector<float>> rows;  // Per sparse table: [missing, dim].
    int64_t bytes = 0;                     // Ids sent and rows received.
  };
  // Pulls from the distributed PS the rows of `keys` (sorted, unique) the cache does not hold
  // now, creating rows the tables do not have yet.
  StatusOr<Fetched> Fetch(std::vector<uint64_t> keys) const;

  struct Exchanged {
    int64_t hits = 0;          // Keys of the next pass the cache already held.
    int64_t pushed_bytes = 0;  // Ids and deltas added to the distributed PS.
    int64_t pulled_bytes = 0;  // Ids sent and values received to refresh the kept rows and
                               // the dense parameters.
  };
  // Ends a pass: adds each row's and dense parameter's change since the last exchange to the
  // distributed PS, then makes the cache hold exactly `next.keys`: the rows it held (the
  // hits) and the dense parameters take the distributed PS's fresh values and keep their
  // optimizer state, the fetched rows come in with the state they had when they last left
  // the cache (or a fresh one), and the other rows leave. Exchange({}) pushes everything and
  // empties the cache. InvalidArgument when `next` was fetched against another cache state.
  StatusOr<Exchanged> Exchange(Fetched next);

  // Puts every dense parameter into `scope` as a leaf tensor that requires grad.
  Status PullDense(exec::Scope& scope) const;
  // Puts the rows of `ids` (sorted, unique, all in the cache) of every sparse table into
  // `scope`, [ids, dim], requiring grad. FailedPrecondition naming an id not in the cache.
  Status PullSparse(std::span<const uint64_t> ids, exec::Scope& scope) const;
  // Applies the gradients left in `scope` by Executor::Backward to the cached rows of `ids`
  // and to the dense parameters.
  Status PushGradients(std::span<const uint64_t> ids, const exec::Scope& scope);

  size_t rows() const { return slot_.size(); }  // Keys in the cache.

 private:
  struct SparseCache {
    std::string name;
    int dim = 0;
    int stride = 0;  // dim + the optimizer's state width.
    ps::SparseTable* table = nullptr;
    std::vector<float> values;  // [rows, stride]: weights, then optimizer state.
    std::vector<float> base;    // [rows, dim]: the weights as last taken from the table.
    // Optimizer state of rows that left the cache, for when they come back.
    std::unordered_map<uint64_t, std::vector<float>> parked;
  };
  struct DenseCache {
    std::string name;
    std::vector<int64_t> shape;
    int64_t size = 0;
    std::vector<float> values;  // [size + state]: weights, then optimizer state.
    std::vector<float> base;    // [size]: the weights as last taken from the table.
    mutable std::mutex mu;      // Guards values against the compute threads.
  };
  StatusOr<int64_t> PushDeltas();
  std::mutex& StripeOf(uint32_t slot) const { return stripes_[slot % stripes_.size()]; }
  StatusOr<uint32_t> SlotOf(uint64_t id) const;

  std::unordered_map<uint64_t, uint32_t> slot_;  // Key -> row, the same in every sparse table.
  std::vector<SparseCache> sparse_;
  std::vector<std::unique_ptr<DenseCache>> dense_;  // In distributed_->dense_tables() order.
  ParameterSet* distributed_ = nullptr;
  mutable std::array<std::mutex, 64> stripes_;  // Guard the sparse rows, by row.
  std::unique_ptr<ps::Optimizer> sparse_optimizer_, dense_optimizer_;
  float dense_delta_scale_ = 1.0f;  // 1 / workers.
};

}  // namespace colony::train::internal
