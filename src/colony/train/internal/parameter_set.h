// The parameters of one program, held in parameter-server tables: a SparseTable per sparse
// variable and a DenseTable per dense parameter. Moves rows and gradients between the tables
// and an executor scope. Private to train.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "colony/base/status.h"
#include "colony/exec/executor.h"
#include "colony/program.pb.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/sparse_table.h"

namespace colony::train::internal {

struct ParameterSetOptions {
  // The sparse tables' optimizer and row policies (dim, initializer and seed come from the
  // program); an ssd_dir gets one folder per table.
  ps::SparseTableOptions sparse;
  ps::OptimizerOptions dense;  // The dense tables' optimizer.
  uint64_t seed = 1;           // Seeds the dense initializers and the sparse rows'.
  // With servers the tables are theirs (one per parameter, named after it). Default: none.
  ps::RemoteTableOptions remote;
  int geo_steps = 0;            // See ParameterSet::Create.
  int candidate_max_stale = 0;  // See ParameterSet::Create.
  std::vector<std::string> row_sharded;
};

class ParameterSet {
 public:
  // One table per parameter of `program`'s main block. Dense tables start from the program's
  // initializers, seeded with options.seed; sparse rows are initialized by their table on
  // first pull. The other options:
  // With `geo_steps` > 0 (servers only) training reads and updates local copies of the rows
  // and dense values this worker uses, and every geo_steps pushes merges them into the
  // servers: it adds the local change since the last merge, then takes the servers' values.
  // With `candidate_max_stale` > 0 (servers only, not with geo) training also reads local
  // copies, and PushGradients pushes the gradients to the servers and applies them to the
  // copies too (the servers' optimizers, locally): the candidate model of ps.late_params
  // candidate, at most candidate_max_stale steps ahead of the global parameters. StartPull
  // and AwaitGlobal bring the global values into the copies.
  // `row_sharded` names dense parameters of shape [rows, dim] (an item embedding matrix the
  // program uses whole) that live, on servers, as sparse tables with one row per index,
  // spread over all servers by ShardOfId; their rows start from the table's initializer (a
  // function of seed and row) and update with the `dense` optimizer. PullDense pulls every
  // row, PushGradients pushes every row's gradient. Servers only, not with geo or candidate.
  // On servers with remote.batch_dense the dense tables move together: each pull or push of
  // them (a step's, a geo merge's, a candidate's background pull) is one PullMany/PushMany
  // per server (ps::DenseTableBatch).
  static StatusOr<std::unique_ptr<ParameterSet>> Create(const graph::ProgramDesc& program,
                                                        const ParameterSetOptions& options);
  ~ParameterSet();

  // Puts every dense parameter into `scope` as a fresh leaf tensor (requires_grad = training).
  Status PullDense(exec::Scope& scope, bool training);
  // Puts the rows of `unique_ids` of every sparse table into `scope`, [ids, dim]. With
  // training = false unseen ids read as zeros and create no rows.
  Status PullSparse(std::span<const uint64_t> unique_ids, exec::Scope& scope, bool training);
  // Pushes the gradients left in `scope` by Executor::Backward to the tables.
  Status PushGradients(std::span<const uint64_t> unique_ids, const exec::Scope& scope);

  // Candidate: starts pulling the global values of the rows of `unique_ids` and of every
  // dense parameter in the background.
  Status StartPull(std::span<const uint64_t> unique_ids);
  // Candidate: merges the started pulls that arrive within `wait`, in the order they were
  // started: each sets its rows' local copies to the global values plus this worker's own
  // updates since the pull started. A pull still out is merged by a later call. A row of
  // `unique_ids` this worker has no copy of yet starts from the table's initializer (the
  // value the table gives a new row). Waits for every pull before the first dense values
  // arrived, and for the oldest while candidate_max_stale are out. Returns true when a pull
  // is still out: the next step trains on the candidate model.
  StatusOr<bool> AwaitGlobal(std::span<const uint64_t> unique_ids, std::chrono::microseconds wait);

  // Geo: merges what the local copies learned since the last merge into the servers now.
  // Candidate: waits for the pulls still out and merges them. Otherwise nothing to do.
  Status Flush();

  // Embedded tables only: sets every dense table to the tensor of its name in `scope` (as
  // another set's PullDense left it), optimizer state fresh. How a model trained on servers
  // becomes one that Save can write. FailedPrecondition on servers or with sparse tables.
  Status AssignDense(const exec::Scope& scope);

  // Writes every table under `dir` (sparse/<name>, dense/<name>). Tables on servers are
  // the servers' to save and load (`colony serve --checkpoint-dir`): nothing to do here.
  Status Save(const std::string& dir) const;
  Status Load(const std::string& dir);
  int64_t sparse_rows() const;
  int64_t sparse_ssd_rows() const;
  // Ends a pass in every sparse table; returns the rows evicted for their ttl.
  StatusOr<int64_t> EndPass();

  // The tables, for the built-in PS of strategy heter (internal/builtin_ps.h).
  struct SparseTableRef {
    std::string name;
    int dim;
    ps::SparseTable* table;
  };
  struct DenseTableRef {
    std::string name;
    std::vector<int64_t> shape;
    ps::DenseTable* table;
  };
  std::vector<SparseTableRef> sparse_tables() const;
  std::vector<DenseTableRef> dense_tables() const;
  // Every dense table at once (one call per server when batched); span i is table i of
  // dense_tables(), an empty span leaves that table out. Pull may run beside the others.
  Status PullDenseTables(std::span<const std::span<float>> outs) const;
  Status PushDenseTables(std::span<const std::span<const float>> grads);
  Status AddDenseTables(std::span<const std::span<const float>> deltas);

 private:
  // A geo worker's copy of a row or dense value: weights and optimizer state, and the
  // weights as last taken from the servers.
  struct LocalCopy {
    std::vector<float> values;
    std::vector<float> base;  // Geo only.
    bool dirty = false;       // Geo: updated since the last merge.
    std::vector<float> own;   // Candidate: the sum of this worker's own updates to the weights.
  };
  // A candidate worker's pull in flight: the rows of `ids` of every sparse table and every
  // dense value, and the copies' `own` updates when it started.
  struct PendingPull {
    std::vector<uint64_t> ids;
    std::vector<std::vector<float>> sparse_rows, sparse_own;  // Per sparse table, [ids, dim].
    std::vector<std::vector<float>> dense_values, dense_own;  // Per dense parameter.
    std::future<Status> done;
  };
  struct Sparse {
    std::string name;
    int dim;
    std::unique_ptr<ps::SparseTable> table;
    std::unordered_map<uint64_t, LocalCopy> local;  // Geo and candidate.
    ps::InitializerOptions initializer;             // The table's first values of a row,
    uint64_t seed = 0;                              // a function of (seed, id).
  };
  struct Dense {
    std::string name;
    std::vector<int64_t> shape;
    std::unique_ptr<ps::DenseTable> table;
    LocalCopy local;  // Geo and candidate.
  };
  // A dense parameter held row by row in a sparse table on the servers (`row_sharded`).
  struct RowSharded {
    std::string name;
    std::vector<int64_t> shape;  // [rows, dim]
    std::unique_ptr<ps::SparseTable> table;
    std::vector<uint64_t> ids;  // 0..rows-1
  };
  bool candidate() const { return candidate_max_stale_ > 0; }
  // Table by table: call(table, spans[i]) for each non-empty span, an error naming the table.
  template <typename Span, typename Call>
  Status EachDense(std::span<const Span> spans, Call call) const;
  Status PullSparseLocal(Sparse& s, std::span<const uint64_t> ids, float* out);
  // Makes `copy` a local copy of weights `w` with fresh optimizer state.
  void InitCopy(LocalCopy& copy, const float* w, size_t size, const ps::Optimizer& optimizer);
  // Applies a gradient to a local copy with `optimizer`.
  void UpdateCopy(LocalCopy& copy, const float* grad, int size, const ps::Optimizer& optimizer);
  Status MergeGeo();
  Status MergePull(PendingPull& pull);
  Status MergeAllPulls();

  std::vector<Sparse> sparse_;
  std::vector<Dense> dense_;
  std::vector<RowSharded> row_sharded_;
  std::unique_ptr<ps::DenseTableBatch> dense_batch_;  // Servers with batch_dense.
  bool on_servers_ = false;
  int geo_steps_ = 0;
  size_t candidate_max_stale_ = 0;  // > 0: a candidate model (ps.late_params candidate).
  int64_t pushes_ = 0;
  std::unique_ptr<ps::Optimizer> sparse_optimizer_, dense_optimizer_;  // Geo and candidate.
  std::deque<std::unique_ptr<PendingPull>> pending_;  // Candidate; after the tables it reads.
};

}  // namespace colony::train::internal
