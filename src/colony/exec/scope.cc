#include "colony/exec/scope.h"

#include <algorithm>

namespace colony::exec {

void Scope::Set(const std::string& name, at::Tensor t) { vars_[name] = std::move(t); }

StatusOr<at::Tensor> Scope::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return NotFoundError("var '" + name + "' is not in the scope");
  return it->second;
}

const at::Tensor* Scope::Find(const std::string& name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

bool Scope::Has(const std::string& name) const { return vars_.count(name) > 0; }

void Scope::Clear() { vars_.clear(); }

std::vector<std::string> Scope::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, t] : vars_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace colony::exec
