// Executor: runs block 0 of a program on LibTorch tensors; gradients come from LibTorch
// autograd. Ops are resolved to kernel function pointers and variable slots once, in Create.
//   COLONY_ASSIGN_OR_RETURN(auto executor, exec::Executor::Create(program, {.seed = 7}));
//   scope.Set("dense", dense);  scope.Set("fc.w", w.requires_grad_());  ...
//   COLONY_RETURN_IF_ERROR(executor->Forward(scope, /*training=*/true, step));
//   COLONY_RETURN_IF_ERROR(executor->Backward(scope));  // w.grad() now holds d loss / d w
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"
#include "colony/exec/initializer.h"
#include "colony/exec/kernel_registry.h"
#include "colony/exec/scope.h"
#include "colony/graph/program.h"

namespace colony::exec {

struct ExecutorOptions {
  // Behavior.
  uint64_t seed = 0;  // Seeds random ops (dropout) together with the step. Default: 0.
  // Performance.
  int num_threads = 0;      // Intra-op threads (at::set_num_threads); 0 leaves torch's setting.
  Status Validate() const;  // InvalidArgument for num_threads < 0.
};

// How often each op type ran. Ops inside recurrent step blocks count once per time step they
// ran; ops of an rnn_start span that no element of the batch needed count in op_skips instead.
struct ExecStats {
  std::map<std::string, int64_t> op_runs;   // Op type -> executions.
  std::map<std::string, int64_t> op_skips;  // Op type -> executions skipped by rnn_start.
  int64_t span_rows_skipped = 0;  // Batch rows that skipped an rnn_start span (any op count).
  int64_t forward_calls = 0;
  int64_t backward_calls = 0;
  int64_t Runs(std::string_view op_type) const;   // 0 for a type that never ran.
  int64_t Skips(std::string_view op_type) const;  // 0 for a type never skipped.
};

// Not thread-safe: one executor per thread (they may share a program).
class Executor {
 public:
  // Validates the program and resolves every op of block 0 to its kernel. InvalidArgument for
  // a bad program or options, NotFound for an op type without a kernel.
  static StatusOr<std::unique_ptr<Executor>> Create(const graph::ProgramDesc& program,
                                                    const ExecutorOptions& options);
  // Same, with kernels from `kernels` (which must outlive the executor).
  static StatusOr<std::unique_ptr<Executor>> Create(const graph::ProgramDesc& program,
                                                    const ExecutorOptions& options,
                                                    const KernelRegistry& kernels);
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs block 0 forward. Every var an op reads before any op writes it (feeds, dense
  // parameters, the batch's sparse rows, which the caller creates with requires_grad) must be
  // in `scope`; every op output is written to it. `training` enables dropout; `step` seeds
  // random ops deterministically. NotFound naming the missing var and the op that reads it;
  // InvalidArgument naming op index, type and LibTorch's message when a kernel fails.
  Status Forward(Scope& scope, bool training, int64_t step);
  // Backpropagates from program.loss (a one-element tensor written by Forward). Afterwards
  // the leaf tensors in `scope` that require grad hold gradients in grad() (accumulated, as
  // in LibTorch). FailedPrecondition when the program has no loss, Forward did not produce it
  // or it does not require grad (no parameter with requires_grad, or grad mode off).
  Status Backward(Scope& scope);

  const ExecStats& stats() const { return stats_; }
  const graph::ProgramDesc& program() const { return program_; }

  ~Executor();

 private:
  struct Step;
  struct RecurrentPlan;
  Executor();
  Status Compile(int block, std::vector<Step>& steps);
  Status RunSteps(std::vector<Step>& steps, KernelContext& ctx, Scope* scope);
  Status RunRecurrent(const Step& step, KernelContext& ctx);
  int Resolve(int block, const std::string& name) const;  // -1 if undeclared.

  graph::ProgramDesc program_;
  ExecutorOptions options_;
  const KernelRegistry* kernels_ = nullptr;
  std::vector<std::string> var_names_;                               // Var id -> name (all blocks).
  std::vector<std::map<std::string, int, std::less<>>> block_vars_;  // Per block: name -> id.
  std::vector<std::pair<int, int>> externals_;  // Block-0 var id, first reader op index.
  std::vector<Step> steps_;                     // Block 0.
  std::vector<std::unique_ptr<RecurrentPlan>> plans_;
  std::vector<at::Tensor> values_;  // Var id -> tensor, during Forward.
  int next_op_number_ = 0;          // Unique across blocks; seeds random ops.
  ExecStats stats_;
};

}  // namespace colony::exec
