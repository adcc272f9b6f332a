#include "colony/train/internal/parameter_set.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>

#include "colony/base/file_util.h"
#include "colony/ps/initializer.h"

namespace colony::train::internal {
namespace {

// Runs `calls` on another thread when `beside` (other calls go out on this one meanwhile; the
// returned future's get() or destructor waits for it), else now.
std::future<Status> Beside(bool beside, std::function<Status()> calls) {
  if (beside) return std::async(std::launch::async, std::move(calls));
  std::promise<Status> done;
  done.set_value(calls());
  return done.get_future();
}

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
                                                             const ParameterSetOptions& options) {
  const ps::SparseTableOptions& sparse = options.sparse;
  const ps::OptimizerOptions& dense = options.dense;
  const uint64_t seed = options.seed;
  const ps::RemoteTableOptions& remote = options.remote;
  const int geo_steps = options.geo_steps;
  const int candidate_max_stale = options.candidate_max_stale;
  const std::vector<std::string>& row_sharded = options.row_sharded;
  auto set = std::make_unique<ParameterSet>();
  const bool on_servers = !remote.servers.empty();
  if (geo_steps < 0 || (geo_steps > 0 && !on_servers)) {
    return InvalidArgumentError("geo_steps needs parameter servers and must be >= 0");
  }
  const bool candidate = candidate_max_stale > 0;
  if (candidate && (!on_servers || geo_steps > 0)) {
    return InvalidArgumentError("a candidate model needs parameter servers and no geo_steps");
  }
  const bool by_rows = on_servers && !row_sharded.empty();
  if (by_rows && (geo_steps > 0 || candidate)) {
    return InvalidArgumentError("row-sharded parameters are not for geo or candidate training");
  }
  set->geo_steps_ = geo_steps;
  set->on_servers_ = on_servers;
  set->candidate_max_stale_ = candidate ? static_cast<size_t>(candidate_max_stale) : 0;
  if (geo_steps > 0 || candidate) {
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
      set->sparse_.push_back({var.name(), o.dim, std::move(table), {}, o.initializer, o.seed});
    } else if (by_rows &&
               std::find(row_sharded.begin(), row_sharded.end(), var.name()) != row_sharded.end()) {
      if (var.shape_size() != 2 || var.shape(0) <= 0 || var.shape(1) <= 0) {
        return InvalidArgumentError("row-sharded parameter '" + var.name() +
                                    "' must have shape [rows, dim]");
      }
      ps::SparseTableOptions o;
      o.dim = static_cast<int>(var.shape(1));
      o.optimizer = dense;
      o.initializer = ToTableInitializer(var.initializer());
      o.seed = seed ^ std::hash<std::string>{}(var.name());
      o.num_shards = 1;
      COLONY_ASSIGN_OR_RETURN(auto table, ps::ConnectSparseTable(remote_for(var.name()), o));
      std::vector<uint64_t> ids(static_cast<size_t>(var.shape(0)));
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
      set->row_sharded_.push_back({var.name(),
                                   std::vector<int64_t>(var.shape().begin(), var.shape().end()),
                                   std::move(table), std::move(ids)});
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
  if (on_servers && remote.batch_dense && !set->dense_.empty()) {
    std::vector<ps::DenseTable*> tables;
    for (const Dense& d : set->dense_) tables.push_back(d.table.get());
    COLONY_ASSIGN_OR_RETURN(set->dense_batch_, ps::DenseTableBatch::Create(remote, tables));
  }
  return set;
}

template <typename Span, typename Call>
Status ParameterSet::EachDense(std::span<const Span> spans, Call call) const {
  for (size_t i = 0; i < dense_.size(); ++i) {
    if (spans[i].empty()) continue;
    COLONY_RETURN_IF_ERROR(call(*dense_[i].table, spans[i]).WithContext(dense_[i].name));
  }
  return OkStatus();
}

Status ParameterSet::PullDenseTables(std::span<const std::span<float>> outs) const {
  if (dense_batch_ != nullptr) return dense_batch_->Pull(outs);
  return EachDense(outs, [](ps::DenseTable& t, std::span<float> out) { return t.Pull(out); });
}

Status ParameterSet::PushDenseTables(std::span<const std::span<const float>> grads) {
  if (dense_batch_ != nullptr) return dense_batch_->Push(grads);
  return EachDense(grads, [](ps::DenseTable& t, std::span<const float> g) { return t.Push(g); });
}

Status ParameterSet::AddDenseTables(std::span<const std::span<const float>> deltas) {
  if (dense_batch_ != nullptr) return dense_batch_->Add(deltas);
  return EachDense(deltas, [](ps::DenseTable& t, std::span<const float> d) { return t.Add(d); });
}

Status ParameterSet::PullDense(exec::Scope& scope, bool training) {
  const bool local = training && (geo_steps_ > 0 || candidate());
  std::vector<at::Tensor> tensors;
  std::vector<std::vector<float>> first(dense_.size());  // A geo worker's first values.
  std::vector<std::span<float>> outs(dense_.size());
  for (size_t i = 0; i < dense_.size(); ++i) {
    at::Tensor& t = tensors.emplace_back(at::empty(dense_[i].shape, at::kFloat));
    if (!local) {
      outs[i] = std::span<float>(t.data_ptr<float>(), t.numel());
    } else if (dense_[i].local.values.empty()) {
      first[i].resize(t.numel());
      outs[i] = first[i];
    }
  }
  // The dense tables' calls go out beside the row-sharded tables' pulls.
  std::future<Status> dense_pull =
      Beside(!row_sharded_.empty(), [&] { return PullDenseTables(outs); });
  ps::PullOptions every_row;
  every_row.create_missing = true;  // Rows are created at their first pull, eval or not.
  for (RowSharded& r : row_sharded_) {
    at::Tensor t = at::empty(r.shape, at::kFloat);
    COLONY_RETURN_IF_ERROR(
        r.table->Pull(every_row, r.ids, std::span<float>(t.data_ptr<float>(), t.numel())));
    if (training) t.requires_grad_(true);
    scope.Set(r.name, std::move(t));
  }
  COLONY_RETURN_IF_ERROR(dense_pull.get());
  for (size_t i = 0; i < dense_.size(); ++i) {
    Dense& d = dense_[i];
    at::Tensor& t = tensors[i];
    if (local) {
      if (d.local.values.empty()) {
        InitCopy(d.local, first[i].data(), first[i].size(), *dense_optimizer_);
      }
      std::copy_n(d.local.values.begin(), t.numel(), t.data_ptr<float>());
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
    if (training && (geo_steps_ > 0 || candidate())) {
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
  std::vector<at::Tensor> dense_grads(dense_.size());
  std::vector<std::span<const float>> pushed(dense_.size());
  for (size_t i = 0; i < dense_.size(); ++i) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor param, scope.Get(dense_[i].name));
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    dense_grads[i] = grad.contiguous();
    if (!geo) {
      pushed[i] = {dense_grads[i].data_ptr<float>(), static_cast<size_t>(dense_grads[i].numel())};
    }
  }
  // On servers the dense tables' calls go out beside the sparse and row-sharded tables'.
  std::future<Status> dense_push =
      Beside(on_servers_ && !geo && (!sparse_.empty() || !row_sharded_.empty()),
             [&] { return geo ? OkStatus() : PushDenseTables(pushed); });
  for (Sparse& s : sparse_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor rows, scope.Get(s.name));
    at::Tensor grad = rows.grad();
    if (!grad.defined()) continue;  // Not on the loss path in this program.
    grad = grad.contiguous();
    const float* g = grad.data_ptr<float>();
    if (!geo) {
      COLONY_RETURN_IF_ERROR(s.table->Push(unique_ids, std::span<const float>(g, grad.numel())));
      if (!candidate()) continue;
    }
    for (size_t i = 0; i < unique_ids.size(); ++i) {
      // Pulled in this step.
      UpdateCopy(s.local.at(unique_ids[i]), g + i * s.dim, s.dim, *sparse_optimizer_);
    }
  }
  for (RowSharded& r : row_sharded_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor param, scope.Get(r.name));
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    grad = grad.contiguous();
    COLONY_RETURN_IF_ERROR(
        r.table->Push(r.ids, std::span<const float>(grad.data_ptr<float>(), grad.numel())));
  }
  COLONY_RETURN_IF_ERROR(dense_push.get());
  for (size_t i = 0; i < dense_.size(); ++i) {
    const at::Tensor& g = dense_grads[i];
    if (!g.defined() || !(geo || candidate())) continue;
    UpdateCopy(dense_[i].local, g.data_ptr<float>(), static_cast<int>(g.numel()),
               *dense_optimizer_);
  }
  if (geo && ++pushes_ % geo_steps_ == 0) return MergeGeo();
  return OkStatus();
}

Status ParameterSet::Flush() {
  if (candidate()) return MergeAllPulls();
  return geo_steps_ > 0 ? MergeGeo() : OkStatus();
}

ParameterSet::~ParameterSet() {
  for (auto& pull : pending_) {
    if (pull->done.valid()) pull->done.wait();
  }  // The pulls write into their PendingPull.
}

void ParameterSet::InitCopy(LocalCopy& copy, const float* w, size_t size,
                            const ps::Optimizer& optimizer) {
  const int dim = static_cast<int>(size);
  copy.values.resize(size + optimizer.StateWidth(dim));
  std::copy_n(w, size, copy.values.begin());
  optimizer.InitState(copy.values.data() + size, dim);
  if (candidate()) {
    copy.own.assign(size, 0.0f);
  } else {
    copy.base.assign(w, w + size);
  }
}

void ParameterSet::UpdateCopy(LocalCopy& copy, const float* grad, int size,
                              const ps::Optimizer& optimizer) {
  if (!candidate()) {
    optimizer.Update(copy.values.data(), copy.values.data() + size, grad, size);
    copy.dirty = true;
    return;
  }
  std::vector<float> before(copy.values.begin(), copy.values.begin() + size);
  optimizer.Update(copy.values.data(), copy.values.data() + size, grad, size);
  for (int j = 0; j < size; ++j) copy.own[j] += copy.values[j] - before[j];
}

Status ParameterSet::StartPull(std::span<const uint64_t> unique_ids) {
  if (!candidate()) return FailedPreconditionError("StartPull is for a candidate model");
  auto pull = std::make_unique<PendingPull>();
  pull->ids.assign(unique_ids.begin(), unique_ids.end());
  for (const Sparse& s : sparse_) {
    pull->sparse_rows.emplace_back(unique_ids.size() * s.dim);
    std::vector<float>& own = pull->sparse_own.emplace_back(unique_ids.size() * s.dim, 0.0f);
    for (size_t k = 0; k < unique_ids.size(); ++k) {
      auto it = s.local.find(unique_ids[k]);
      if (it != s.local.end())
        std::copy(it->second.own.begin(), it->second.own.end(), own.begin() + k * s.dim);
    }
  }
  for (const Dense& d : dense_) {
    size_t size = 1;
    for (int64_t n : d.shape) size *= static_cast<size_t>(n);
    pull->dense_values.emplace_back(size);
    pull->dense_own.push_back(d.local.own.empty() ? std::vector<float>(size, 0.0f) : d.local.own);
  }
  PendingPull* p = pull.get();
  // Every table at once, so that each server reads its values now, before this worker's
  // next push.
  p->done = std::async(std::launch::async, [this, p]() -> Status {
    std::vector<std::future<Status>> calls;
    for (size_t i = 0; i < sparse_.size(); ++i) {
      calls.push_back(std::async(std::launch::async, [this, p, i] {
        ps::PullOptions options;
        options.create_missing = true;
        return sparse_[i].table->Pull(options, p->ids, p->sparse_rows[i]);
      }));
    }
    if (!dense_.empty()) {
      calls.push_back(std::async(std::launch::async, [this, p] {
        std::vector<std::span<float>> outs(p->dense_values.begin(), p->dense_values.end());
        return PullDenseTables(outs);
      }));
    }
    Status status = OkStatus();
    for (auto& call : calls) {
      Status s = call.get();
      if (status.ok()) status = std::move(s);
    }
    return status;
  });
  pending_.push_back(std::move(pull));
  return OkStatus();
}

StatusOr<bool> ParameterSet::AwaitGlobal(std::span<const uint64_t> unique_ids,
                                         std::chrono::microseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!pending_.empty() &&
         pending_.front()->done.wait_until(deadline) == std::future_status::ready) {
    COLONY_RETURN_IF_ERROR(MergePull(*pending_.front()));
    pending_.pop_front();
  }
  if (pending_.empty()) return false;
  if (!dense_.empty() && dense_.front().local.values.empty()) {  // The first step.
    COLONY_RETURN_IF_ERROR(MergeAllPulls());
    return false;
  }
  std::vector<float> row;
  for (Sparse& s : sparse_) {
    row.resize(s.dim);
    for (uint64_t id : unique_ids) {
      if (s.local.contains(id)) continue;
      ps::InitializeRow(s.initializer, s.seed, id, row.data(), s.dim);
      InitCopy(s.local[id], row.data(), s.dim, *sparse_optimizer_);
    }
  }
  while (pending_.size() >= candidate_max_stale_) {
    COLONY_RETURN_IF_ERROR(MergePull(*pending_.front()));
    pending_.pop_front();
  }
  return !pending_.empty();
}

Status ParameterSet::MergeAllPulls() {
  while (!pending_.empty()) {
    COLONY_RETURN_IF_ERROR(MergePull(*pending_.front()));
    pending_.pop_front();
  }
  return OkStatus();
}

// A copy becomes the global weights plus this worker's own updates since the pull started
// (the global weights hold the updates pushed before it).
Status ParameterSet::MergePull(PendingPull& pull) {
  COLONY_RETURN_IF_ERROR(pull.done.get());
  auto merge = [&](LocalCopy& copy, const float* global, const float* own_then, size_t size,
                   const ps::Optimizer& optimizer) {
    if (copy.values.empty()) {
      InitCopy(copy, global, size, optimizer);
      return;
    }
    for (size_t j = 0; j < size; ++j) copy.values[j] = global[j] + (copy.own[j] - own_then[j]);
  };
  for (size_t i = 0; i < sparse_.size(); ++i) {
    Sparse& s = sparse_[i];
    for (size_t k = 0; k < pull.ids.size(); ++k) {
      merge(s.local[pull.ids[k]], pull.sparse_rows[i].data() + k * s.dim,
            pull.sparse_own[i].data() + k * s.dim, s.dim, *sparse_optimizer_);
    }
  }
  for (size_t i = 0; i < dense_.size(); ++i) {
    merge(dense_[i].local, pull.dense_values[i].data(), pull.dense_own[i].data(),
          pull.dense_values[i].size(), *dense_optimizer_);
  }
  return OkStatus();
}

Status ParameterSet::PullSparseLocal(Sparse& s, std::span<const uint64_t> ids, float* out) {
  std::vector<uint64_t> missing;
  for (uint64_t id : ids) {
    if (!s.local.contains(id)) missing.push_back(id);
  }
  if (!missing.empty()) {  // First seen by this worker: start from the servers' rows.
    std::vector<float> rows(missing.size() * s.dim);
    COLONY_RETURN_IF_ERROR(s.table->Pull({}, missing, rows));
    for (size_t k = 0; k < missing.size(); ++k) {
      InitCopy(s.local[missing[k]], rows.data() + k * s.dim, s.dim, *sparse_optimizer_);
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
  std::vector<std::vector<float>> deltas(dense_.size());
  std::vector<std::span<const float>> added(dense_.size());
  std::vector<std::span<float>> fresh(dense_.size());
  for (size_t i = 0; i < dense_.size(); ++i) {
    LocalCopy& copy = dense_[i].local;
    if (!copy.dirty) continue;
    const size_t size = copy.base.size();
    deltas[i].resize(size);
    for (size_t j = 0; j < size; ++j) deltas[i][j] = copy.values[j] - copy.base[j];
    added[i] = deltas[i];
    fresh[i] = std::span<float>(copy.base.data(), size);
  }
  if (std::all_of(added.begin(), added.end(), [](auto a) { return a.empty(); })) {
    return OkStatus();
  }
  COLONY_RETURN_IF_ERROR(AddDenseTables(added));
  COLONY_RETURN_IF_ERROR(PullDenseTables(fresh));
  for (size_t i = 0; i < dense_.size(); ++i) {
    LocalCopy& copy = dense_[i].local;
    if (!copy.dirty) continue;
    std::copy_n(copy.base.begin(), copy.base.size(), copy.values.begin());
    copy.dirty = false;
  }
  return OkStatus();
}

Status ParameterSet::AssignDense(const exec::Scope& scope) {
  if (on_servers_ || !sparse_.empty()) {
    return FailedPreconditionError("AssignDense is for embedded dense tables only");
  }
  for (Dense& d : dense_) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor t, scope.Get(d.name));
    t = t.detach().to(at::kFloat).contiguous();
    COLONY_RETURN_IF_ERROR(
        d.table->Init(std::span<const float>(t.data_ptr<float>(), t.numel())).WithContext(d.name));
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

std::vector<ParameterSet::SparseTableRef> ParameterSet::sparse_tables() const {
  std::vector<SparseTableRef> refs;
  for (const Sparse& s : sparse_) refs.push_back({s.name, s.dim, s.table.get()});
  return refs;
}

std::vector<ParameterSet::DenseTableRef> ParameterSet::dense_tables() const {
  std::vector<DenseTableRef> refs;
  for (const Dense& d : dense_) refs.push_back({d.name, d.shape, d.table.get()});
  return refs;
}

int64_t ParameterSet::sparse_rows() const {
  int64_t rows = 0;
  for (const Sparse& s : sparse_) rows += s.table->size();
  return rows;
}

}  // namespace colony::train::internal
