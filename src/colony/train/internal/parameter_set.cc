#include "colony/train/internal/parameter_set.h"

#include "colony/base/file_util.h"

namespace colony::train::internal {
namespace {

ps::InitializerOptions ToTableInitializer(const graph::Initializer& init) {
  ps::InitializerOptions o;
  o.type = init.type().empty() ? "zeros" : init.type();
  o.value = init.value();
  o.low = init.low();
  o.high = init.high();
  o.mean = init.mean();
  o.std = init.std();
  return o;
}

}  // namespace

StatusOr<std::unique_ptr<ParameterSet>> ParameterSet::Create(const graph::ProgramDesc& program,
                                                             const ps::SparseTableOptions& sparse,
                                                             const ps::OptimizerOptions& dense,
                                                             uint64_t seed,
                                                             const ps::RemoteTableOptions& remote) {
  auto set = std::make_unique<ParameterSet>();
  const bool on_servers = !remote.servers.empty();
  auto remote_for = [&](const std::string& name) {
    ps::RemoteTableOptions r = remote;
    r.table = name;
    return r;
  };
  if (program.blocks_size() == 0) return InvalidArgumentError("program has no blocks");
  for (const graph::VarDesc& var : program.blocks(0).vars()) {
    if (!var.persistable()) continue;
    if (var.sparse()) {
      if (var.shape_size() != 2 || var.shape(1) <= 0) {
        return InvalidArgumentError("sparse parameter '" + var.name() +
                                    "' must have shape [-1, dim]");
      }
      ps::SparseTableOptions o = sparse;
      o.dim = static_cast<int>(var.shape(1));
      if (!sparse.ssd_dir.empty()) o.ssd_dir = sparse.ssd_dir + "/" + var.name();
      o.initializer = ToTableInitializer(var.initializer());
      o.seed = seed ^ std::hash<std::string>{}(var.name());
      o.num_shards = 1;  // One trainer thread touches the table: lock stripes only cost.
      COLONY_ASSIGN_OR_RETURN(auto table, on_servers
                                              ? ps::ConnectSparseTable(remote_for(var.name()), o)
                                              : ps::SparseTable::Create(o));
      set->sparse_.push_back({var.name(), o.dim, std::move(table)});
    } else {
      COLONY_ASSIGN_OR_RETURN(at::Tensor init, exec::MakeInitialValue(var, seed));
      init = init.to(at::kFloat).contiguous();
      ps::DenseTableOptions o;
      o.size = init.numel();
      o.optimizer = dense;
      const std::span<const float> values(init.data_ptr<float>(), init.numel());
      std::unique_ptr<ps::DenseTable> table;
      if (on_servers) {
        COLONY_ASSIGN_OR_RETURN(table, ps::ConnectDenseTable(remote_for(var.name()), o, values));
      } else {
        COLONY_ASSIGN_OR_RETURN(table, ps::DenseTable::Create(o));
        COLONY_RETURN_IF_ERROR(table->Init(values));
      }
      set->dense_.push_back({var.name(),
                             std::vector<int64_t>(var.shape().begin(), var.shape().end()),
                             std::move(table)});
    }
  }
  return set;
}

Status ParameterSet::PullDense(exec::Scope& scope, bool training) {
  for (Dense& d : dense_) {
    at::Tensor t = at::empty(d.shape, at::kFloat);
    COLONY_RETURN_IF_ERROR(d.table->Pull(std::span<float>(t.data_ptr<float>(), t.numel())));
    if (training) t.requires_grad_(true);
    scope.Set(d.name, std::move(t));
  }
  return OkStatus();
}

Status ParameterSet::PullSparse(std::span<const uint64_t> unique_ids, exec::Scope& scope,
                                bool training) {
  ps::PullOptions pull;
  pull.create_missing = training;
  for (Sparse& s : sparse_) {
    at::Tensor rows = at::empty({static_cast<int64_t>(unique_ids.size()), s.dim}, at::kFloat);
    COLONY_RETURN_IF_ERROR(
        s.table->Pull(pull, unique_ids, std::span<float>(rows.data_ptr<float>(), rows.numel())));
    if (training) rows.requires_grad_(true);
    scope.Set(s.name, std::move(rows));
  }
  return OkStatus();
}

Status ParameterSet::PushGradients(std::span<const uint64_t> unique_ids, const exec::Scope& scope) {
  for (Sparse& s : sparse_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor rows, scope.Get(s.name));
    at::Tensor grad = rows.grad();
    if (!grad.defined()) continue;  // Not on the loss path in this program.
    grad = grad.contiguous();
    COLONY_RETURN_IF_ERROR(
        s.table->Push(unique_ids, std::span<const float>(grad.data_ptr<float>(), grad.numel())));
  }
  for (Dense& d : dense_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor param, scope.Get(d.name));
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    grad = grad.contiguous();
    COLONY_RETURN_IF_ERROR(
        d.table->Push(std::span<const float>(grad.data_ptr<float>(), grad.numel())));
  }
  return OkStatus();
}

Status ParameterSet::Save(const std::string& dir) const {
  for (const Sparse& s : sparse_) {
    const std::string sub = dir + "/sparse/" + s.name;
    COLONY_RETURN_IF_ERROR(MakeDirs(sub));
    COLONY_RETURN_IF_ERROR(s.table->Save(sub));
  }
  COLONY_RETURN_IF_ERROR(MakeDirs(dir + "/dense"));
  for (const Dense& d : dense_) COLONY_RETURN_IF_ERROR(d.table->Save(dir + "/dense", d.name));
  return OkStatus();
}

Status ParameterSet::Load(const std::string& dir) {
  for (Sparse& s : sparse_) {
    COLONY_RETURN_IF_ERROR(s.table->Load(dir + "/sparse/" + s.name).WithContext(s.name));
  }
  for (Dense& d : dense_) {
    COLONY_RETURN_IF_ERROR(d.table->Load(dir + "/dense", d.name).WithContext(d.name));
  }
  return OkStatus();
}

int64_t ParameterSet::sparse_ssd_rows() const {
  int64_t rows = 0;
  for (const Sparse& s : sparse_) rows += s.table->ssd_rows();
  return rows;
}

StatusOr<int64_t> ParameterSet::EndPass() {
  int64_t evicted = 0;
  for (Sparse& s : sparse_) {
    COLONY_ASSIGN_OR_RETURN(int64_t n, s.table->EndPass());
    evicted += n;
  }
  return evicted;
}

int64_t ParameterSet::sparse_rows() const {
  int64_t rows = 0;
  for (const Sparse& s : sparse_) rows += s.table->size();
  return rows;
}

}  // namespace colony::train::internal
