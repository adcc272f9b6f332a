#include "colony/train/internal/parameter_set.h"

#include <algorithm>

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
                                                             const ps::RemoteTableOptions& remote,
                                                             int geo_steps) {
  auto set = std::make_unique<ParameterSet>();
  const bool on_servers = !remote.servers.empty();
  if (geo_steps < 0 || (geo_steps > 0 && !on_servers)) {
    return InvalidArgumentError("geo_steps needs parameter servers and must be >= 0");
  }
  set->geo_steps_ = geo_steps;
  set->on_servers_ = on_servers;
  if (geo_steps > 0) {
    COLONY_ASSIGN_OR_RETURN(set->sparse_optimizer_, ps::Optimizer::Create(sparse.optimizer));
    COLONY_ASSIGN_OR_RETURN(set->dense_optimizer_, ps::Optimizer::Create(dense));
  }
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
      set->sparse_.push_back({var.name(), o.dim, std::move(table), {}});
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
                             std::move(table),
                             {}});
    }
  }
  return set;
}

Status ParameterSet::PullDense(exec::Scope& scope, bool training) {
  const bool local = training && geo_steps_ > 0;
  for (Dense& d : dense_) {
    at::Tensor t = at::empty(d.shape, at::kFloat);
    const std::span<float> out(t.data_ptr<float>(), t.numel());
    if (local && d.local.values.empty()) {  // The first pull of a geo worker.
      LocalCopy& copy = d.local;
      copy.values.resize(out.size() + dense_optimizer_->StateWidth(out.size()));
      COLONY_RETURN_IF_ERROR(d.table->Pull(std::span<float>(copy.values.data(), out.size())));
      dense_optimizer_->InitState(copy.values.data() + out.size(), out.size());
      copy.base.assign(copy.values.begin(), copy.values.begin() + out.size());
    }
    if (local) {
      std::copy_n(d.local.values.begin(), out.size(), out.begin());
    } else {
      COLONY_RETURN_IF_ERROR(d.table->Pull(out));
    }
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
    if (training && geo_steps_ > 0) {
      COLONY_RETURN_IF_ERROR(PullSparseLocal(s, unique_ids, rows.data_ptr<float>()));
    } else {
      COLONY_RETURN_IF_ERROR(
          s.table->Pull(pull, unique_ids, std::span<float>(rows.data_ptr<float>(), rows.numel())));
    }
    if (training) rows.requires_grad_(true);
    scope.Set(s.name, std::move(rows));
  }
  return OkStatus();
}

Status ParameterSet::PushGradients(std::span<const uint64_t> unique_ids, const exec::Scope& scope) {
  const bool geo = geo_steps_ > 0;
  for (Sparse& s : sparse_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor rows, scope.Get(s.name));
    at::Tensor grad = rows.grad();
    if (!grad.defined()) continue;  // Not on the loss path in this program.
    grad = grad.contiguous();
    const float* g = grad.data_ptr<float>();
    if (!geo) {
      COLONY_RETURN_IF_ERROR(s.table->Push(unique_ids, std::span<const float>(g, grad.numel())));
      continue;
    }
    for (size_t i = 0; i < unique_ids.size(); ++i) {
      LocalCopy& copy = s.local.at(unique_ids[i]);  // Pulled in this step.
      sparse_optimizer_->Update(copy.values.data(), copy.values.data() + s.dim, g + i * s.dim,
                                s.dim);
      copy.dirty = true;
    }
  }
  for (Dense& d : dense_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor param, scope.Get(d.name));
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    grad = grad.contiguous();
    const std::span<const float> g(grad.data_ptr<float>(), grad.numel());
    if (!geo) {
      COLONY_RETURN_IF_ERROR(d.table->Push(g));
      continue;
    }
    const int size = static_cast<int>(g.size());
    dense_optimizer_->Update(d.local.values.data(), d.local.values.data() + size, g.data(), size);
    d.local.dirty = true;
  }
  if (geo && ++pushes_ % geo_steps_ == 0) return MergeGeo();
  return OkStatus();
}

Status ParameterSet::Flush() { return geo_steps_ > 0 ? MergeGeo() : OkStatus(); }

Status ParameterSet::PullSparseLocal(Sparse& s, std::span<const uint64_t> ids, float* out) {
  std::vector<uint64_t> missing;
  for (uint64_t id : ids) {
    if (!s.local.contains(id)) missing.push_back(id);
  }
  if (!missing.empty()) {  // First seen by this worker: start from the servers' rows.
    std::vector<float> rows(missing.size() * s.dim);
    COLONY_RETURN_IF_ERROR(s.table->Pull({}, missing, rows));
    const int width = s.dim + sparse_optimizer_->StateWidth(s.dim);
    for (size_t k = 0; k < missing.size(); ++k) {
      LocalCopy& copy = s.local[missing[k]];
      copy.values.resize(width);
      std::copy_n(rows.begin() + k * s.dim, s.dim, copy.values.begin());
      sparse_optimizer_->InitState(copy.values.data() + s.dim, s.dim);
      copy.base.assign(copy.values.begin(), copy.values.begin() + s.dim);
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    std::copy_n(s.local.at(ids[i]).values.begin(), s.dim, out + i * s.dim);
  }
  return OkStatus();
}

// Adds each updated copy's change since the last merge to the servers, then takes the
// servers' values (which hold the other workers' changes too) as the new local weights.
Status ParameterSet::MergeGeo() {
  for (Sparse& s : sparse_) {
    std::vector<uint64_t> ids;
    std::vector<float> deltas;
    for (auto& [id, copy] : s.local) {
      if (!copy.dirty) continue;
      ids.push_back(id);
      for (int j = 0; j < s.dim; ++j) deltas.push_back(copy.values[j] - copy.base[j]);
    }
    if (ids.empty()) continue;
    COLONY_RETURN_IF_ERROR(s.table->Add(ids, deltas));
    std::vector<float> fresh(ids.size() * s.dim);
    COLONY_RETURN_IF_ERROR(s.table->Pull({}, ids, fresh));
    for (size_t k = 0; k < ids.size(); ++k) {
      LocalCopy& copy = s.local.at(ids[k]);
      std::copy_n(fresh.begin() + k * s.dim, s.dim, copy.values.begin());
      std::copy_n(fresh.begin() + k * s.dim, s.dim, copy.base.begin());
      copy.dirty = false;
    }
  }
  for (Dense& d : dense_) {
    LocalCopy& copy = d.local;
    if (!copy.dirty) continue;
    const size_t size = copy.base.size();
    std::vector<float> deltas(size);
    for (size_t j = 0; j < size; ++j) deltas[j] = copy.values[j] - copy.base[j];
    COLONY_RETURN_IF_ERROR(d.table->Add(deltas));
    COLONY_RETURN_IF_ERROR(d.table->Pull(std::span<float>(copy.base.data(), size)));
    std::copy_n(copy.base.begin(), size, copy.values.begin());
    copy.dirty = false;
  }
  return OkStatus();
}

Status ParameterSet::Save(const std::string& dir) const {
  if (on_servers_) return OkStatus();  // The servers checkpoint their tables themselves.
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
  if (on_servers_) return OkStatus();  // The servers restored their own checkpoints.
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
