// The parameters of one program, held in parameter-server tables: a SparseTable per sparse
// variable and a DenseTable per dense parameter. Moves rows and gradients between the tables
// and an executor scope. Private to train.
#pragma once

#include <ATen/ATen.h>

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

class ParameterSet {
 public:
  // One table per parameter of `program`'s main block. Dense tables start from the program's
  // initializers, seeded with `seed`; sparse rows are initialized by their table on first pull.
  // With `remote` servers the tables are theirs (one per parameter, named after it).
  // `sparse` gives the sparse tables' optimizer and row policies (dim, initializer and seed
  // come from the program); an ssd_dir in it gets one folder per table.
  // With `geo_steps` > 0 (servers only) training reads and updates local copies of the rows
  // and dense values this worker uses, and every geo_steps pushes merges them into the
  // servers: it adds the local change since the last merge, then takes the servers' values.
  static StatusOr<std::unique_ptr<ParameterSet>> Create(const graph::ProgramDesc& program,
                                                        const ps::SparseTableOptions& sparse,
                                                        const ps::OptimizerOptions& dense,
                                                        uint64_t seed,
                                                        const ps::RemoteTableOptions& remote,
                                                        int geo_steps = 0);

  // Puts every dense parameter into `scope` as a fresh leaf tensor (requires_grad = training).
  Status PullDense(exec::Scope& scope, bool training);
  // Puts the rows of `unique_ids` of every sparse table into `scope`, [ids, dim]. With
  // training = false unseen ids read as zeros and create no rows.
  Status PullSparse(std::span<const uint64_t> unique_ids, exec::Scope& scope, bool training);
  // Pushes the gradients left in `scope` by Executor::Backward to the tables.
  Status PushGradients(std::span<const uint64_t> unique_ids, const exec::Scope& scope);

  // Geo: merges what the local copies learned since the last merge into the servers now.
  // Without geo: nothing to do.
  Status Flush();

  // Writes every table under `dir` (sparse/<name>, dense/<name>). Tables on servers are
  // the servers' to save and load (`colony serve --checkpoint-dir`): nothing to do here.
  Status Save(const std::string& dir) const;
  Status Load(const std::string& dir);
  int64_t sparse_rows() const;
  int64_t sparse_ssd_rows() const;
  // Ends a pass in every sparse table; returns the rows evicted for their ttl.
  StatusOr<int64_t> EndPass();

 private:
  // A geo worker's copy of a row or dense value: weights and optimizer state, and the
  // weights as last taken from the servers.
  struct LocalCopy {
    std::vector<float> values;
    std::vector<float> base;
    bool dirty = false;  // Updated since the last merge.
  };
  struct Sparse {
    std::string name;
    int dim;
    std::unique_ptr<ps::SparseTable> table;
    std::unordered_map<uint64_t, LocalCopy> local;  // Geo only.
  };
  struct Dense {
    std::string name;
    std::vector<int64_t> shape;
    std::unique_ptr<ps::DenseTable> table;
    LocalCopy local;  // Geo only.
  };
  Status PullSparseLocal(Sparse& s, std::span<const uint64_t> ids, float* out);
  Status MergeGeo();

  std::vector<Sparse> sparse_;
  std::vector<Dense> dense_;
  bool on_servers_ = false;
  int geo_steps_ = 0;
  int64_t pushes_ = 0;
  std::unique_ptr<ps::Optimizer> sparse_optimizer_, dense_optimizer_;  // Geo only.
};

}  // namespace colony::train::internal
