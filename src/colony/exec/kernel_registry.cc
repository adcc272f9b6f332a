#include "colony/exec/kernel_registry.h"

#include <fmt/format.h>

namespace colony::exec {

KernelRegistry& KernelRegistry::Global() {
  static KernelRegistry* registry = [] {
    auto* r = new KernelRegistry();
    Status s = RegisterStandardKernels(*r);
    if (!s.ok()) colony::internal::DieBadStatusOrAccess(s);  // Our bug: duplicate names.
    return r;
  }();
  return *registry;
}

Status KernelRegistry::Register(const std::string& name, KernelFn fn) {
  if (fn == nullptr) return InvalidArgumentError("kernel '" + name + "' is null");
  if (!kernels_.emplace(name, fn).second) {
    return AlreadyExistsError("kernel '" + name + "' is already registered");
  }
  return OkStatus();
}

StatusOr<KernelFn> KernelRegistry::Find(std::string_view name) const {
  auto it = kernels_.find(name);
  if (it != kernels_.end()) return it->second;
  return NotFoundError(
      fmt::format("no kernel for op type '{}'; known: {}", name, fmt::join(Names(), ", ")));
}

std::vector<std::string> KernelRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, f] : kernels_) names.push_back(n);
  return names;
}

}  // namespace colony::exec
