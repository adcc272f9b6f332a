#include "colony/graph/builder.h"

#include "colony/graph/program.h"

namespace colony::graph {

AttrValue IntAttr(int64_t v) {
  AttrValue a;
  a.set_i(v);
  return a;
}
AttrValue FloatAttr(float v) {
  AttrValue a;
  a.set_f(v);
  return a;
}
AttrValue StringAttr(std::string v) {
  AttrValue a;
  a.set_s(std::move(v));
  return a;
}
AttrValue BoolAttr(bool v) {
  AttrValue a;
  a.set_b(v);
  return a;
}
AttrValue IntsAttr(std::vector<int64_t> v) {
  AttrValue a;
  a.mutable_ints()->mutable_values()->Add(v.begin(), v.end());
  return a;
}
AttrValue FloatsAttr(std::vector<float> v) {
  AttrValue a;
  a.mutable_floats()->mutable_values()->Add(v.begin(), v.end());
  return a;
}
AttrValue StringsAttr(std::vector<std::string> v) {
  AttrValue a;
  for (std::string& s : v) a.mutable_strings()->add_values(std::move(s));
  return a;
}
AttrValue BlockAttr(int block) {
  AttrValue a;
  a.set_block(block);
  return a;
}

Initializer Zeros() {
  Initializer i;
  i.set_type("zeros");
  return i;
}
Initializer Constant(float value) {
  Initializer i;
  i.set_type("constant");
  i.set_value(value);
  return i;
}
Initializer Uniform(float lo, float hi) {
  Initializer i;
  i.set_type("uniform");
  i.set_low(lo);
  i.set_high(hi);
  return i;
}
Initializer Normal(float mean, float std) {
  Initializer i;
  i.set_type("normal");
  i.set_mean(mean);
  i.set_std(std);
  return i;
}
Initializer XavierUniform() {
  Initializer i;
  i.set_type("xavier_uniform");
  return i;
}

ProgramBuilder::ProgramBuilder() : ProgramBuilder(OpRegistry::Global()) {}

ProgramBuilder::ProgramBuilder(const OpRegistry& registry) : registry_(registry) {
  program_.set_version(1);
  BlockDesc* main = program_.add_blocks();
  main->set_idx(0);
  main->set_parent_idx(-1);
}

void ProgramBuilder::Fail(Status s) {
  if (first_error_.ok()) first_error_ = std::move(s);
}

bool ProgramBuilder::DeclareVar(VarDesc var) {
  if (env_.Has(var.name())) {
    Fail(InvalidArgumentError("var '" + var.name() + "' is declared twice"));
    return false;
  }
  env_.Set(var.name(), VarShape{var.dtype(), {var.shape().begin(), var.shape().end()}});
  *program_.mutable_blocks(current_)->add_vars() = std::move(var);
  return true;
}

std::string ProgramBuilder::Feed(const std::string& name, DataType dtype,
                                 std::vector<int64_t> shape) {
  if (current_ != 0) Fail(InvalidArgumentError("feed '" + name + "' must be in block 0"));
  VarDesc v;
  v.set_name(name);
  v.set_dtype(dtype);
  v.mutable_shape()->Add(shape.begin(), shape.end());
  v.set_stop_gradient(true);
  if (DeclareVar(std::move(v))) program_.add_feeds(name);
  return name;
}

std::string ProgramBuilder::Parameter(const std::string& name, std::vector<int64_t> shape,
                                      Initializer init) {
  for (int64_t d : shape) {
    if (d <= 0) {
      Fail(InvalidArgumentError("parameter '" + name + "' needs positive dims, got " +
                                ShapeToString(shape)));
    }
  }
  VarDesc v;
  v.set_name(name);
  v.set_dtype(FLOAT32);
  v.mutable_shape()->Add(shape.begin(), shape.end());
  v.set_persistable(true);
  *v.mutable_initializer() = std::move(init);
  DeclareVar(std::move(v));
  return name;
}

std::string ProgramBuilder::SparseParameter(const std::string& name, int64_t dim,
                                            Initializer init) {
  if (dim <= 0) {
    Fail(InvalidArgumentError("sparse parameter '" + name + "' needs dim > 0, got " +
                              std::to_string(dim)));
  }
  VarDesc v;
  v.set_name(name);
  v.set_dtype(FLOAT32);
  v.add_shape(-1);
  v.add_shape(dim);
  v.set_persistable(true);
  v.set_sparse(true);
  *v.mutable_initializer() = std::move(init);
  DeclareVar(std::move(v));
  return name;
}

std::string ProgramBuilder::Var(const std::string& name, DataType dtype,
                                std::vector<int64_t> shape) {
  VarDesc v;
  v.set_name(name);
  v.set_dtype(dtype);
  v.mutable_shape()->Add(shape.begin(), shape.end());
  DeclareVar(std::move(v));
  return name;
}

std::vector<std::string> ProgramBuilder::Op(const std::string& type, const SlotBindings& inputs,
                                            const AttrMap& attrs) {
  const std::string where = "op " + std::to_string(next_op_id_) + " ('" + type + "')";
  StatusOr<const OpSchema*> found = registry_.Find(type);
  if (!found.ok()) {
    Fail(Status(found.status()).WithContext(where));
    return {};
  }
  const OpSchema& schema = **found;
  OpDesc op;
  op.set_type(type);
  for (const auto& [slot, vars] : inputs) {
    if (schema.InputIndex(slot) < 0) {
      Fail(InvalidArgumentError(where + " has no input slot '" + slot + "'"));
      return {};
    }
    for (const std::string& v : vars) {
      if (!env_.Has(v)) {
        Fail(InvalidArgumentError(where + " input " + slot + " reads undeclared var '" + v + "'"));
        return {};
      }
    }
    Slot* s = op.add_inputs();
    s->set_name(slot);
    s->mutable_vars()->Add(vars.begin(), vars.end());
  }
  for (const auto& [name, value] : attrs) (*op.mutable_attrs())[name] = value;
  StatusOr<std::vector<VarShape>> shapes = schema.infer_shapes(op, env_);
  if (!shapes.ok()) {
    Fail(Status(shapes.status()).WithContext(where));
    return {};
  }
  std::vector<int> counts;
  if (schema.output_counts) {
    counts = schema.output_counts(op);
  } else if (schema.outputs.size() == 1) {
    counts = {static_cast<int>(shapes->size())};
  } else {
    counts.assign(schema.outputs.size(), 1);
  }
  int total = 0;
  for (int c : counts) total += c;
  if (total != static_cast<int>(shapes->size()) || counts.size() != schema.outputs.size()) {
    Fail(InternalError(where + ": shape inference returned " + std::to_string(shapes->size()) +
                       " shapes for " + std::to_string(total) + " outputs"));
    return {};
  }
  const std::string prefix = type + "_" + std::to_string(next_op_id_++) + ".";
  std::vector<std::string> names;
  size_t k = 0;
  for (size_t slot = 0; slot < schema.outputs.size(); ++slot) {
    Slot* s = op.add_outputs();
    s->set_name(schema.outputs[slot]);
    for (int i = 0; i < counts[slot]; ++i, ++k) {
      std::string name = prefix;
      name.append(schema.outputs[slot]);
      if (counts[slot] > 1) name.append("_").append(std::to_string(i));
      VarDesc v;
      v.set_name(name);
      v.set_dtype((*shapes)[k].dtype);
      v.mutable_shape()->Add((*shapes)[k].dims.begin(), (*shapes)[k].dims.end());
      if (!DeclareVar(std::move(v))) return {};
      s->add_vars(name);
      names.push_back(name);
    }
  }
  *program_.mutable_blocks(current_)->add_ops() = std::move(op);
  return names;
}

std::string ProgramBuilder::Op1(const std::string& type, const SlotBindings& inputs,
                                const AttrMap& attrs) {
  std::vector<std::string> outs = Op(type, inputs, attrs);
  if (outs.size() != 1) {
    if (first_error_.ok()) {
      Fail(InvalidArgumentError("Op1('" + type + "') needs an op with one output, got " +
                                std::to_string(outs.size())));
    }
    return "";
  }
  return outs[0];
}

int ProgramBuilder::BeginBlock() {
  BlockDesc* b = program_.add_blocks();
  b->set_idx(program_.blocks_size() - 1);
  b->set_parent_idx(current_);
  current_ = b->idx();
  return current_;
}

void ProgramBuilder::EndBlock() {
  if (current_ == 0) {
    Fail(FailedPreconditionError("EndBlock() without a matching BeginBlock()"));
    return;
  }
  current_ = program_.blocks(current_).parent_idx();
}

void ProgramBuilder::SetLoss(const std::string& var) {
  if (var.empty()) {
    Fail(InvalidArgumentError("SetLoss got an empty var name"));
    return;
  }
  program_.set_loss(var);
}

void ProgramBuilder::AddFetch(const std::string& var) {
  if (var.empty()) {
    Fail(InvalidArgumentError("AddFetch got an empty var name"));
    return;
  }
  program_.add_fetches(var);
}

StatusOr<ProgramDesc> ProgramBuilder::Build() {
  if (!first_error_.ok()) return first_error_;
  if (current_ != 0) {
    return FailedPreconditionError("block " + std::to_string(current_) +
                                   " is still open; call EndBlock()");
  }
  COLONY_RETURN_IF_ERROR(Validate(program_, registry_));
  return program_;
}

}  // namespace colony::graph
