// Op schemas: each op type of the IR has a schema with its slots, shape inference and a cost
// function (FLOPs and bytes moved, used by the planner). Kernels live in exec under the same
// names. The registry is filled explicitly by RegisterStandardOps; Global() is pre-filled.
//   COLONY_ASSIGN_OR_RETURN(const graph::OpSchema* fc, graph::OpRegistry::Global().Find("fc"));
//   COLONY_ASSIGN_OR_RETURN(auto shapes, fc->infer_shapes(op, env));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"

namespace colony::graph {

// The static type of a variable: dtype and dims, where -1 is a dimension known only at run time.
struct VarShape {
  DataType dtype = FLOAT32;
  std::vector<int64_t> dims;
  bool operator==(const VarShape&) const = default;
};
std::string ShapeToString(const std::vector<int64_t>& dims);  // "[-1, 16]"

// Shapes of the variables visible to an op during shape inference.
class ShapeEnv {
 public:
  void Set(const std::string& name, VarShape shape) { shapes_[name] = std::move(shape); }
  // NotFound naming the variable when it has no shape.
  StatusOr<VarShape> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return shapes_.find(name) != shapes_.end(); }
  // Fills the env from every var of `block` and its ancestors.
  static ShapeEnv FromBlock(const ProgramDesc& program, int block);

 private:
  std::map<std::string, VarShape, std::less<>> shapes_;
};

// What the cost model knows about a device. Figures are per second.
struct DeviceProfile {
  double flops_per_second = 1e11;  // Sustained FLOP/s. Default: 1e11.
  double bytes_per_second = 2e10;  // Sustained memory bandwidth. Default: 2e10.
  int64_t batch_size = 512;        // Substituted for -1 dims when costing. Default: 512.
};

// The work of one op execution: floating point operations and bytes read + written.
struct OpCost {
  double flops = 0;
  double bytes = 0;
  // A roofline estimate: the slower of compute and memory on `device`.
  double Seconds(const DeviceProfile& device) const;
};

struct OpSchema {
  std::string name, doc;                     // "matmul"; a one-line doc for help listings.
  std::vector<std::string> inputs;           // Input slot names, in order.
  std::vector<std::string> optional_inputs;  // The subset of `inputs` that may be unbound.
  std::vector<std::string> outputs;          // Output slot names, in order.
  // Shapes of the output vars: for each output slot in order, one shape per var. When the
  // schema has a single output slot it may hold several vars (split); the op's output slots may
  // be empty when called (the builder infers before it names outputs).
  std::function<StatusOr<std::vector<VarShape>>(const OpDesc&, const ShapeEnv&)> infer_shapes;
  std::function<OpCost(const OpDesc&, const ShapeEnv&, const DeviceProfile&)> cost;
  // Optional: how many vars each output slot gets, for schemas with several slots of varying
  // size (recurrent). Unset: one var per slot, or all vars in the single slot.
  std::function<std::vector<int>(const OpDesc&)> output_counts;

  bool IsOptionalInput(std::string_view slot) const;
  int InputIndex(std::string_view slot) const;   // -1 if unknown.
  int OutputIndex(std::string_view slot) const;  // -1 if unknown.
};

// Thread safety: Register must not run concurrently with anything; lookups are safe to run
// concurrently.
class OpRegistry {
 public:
  OpRegistry() = default;
  OpRegistry(const OpRegistry&) = delete;
  OpRegistry& operator=(const OpRegistry&) = delete;

  // The process-wide registry, filled with RegisterStandardOps on first use.
  static OpRegistry& Global();
  // AlreadyExists on a duplicate name; InvalidArgument when infer_shapes or cost is missing.
  Status Register(OpSchema schema);
  // NotFound listing the known names.
  StatusOr<const OpSchema*> Find(std::string_view name) const;
  std::vector<std::string> Names() const;  // Sorted.

 private:
  std::map<std::string, std::unique_ptr<OpSchema>, std::less<>> schemas_;
};

// Registers every standard op schema (see docs/program.md). AlreadyExists if one is present.
Status RegisterStandardOps(OpRegistry& registry);

// Attribute accessors for shape inference and kernels. The defaults apply when the attr is
// absent; a present attr of the wrong kind is InvalidArgument naming the op type and attr.
StatusOr<int64_t> GetIntAttr(const OpDesc& op, std::string_view name, int64_t fallback);
StatusOr<float> GetFloatAttr(const OpDesc& op, std::string_view name, float fallback);
StatusOr<bool> GetBoolAttr(const OpDesc& op, std::string_view name, bool fallback);
StatusOr<std::string> GetStringAttr(const OpDesc& op, std::string_view name, std::string fallback);
StatusOr<std::vector<int64_t>> GetIntsAttr(const OpDesc& op, std::string_view name,
                                           std::vector<int64_t> fallback);
StatusOr<std::vector<std::string>> GetStringsAttr(const OpDesc& op, std::string_view name,
                                                  std::vector<std::string> fallback);

}  // namespace colony::graph
