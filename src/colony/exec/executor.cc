#include "colony/exec/executor.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <unordered_map>

namespace colony::exec {

Status ExecutorOptions::Validate() const {
  if (num_threads < 0) {
    return InvalidArgumentError("exec.num_threads must be >= 0, got " +
                                std::to_string(num_threads));
  }
  return OkStatus();
}

int64_t ExecStats::Runs(std::string_view op_type) const {
  auto it = op_runs.find(std::string(op_type));
  return it == op_runs.end() ? 0 : it->second;
}

StatusOr<std::unique_ptr<Executor>> Executor::Create(const graph::ProgramDesc& program,
                                                     const ExecutorOptions& options) {
  return Create(program, options, KernelRegistry::Global());
}

StatusOr<std::unique_ptr<Executor>> Executor::Create(const graph::ProgramDesc& program,
                                                     const ExecutorOptions& options,
                                                     const KernelRegistry& kernels) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_RETURN_IF_ERROR(graph::Validate(program));
  std::unique_ptr<Executor> e(new Executor());
  e->program_ = program;
  e->options_ = options;
  if (options.num_threads > 0) at::set_num_threads(options.num_threads);

  const graph::BlockDesc& block = e->program_.blocks(0);
  std::unordered_map<std::string, int> ids;
  for (const graph::VarDesc& v : block.vars()) {
    ids.emplace(v.name(), static_cast<int>(e->var_names_.size()));
    e->var_names_.push_back(v.name());
  }
  std::vector<bool> produced(e->var_names_.size(), false), listed(e->var_names_.size(), false);
  const graph::OpRegistry& schemas = graph::OpRegistry::Global();
  for (int i = 0; i < block.ops_size(); ++i) {
    const graph::OpDesc& op = block.ops(i);
    const std::string where = "op " + std::to_string(i) + " ('" + op.type() + "')";
    COLONY_ASSIGN_OR_RETURN(const graph::OpSchema* schema, schemas.Find(op.type()));
    StatusOr<KernelFn> fn = kernels.Find(op.type());
    if (!fn.ok()) return Status(fn.status()).WithContext(where);
    Step step;
    step.fn = *fn;
    step.op = &op;
    step.inputs.resize(schema->inputs.size());
    step.outputs.resize(schema->outputs.size());
    for (const graph::Slot& slot : op.inputs()) {
      std::vector<int>& out = step.inputs[schema->InputIndex(slot.name())];
      for (const std::string& v : slot.vars()) {
        const int id = ids.at(v);  // Validate() checked block 0 declares it.
        out.push_back(id);
        if (!produced[id] && !listed[id]) {
          listed[id] = true;
          e->externals_.emplace_back(id, i);
        }
      }
    }
    for (const graph::Slot& slot : op.outputs()) {
      std::vector<int>& out = step.outputs[schema->OutputIndex(slot.name())];
      for (const std::string& v : slot.vars()) {
        out.push_back(ids.at(v));
        produced[ids.at(v)] = true;
      }
    }
    step.runs = &e->stats_.op_runs[op.type()];
    e->steps_.push_back(std::move(step));
  }
  e->values_.resize(e->var_names_.size());
  return e;
}

Status Executor::Fail(size_t op_index, std::string_view message) const {
  return InvalidArgumentError("op " + std::to_string(op_index) + " ('" +
                              steps_[op_index].op->type() + "') failed: " + std::string(message));
}

Status Executor::Forward(Scope& scope, bool training, int64_t step) {
  ++stats_.forward_calls;
  for (const auto& [id, reader] : externals_) {
    const at::Tensor* t = scope.Find(var_names_[id]);
    if (t == nullptr) {
      return NotFoundError("var '" + var_names_[id] + "' read by op " + std::to_string(reader) +
                           " ('" + steps_[reader].op->type() +
                           "') is not in the scope; feed it or pull the parameter first");
    }
    values_[id] = *t;
  }
  KernelContext ctx;
  ctx.training_ = training;
  ctx.step_ = step;
  ctx.seed_ = options_.seed;
  ctx.values_ = &values_;
  Status status;
  for (size_t i = 0; i < steps_.size() && status.ok(); ++i) {
    Step& s = steps_[i];
    ctx.op_ = s.op;
    ctx.op_index_ = static_cast<int>(i);
    ctx.inputs_ = &s.inputs;
    ctx.outputs_ = &s.outputs;
    try {
      status = s.fn(ctx);
    } catch (const c10::Error& e) {
      status = Fail(i, e.what_without_backtrace());
    } catch (const std::exception& e) {
      status = Fail(i, e.what());
    }
    if (!status.ok()) {
      if (status.message().rfind("op ", 0) != 0) {
        status = status.WithContext("op " + std::to_string(i));
      }
      break;
    }
    ++*s.runs;
    for (const std::vector<int>& slot : s.outputs) {
      for (int id : slot) {
        if (!values_[id].defined()) {
          status = InternalError("op " + std::to_string(i) + " ('" + s.op->type() +
                                 "') did not write its output '" + var_names_[id] + "'");
          break;
        }
        scope.Set(var_names_[id], values_[id]);
      }
    }
  }
  // The scope keeps what callers need; drop our references so memory follows the scope.
  for (at::Tensor& t : values_) t.reset();
  return status;
}

Status Executor::Backward(Scope& scope) {
  ++stats_.backward_calls;
  const std::string& loss_name = program_.loss();
  if (loss_name.empty()) return FailedPreconditionError("the program has no loss");
  const at::Tensor* loss = scope.Find(loss_name);
  if (loss == nullptr || !loss->defined()) {
    return FailedPreconditionError("loss '" + loss_name + "' is not in the scope; run Forward");
  }
  if (loss->numel() != 1) {
    return FailedPreconditionError("loss '" + loss_name + "' must have one element, has " +
                                   std::to_string(loss->numel()));
  }
  if (!loss->requires_grad()) {
    return FailedPreconditionError(
        "loss '" + loss_name +
        "' does not require grad; put parameters in the scope with requires_grad and run "
        "Forward with grad mode on");
  }
  try {
    loss->backward();
  } catch (const c10::Error& e) {
    return InvalidArgumentError("backward from '" + loss_name +
                                "' failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return InvalidArgumentError("backward from '" + loss_name + "' failed: " + e.what());
  }
  return OkStatus();
}

}  // namespace colony::exec
