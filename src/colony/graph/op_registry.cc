#include "colony/graph/op_registry.h"

#include <fmt/format.h>

#include <algorithm>

namespace colony::graph {

std::string ShapeToString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

StatusOr<VarShape> ShapeEnv::Get(std::string_view name) const {
  auto it = shapes_.find(name);
  if (it == shapes_.end()) {
    return NotFoundError("var '" + std::string(name) + "' has no known shape");
  }
  return it->second;
}

ShapeEnv ShapeEnv::FromBlock(const ProgramDesc& program, int block) {
  ShapeEnv env;
  std::vector<int> chain;
  while (block >= 0 && block < program.blocks_size() &&
         std::find(chain.begin(), chain.end(), block) == chain.end()) {
    chain.push_back(block);
    block = program.blocks(block).parent_idx();
  }
  // Outermost first, so inner declarations shadow outer ones.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const VarDesc& v : program.blocks(*it).vars()) {
      env.Set(v.name(), VarShape{v.dtype(), {v.shape().begin(), v.shape().end()}});
    }
  }
  return env;
}

double OpCost::Seconds(const DeviceProfile& device) const {
  return std::max(flops / device.flops_per_second, bytes / device.bytes_per_second);
}

bool OpSchema::IsOptionalInput(std::string_view slot) const {
  return std::find(optional_inputs.begin(), optional_inputs.end(), slot) != optional_inputs.end();
}

int OpSchema::InputIndex(std::string_view slot) const {
  auto it = std::find(inputs.begin(), inputs.end(), slot);
  return it == inputs.end() ? -1 : static_cast<int>(it - inputs.begin());
}

int OpSchema::OutputIndex(std::string_view slot) const {
  auto it = std::find(outputs.begin(), outputs.end(), slot);
  return it == outputs.end() ? -1 : static_cast<int>(it - outputs.begin());
}

OpRegistry& OpRegistry::Global() {
  static OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    Status s = RegisterStandardOps(*r);
    if (!s.ok()) internal::DieBadStatusOrAccess(s);  // Our bug: standard names collide.
    return r;
  }();
  return *registry;
}

Status OpRegistry::Register(OpSchema schema) {
  if (schema.name.empty()) return InvalidArgumentError("op schema has no name");
  if (!schema.infer_shapes || !schema.cost) {
    return InvalidArgumentError("op schema '" + schema.name + "' needs both infer_shapes and cost");
  }
  if (schemas_.count(schema.name)) {
    return AlreadyExistsError("op '" + schema.name + "' is already registered");
  }
  std::string name = schema.name;
  schemas_.emplace(std::move(name), std::make_unique<OpSchema>(std::move(schema)));
  return OkStatus();
}

StatusOr<const OpSchema*> OpRegistry::Find(std::string_view name) const {
  auto it = schemas_.find(name);
  if (it != schemas_.end()) return static_cast<const OpSchema*>(it->second.get());
  return NotFoundError(
      fmt::format("op type '{}' is not registered; known: {}", name, fmt::join(Names(), ", ")));
}

std::vector<std::string> OpRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, s] : schemas_) names.push_back(n);
  return names;  // std::map keeps them sorted.
}

namespace {

template <typename T, typename Read>
StatusOr<T> GetAttr(const OpDesc& op, std::string_view name, T fallback, AttrValue::ValueCase kind,
                    const char* kind_name, Read read) {
  auto it = op.attrs().find(std::string(name));
  if (it == op.attrs().end()) return fallback;
  if (it->second.value_case() != kind) {
    return InvalidArgumentError("op '" + op.type() + "' attr '" + std::string(name) + "' must be " +
                                kind_name);
  }
  return read(it->second);
}

}  // namespace

StatusOr<int64_t> GetIntAttr(const OpDesc& op, std::string_view name, int64_t fallback) {
  return GetAttr<int64_t>(op, name, fallback, AttrValue::kI, "an int",
                          [](const AttrValue& a) { return a.i(); });
}
StatusOr<float> GetFloatAttr(const OpDesc& op, std::string_view name, float fallback) {
  auto it = op.attrs().find(std::string(name));
  // Accept an int where a float is expected: "scale: 2" is a natural thing to write.
  if (it != op.attrs().end() && it->second.value_case() == AttrValue::kI) {
    return static_cast<float>(it->second.i());
  }
  return GetAttr<float>(op, name, fallback, AttrValue::kF, "a float",
                        [](const AttrValue& a) { return a.f(); });
}
StatusOr<bool> GetBoolAttr(const OpDesc& op, std::string_view name, bool fallback) {
  return GetAttr<bool>(op, name, fallback, AttrValue::kB, "a bool",
                       [](const AttrValue& a) { return a.b(); });
}
StatusOr<std::string> GetStringAttr(const OpDesc& op, std::string_view name, std::string fallback) {
  return GetAttr<std::string>(op, name, std::move(fallback), AttrValue::kS, "a string",
                              [](const AttrValue& a) { return a.s(); });
}
StatusOr<std::vector<int64_t>> GetIntsAttr(const OpDesc& op, std::string_view name,
                                           std::vector<int64_t> fallback) {
  auto it = op.attrs().find(std::string(name));
  if (it != op.attrs().end() && it->second.value_case() == AttrValue::kI) {
    return std::vector<int64_t>{it->second.i()};
  }
  return GetAttr<std::vector<int64_t>>(
      op, name, std::move(fallback), AttrValue::kInts, "a list of ints", [](const AttrValue& a) {
        return std::vector<int64_t>(a.ints().values().begin(), a.ints().values().end());
      });
}
StatusOr<std::vector<std::string>> GetStringsAttr(const OpDesc& op, std::string_view name,
                                                  std::vector<std::string> fallback) {
  return GetAttr<std::vector<std::string>>(
      op, name, std::move(fallback), AttrValue::kStrings, "a list of strings",
      [](const AttrValue& a) {
        return std::vector<std::string>(a.strings().values().begin(), a.strings().values().end());
      });
}

}  // namespace colony::graph
