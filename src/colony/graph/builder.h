// ProgramBuilder: writes a ProgramDesc op by op, naming and shape-inferring outputs through the
// op registry. Errors are remembered and returned by Build(), so model code can chain calls.
//   graph::ProgramBuilder b;
//   std::string x = b.Feed("dense", graph::FLOAT32, {-1, 13});
//   std::string w = b.Parameter("fc.w", {13, 1}, graph::XavierUniform());
//   std::string logit = b.Op1("fc", {{"X", {x}}, {"W", {w}}});
//   b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
//   COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, b.Build());
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/op_registry.h"
#include "colony/program.pb.h"

namespace colony::graph {

using AttrMap = std::map<std::string, AttrValue>;
using SlotBindings = std::vector<std::pair<std::string, std::vector<std::string>>>;

AttrValue IntAttr(int64_t v);
AttrValue FloatAttr(float v);
AttrValue StringAttr(std::string v);
AttrValue BoolAttr(bool v);
AttrValue IntsAttr(std::vector<int64_t> v);
AttrValue FloatsAttr(std::vector<float> v);
AttrValue StringsAttr(std::vector<std::string> v);
AttrValue BlockAttr(int block);

Initializer Zeros();
Initializer Constant(float value);
Initializer Uniform(float lo, float hi);
Initializer Normal(float mean, float std);
Initializer XavierUniform();

// Not thread-safe.
class ProgramBuilder {
 public:
  // Starts block 0. `registry` must outlive the builder.
  ProgramBuilder();
  explicit ProgramBuilder(const OpRegistry& registry);

  // Declares a per-batch input of block 0 (stop_gradient = true) and lists it in feeds.
  std::string Feed(const std::string& name, DataType dtype, std::vector<int64_t> shape);
  // Dense trainable parameter (persistable, float32) with its initializer.
  std::string Parameter(const std::string& name, std::vector<int64_t> shape, Initializer init);
  // Sparse table rows: VarDesc{sparse, persistable, shape [-1, dim]}.
  std::string SparseParameter(const std::string& name, int64_t dim, Initializer init);
  // A plain variable of the current block (for recurrent step blocks: step inputs and states).
  std::string Var(const std::string& name, DataType dtype, std::vector<int64_t> shape);

  // Appends an op to the current block; creates its outputs "<type>_<n>.<slot>" (with "_<i>"
  // appended for several vars in one slot) with inferred shapes. Returns the output var names
  // of each output slot in the schema's order. On error returns {} and remembers the error.
  std::vector<std::string> Op(const std::string& type, const SlotBindings& inputs,
                              const AttrMap& attrs = {});
  // The single output name; remembers an error if the op has not exactly one output.
  std::string Op1(const std::string& type, const SlotBindings& inputs, const AttrMap& attrs = {});

  // Opens a sub-block of the current block and makes it current; returns its index.
  int BeginBlock();
  // Returns to the parent block.
  void EndBlock();
  int current_block() const { return current_; }

  void SetLoss(const std::string& var);
  void AddFetch(const std::string& var);

  // Validate()s the program against the builder's registry; returns the first remembered
  // error if any.
  StatusOr<ProgramDesc> Build();

 private:
  void Fail(Status s);
  bool DeclareVar(VarDesc var);

  const OpRegistry& registry_;
  ProgramDesc program_;
  ShapeEnv env_;  // Every declared var; names are unique across blocks in a built program.
  int current_ = 0;
  int next_op_id_ = 0;
  Status first_error_;
};

}  // namespace colony::graph
