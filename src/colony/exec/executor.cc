#include "colony/exec/executor.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <set>

namespace colony::exec {

struct Executor::Step {
  enum class Kind { kKernel, kRecurrent, kRnnStart, kRnnEnd };
  Kind kind = Kind::kKernel;
  KernelFn fn = nullptr;
  const graph::OpDesc* op = nullptr;
  int block = 0;
  int op_index = 0;                               // Index in its block, for messages.
  int op_number = 0;                              // Unique across blocks, for seeds.
  std::vector<std::vector<int>> inputs, outputs;  // Var ids per schema slot.
  int64_t* runs = nullptr;                        // Into stats_.op_runs.
  int64_t* skips = nullptr;                       // Into stats_.op_skips.
  int recurrent = -1;                             // kRecurrent: index into plans_.
  int span_end = -1;                              // kRnnStart: index of its rnn_end.
  std::vector<int> span_row_inputs;               // kRnnStart: per-row step vars the span reads.
};

struct Executor::RecurrentPlan {
  int block = 0;
  std::vector<int> step_inputs, states, state_updates, step_outputs;  // Inner var ids.
  std::vector<Step> steps;
};

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

int64_t ExecStats::Skips(std::string_view op_type) const {
  auto it = op_skips.find(std::string(op_type));
  return it == op_skips.end() ? 0 : it->second;
}

Executor::Executor() = default;
Executor::~Executor() = default;

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
  e->kernels_ = &kernels;
  if (options.num_threads > 0) at::set_num_threads(options.num_threads);
  for (const graph::BlockDesc& block : e->program_.blocks()) {
    auto& ids = e->block_vars_.emplace_back();
    for (const graph::VarDesc& v : block.vars()) {
      ids.emplace(v.name(), static_cast<int>(e->var_names_.size()));
      e->var_names_.push_back(v.name());
    }
  }
  COLONY_RETURN_IF_ERROR(e->Compile(0, e->steps_));
  e->values_.resize(e->var_names_.size());
  return e;
}

int Executor::Resolve(int block, const std::string& name) const {
  while (block >= 0) {
    auto it = block_vars_[block].find(name);
    if (it != block_vars_[block].end()) return it->second;
    block = program_.blocks(block).parent_idx();
  }
  return -1;
}

namespace {

std::string Where(int block, int op_index, const graph::OpDesc& op) {
  return (block == 0 ? "" : "block " + std::to_string(block) + " ") + "op " +
         std::to_string(op_index) + " ('" + op.type() + "')";
}

// Var names an op reads, including those its sub-blocks read (recursively).
void CollectReads(const graph::ProgramDesc& p, const graph::OpDesc& op,
                  std::vector<std::pair<int, std::string>>& reads, int block) {
  for (const graph::Slot& slot : op.inputs()) {
    for (const std::string& v : slot.vars()) reads.emplace_back(block, v);
  }
  for (const auto& [name, attr] : op.attrs()) {
    if (attr.value_case() != graph::AttrValue::kBlock) continue;
    for (const graph::OpDesc& inner : p.blocks(attr.block()).ops()) {
      CollectReads(p, inner, reads, attr.block());
    }
  }
}

StatusOr<std::vector<std::string>> Strings(const graph::OpDesc& op, const char* name) {
  return graph::GetStringsAttr(op, name, {});
}

}  // namespace

Status Executor::Compile(int block_index, std::vector<Step>& steps) {
  const graph::BlockDesc& block = program_.blocks(block_index);
  const graph::OpRegistry& schemas = graph::OpRegistry::Global();
  std::set<int> produced, listed;
  for (int i = 0; i < block.ops_size(); ++i) {
    const graph::OpDesc& op = block.ops(i);
    const std::string where = Where(block_index, i, op);
    COLONY_ASSIGN_OR_RETURN(const graph::OpSchema* schema, schemas.Find(op.type()));
    Step step;
    step.op = &op;
    step.block = block_index;
    step.op_index = i;
    step.op_number = next_op_number_++;
    step.inputs.resize(schema->inputs.size());
    step.outputs.resize(schema->outputs.size());
    for (const graph::Slot& slot : op.inputs()) {
      for (const std::string& v : slot.vars()) {
        step.inputs[schema->InputIndex(slot.name())].push_back(Resolve(block_index, v));
      }
    }
    for (const graph::Slot& slot : op.outputs()) {
      for (const std::string& v : slot.vars()) {
        step.outputs[schema->OutputIndex(slot.name())].push_back(Resolve(block_index, v));
      }
    }
    if (block_index == 0) {
      // Whatever this op (or its step block) reads from block 0 before any op wrote it comes
      // from the scope.
      std::vector<std::pair<int, std::string>> reads;
      CollectReads(program_, op, reads, 0);
      for (const auto& [b, name] : reads) {
        const int id = Resolve(b, name);
        if (id >= 0 && block_vars_[0].count(name) && block_vars_[0].at(name) == id &&
            !produced.count(id) && listed.insert(id).second) {
          externals_.emplace_back(id, i);
        }
      }
    }
    if (op.type() == "recurrent") {
      step.kind = Step::Kind::kRecurrent;
      auto plan = std::make_unique<RecurrentPlan>();
      plan->block = op.attrs().at("block").block();
      for (const auto& [attr, ids] : std::vector<std::pair<const char*, std::vector<int>*>>{
               {"step_inputs", &plan->step_inputs},
               {"states", &plan->states},
               {"state_updates", &plan->state_updates},
               {"step_outputs", &plan->step_outputs}}) {
        COLONY_ASSIGN_OR_RETURN(std::vector<std::string> names, Strings(op, attr));
        for (const std::string& n : names) {
          const int id = Resolve(plan->block, n);
          if (id < 0) {
            return InvalidArgumentError(where + " attr " + attr + " names '" + n +
                                        "', which block " + std::to_string(plan->block) +
                                        " cannot see");
          }
          ids->push_back(id);
        }
      }
      if (plan->step_inputs.size() != step.inputs[0].size() ||
          plan->states.size() != step.inputs[1].size() ||
          plan->state_updates.size() != plan->states.size() ||
          plan->step_outputs.size() != step.outputs[0].size() ||
          plan->states.size() != step.outputs[1].size()) {
        return InvalidArgumentError(where +
                                    " bindings do not match: one step input per X, one state "
                                    "and update per InitStates and FinalStates, one step "
                                    "output per Out");
      }
      COLONY_RETURN_IF_ERROR(Compile(plan->block, plan->steps));
      step.recurrent = static_cast<int>(plans_.size());
      plans_.push_back(std::move(plan));
    } else if (op.type() == "rnn_start" || op.type() == "rnn_end") {
      if (block_index == 0) {
        return InvalidArgumentError(where + " must be inside a recurrent step block");
      }
      step.kind = op.type() == "rnn_start" ? Step::Kind::kRnnStart : Step::Kind::kRnnEnd;
    } else {
      StatusOr<KernelFn> fn = kernels_->Find(op.type());
      if (!fn.ok()) return Status(fn.status()).WithContext(where);
      step.fn = *fn;
    }
    step.runs = &stats_.op_runs[op.type()];
    step.skips = &stats_.op_skips[op.type()];
    for (const auto& slot : step.outputs) produced.insert(slot.begin(), slot.end());
    steps.push_back(std::move(step));
  }
  // Pair each rnn_start with the next rnn_end; spans do not nest.
  int open = -1;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string where = Where(block_index, static_cast<int>(i), *steps[i].op);
    if (steps[i].kind == Step::Kind::kRnnStart) {
      if (open >= 0) return InvalidArgumentError(where + " opens a span inside another span");
      open = static_cast<int>(i);
    } else if (steps[i].kind == Step::Kind::kRnnEnd) {
      if (open < 0) return InvalidArgumentError(where + " has no rnn_start before it");
      Step& start = steps[open];
      start.span_end = static_cast<int>(i);
      if (steps[i].inputs[2].empty() || steps[i].inputs[2][0] != start.outputs[0][0]) {
        return InvalidArgumentError(where + " must read its rnn_start's Valid output");
      }
      // Vars of the step block that span ops read but do not produce: compacted to the valid
      // rows when only some rows run the span.
      std::set<int> inside;
      std::set<int> rows;
      for (size_t k = open + 1; k < i; ++k) {
        for (const auto& slot : steps[k].inputs) {
          for (int id : slot) {
            const bool own = block_vars_[block_index].count(var_names_[id]) &&
                             block_vars_[block_index].at(var_names_[id]) == id;
            if (own && !inside.count(id)) rows.insert(id);
          }
        }
        for (const auto& slot : steps[k].outputs) inside.insert(slot.begin(), slot.end());
      }
      start.span_row_inputs.assign(rows.begin(), rows.end());
      open = -1;
    }
  }
  if (open >= 0) {
    return InvalidArgumentError(Where(block_index, open, *steps[open].op) +
                                " has no rnn_end after it");
  }
  return OkStatus();
}

namespace {

Status Failed(const std::string& where, std::string_view message) {
  return InvalidArgumentError(where + " failed: " + std::string(message));
}

// Which rows of `cond` run the span: nonzero, or > threshold, on column `feature` of [B, F].
StatusOr<at::Tensor> Valid(const graph::OpDesc& op, const at::Tensor& cond) {
  COLONY_ASSIGN_OR_RETURN(std::string condition, graph::GetStringAttr(op, "condition", "nonzero"));
  COLONY_ASSIGN_OR_RETURN(int64_t feature, graph::GetIntAttr(op, "feature", 0));
  COLONY_ASSIGN_OR_RETURN(float threshold, graph::GetFloatAttr(op, "threshold", 0.0f));
  at::Tensor c = cond.dim() == 2 ? cond.select(1, feature) : cond;
  if (condition == "greater") return c.gt(threshold);
  return c.ne(0);
}

}  // namespace

Status Executor::RunSteps(std::vector<Step>& steps, KernelContext& ctx, Scope* scope) {
  enum class Mode { kAll, kNone, kSome };
  Mode mode = Mode::kAll;
  at::Tensor rows;
  std::vector<std::pair<int, at::Tensor>> saved;  // Full values of compacted vars.
  for (size_t i = 0; i < steps.size(); ++i) {
    Step& s = steps[i];
    Status status;
    try {
      switch (s.kind) {
        case Step::Kind::kKernel:
          ctx.op_ = s.op;
          ctx.op_index_ = s.op_number;
          ctx.inputs_ = &s.inputs;
          ctx.outputs_ = &s.outputs;
          status = s.fn(ctx);
          break;
        case Step::Kind::kRecurrent:
          status = RunRecurrent(s, ctx);
          break;
        case Step::Kind::kRnnStart: {
          StatusOr<at::Tensor> valid = Valid(*s.op, values_[s.inputs[0][0]]);
          if (!valid.ok()) {
            status = valid.status();
            break;
          }
          values_[s.outputs[0][0]] = *valid;
          const int64_t batch = valid->size(0);
          const int64_t n = valid->sum().item<int64_t>();
          if (n == batch) {
            mode = Mode::kAll;
          } else if (n == 0) {
            mode = Mode::kNone;
            stats_.span_rows_skipped += batch;
            for (int k = static_cast<int>(i) + 1; k < s.span_end; ++k) ++*steps[k].skips;
            i = s.span_end - 1;  // Continue at the rnn_end.
          } else {
            mode = Mode::kSome;
            stats_.span_rows_skipped += batch - n;
            rows = valid->nonzero().select(1, 0);
            for (int id : s.span_row_inputs) {
              saved.emplace_back(id, values_[id]);
              values_[id] = values_[id].index_select(0, rows);
            }
          }
          break;
        }
        case Step::Kind::kRnnEnd: {
          for (auto& [id, full] : saved) values_[id] = std::move(full);
          saved.clear();
          const auto& x = s.inputs[0];
          const auto& skip = s.inputs[1];
          for (size_t k = 0; k < x.size(); ++k) {
            at::Tensor out;
            if (mode == Mode::kAll)
              out = values_[x[k]];
            else if (mode == Mode::kNone)
              out = values_[skip[k]];
            else
              out = values_[skip[k]].index_copy(0, rows, values_[x[k]]);
            values_[s.outputs[0][k]] = std::move(out);
          }
          mode = Mode::kAll;
          break;
        }
      }
    } catch (const c10::Error& e) {
      status = Failed(Where(s.block, s.op_index, *s.op), e.what_without_backtrace());
    } catch (const std::exception& e) {
      status = Failed(Where(s.block, s.op_index, *s.op), e.what());
    }
    if (!status.ok()) {
      const std::string where = Where(s.block, s.op_index, *s.op);
      if (status.message().find(where) == std::string_view::npos) {
        status = status.WithContext(where);
      }
      for (auto& [id, full] : saved) values_[id] = std::move(full);
      return status;
    }
    ++*s.runs;
    for (const std::vector<int>& slot : s.outputs) {
      for (int id : slot) {
        if (!values_[id].defined()) {
          return InternalError(Where(s.block, s.op_index, *s.op) + " did not write its output '" +
                               var_names_[id] + "'");
        }
        if (scope != nullptr) scope->Set(var_names_[id], values_[id]);
      }
    }
  }
  return OkStatus();
}

Status Executor::RunRecurrent(const Step& step, KernelContext& ctx) {
  RecurrentPlan& plan = *plans_[step.recurrent];
  const std::vector<int>& xs = step.inputs[0];
  const int64_t time = values_[xs[0]].size(1);
  for (int x : xs) {
    if (values_[x].dim() < 2 || values_[x].size(1) != time) {
      return InvalidArgumentError("X vars must be [B, T, ...] with one T; '" + var_names_[x] +
                                  "' has " + std::to_string(values_[x].dim()) + " dims");
    }
  }
  std::vector<at::Tensor> state;
  for (int id : step.inputs[1]) state.push_back(values_[id]);
  std::vector<std::vector<at::Tensor>> outs(plan.step_outputs.size());
  for (int64_t t = 0; t < time; ++t) {
    for (size_t i = 0; i < xs.size(); ++i)
      values_[plan.step_inputs[i]] = values_[xs[i]].select(1, t);
    for (size_t j = 0; j < state.size(); ++j) values_[plan.states[j]] = state[j];
    COLONY_RETURN_IF_ERROR(RunSteps(plan.steps, ctx, nullptr));
    for (size_t j = 0; j < state.size(); ++j) state[j] = values_[plan.state_updates[j]];
    for (size_t k = 0; k < outs.size(); ++k) outs[k].push_back(values_[plan.step_outputs[k]]);
  }
  if (time == 0) return InvalidArgumentError("X has no time steps");
  for (size_t k = 0; k < outs.size(); ++k) values_[step.outputs[0][k]] = at::stack(outs[k], 1);
  for (size_t j = 0; j < state.size(); ++j) values_[step.outputs[1][j]] = state[j];
  return OkStatus();
}

Status Executor::Forward(Scope& scope, bool training, int64_t step) {
  ++stats_.forward_calls;
  for (const auto& [id, reader] : externals_) {
    const at::Tensor* t = scope.Find(var_names_[id]);
    if (t == nullptr) {
      return NotFoundError("var '" + var_names_[id] + "' read by op " + std::to_string(reader) +
                           " ('" + program_.blocks(0).ops(reader).type() +
                           "') is not in the scope; feed it or pull the parameter first");
    }
    values_[id] = *t;
  }
  KernelContext ctx;
  ctx.training_ = training;
  ctx.step_ = step;
  ctx.seed_ = options_.seed;
  ctx.values_ = &values_;
  Status status = RunSteps(steps_, ctx, &scope);
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
