// Kernels: the LibTorch implementation of each op type, registered under the op's name in
// graph's OpRegistry. Kernels read inputs by slot index in the schema's order and run under
// autograd, so Backward needs no per-op gradient code.
//   exec::KernelRegistry registry;
//   COLONY_RETURN_IF_ERROR(exec::RegisterStandardKernels(registry));
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/op_registry.h"

namespace colony::exec {

class Executor;

// What one op execution sees. Slots are indices into the schema's inputs/outputs lists.
class KernelContext {
 public:
  const graph::OpDesc& op() const { return *op_; }
  int op_index() const { return op_index_; }
  bool training() const { return training_; }
  int64_t step() const { return step_; }
  uint64_t seed() const { return seed_; }

  int NumInputs(int slot) const { return static_cast<int>((*inputs_)[slot].size()); }
  bool HasInput(int slot) const { return !(*inputs_)[slot].empty(); }
  // REQUIRES: i < NumInputs(slot).
  const at::Tensor& Input(int slot, int i = 0) const { return (*values_)[(*inputs_)[slot][i]]; }
  int NumOutputs(int slot) const { return static_cast<int>((*outputs_)[slot].size()); }
  // REQUIRES: i < NumOutputs(slot).
  void SetOutput(int slot, int i, at::Tensor t) { (*values_)[(*outputs_)[slot][i]] = std::move(t); }
  void SetOutput(int slot, at::Tensor t) { SetOutput(slot, 0, std::move(t)); }

  // Attr accessors that fail with the op's type and attr name.
  StatusOr<int64_t> Int(std::string_view name, int64_t fallback) const {
    return graph::GetIntAttr(*op_, name, fallback);
  }
  StatusOr<float> Float(std::string_view name, float fallback) const {
    return graph::GetFloatAttr(*op_, name, fallback);
  }
  StatusOr<bool> Bool(std::string_view name, bool fallback) const {
    return graph::GetBoolAttr(*op_, name, fallback);
  }
  StatusOr<std::string> String(std::string_view name, std::string fallback) const {
    return graph::GetStringAttr(*op_, name, std::move(fallback));
  }
  StatusOr<std::vector<int64_t>> Ints(std::string_view name, std::vector<int64_t> fallback) const {
    return graph::GetIntsAttr(*op_, name, std::move(fallback));
  }

 private:
  friend class Executor;
  const graph::OpDesc* op_ = nullptr;
  int op_index_ = 0;
  bool training_ = false;
  int64_t step_ = 0;
  uint64_t seed_ = 0;
  const std::vector<std::vector<int>>* inputs_ = nullptr;
  const std::vector<std::vector<int>>* outputs_ = nullptr;
  std::vector<at::Tensor>* values_ = nullptr;
};

// A kernel may throw c10::Error; the executor turns it into InvalidArgument.
using KernelFn = Status (*)(KernelContext&);

// Thread safety: Register must not run concurrently with anything; lookups may.
class KernelRegistry {
 public:
  // The process-wide registry, filled with RegisterStandardKernels on first use.
  static KernelRegistry& Global();
  // AlreadyExists on a duplicate name.
  Status Register(const std::string& name, KernelFn fn);
  // NotFound listing the known names.
  StatusOr<KernelFn> Find(std::string_view name) const;
  std::vector<std::string> Names() const;  // Sorted.

 private:
  std::map<std::string, KernelFn, std::less<>> kernels_;
};

// Registers a kernel for every standard op schema that has one (all but recurrent).
Status RegisterStandardKernels(KernelRegistry& registry);

}  // namespace colony::exec
