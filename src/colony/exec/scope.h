// Scope: the named tensors of one run (feeds, parameters, op outputs).
//   exec::Scope scope;
//   scope.Set("dense", dense_batch);
//   COLONY_ASSIGN_OR_RETURN(at::Tensor prob, scope.Get("sigmoid_7.Out"));
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "colony/base/status.h"

namespace colony::exec {

// Not thread-safe: one scope per run and thread.
class Scope {
 public:
  // Binds `name` to `t`, replacing an earlier binding. Tensors share storage (no copy).
  void Set(const std::string& name, at::Tensor t);
  // NotFound naming the variable when it is not bound.
  StatusOr<at::Tensor> Get(const std::string& name) const;
  // The bound tensor or nullptr; the pointer is valid until the next Set or Clear.
  const at::Tensor* Find(const std::string& name) const;
  bool Has(const std::string& name) const;
  void Clear();
  std::vector<std::string> Names() const;  // Sorted.

 private:
  std::unordered_map<std::string, at::Tensor> vars_;
};

}  // namespace colony::exec
