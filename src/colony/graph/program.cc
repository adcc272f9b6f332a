#include "colony/graph/program.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <set>

#include "colony/graph/op_registry.h"

namespace colony::graph {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!text_.empty()) text_ += "; ";
    text_ += "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

std::string Where(int block, int op_index, const OpDesc& op) {
  return "block " + std::to_string(block) + " op " + std::to_string(op_index) + " ('" + op.type() +
         "')";
}

bool DeclaredIn(const BlockDesc& block, std::string_view name) {
  for (const VarDesc& v : block.vars()) {
    if (v.name() == name) return true;
  }
  return false;
}

}  // namespace

std::string ToText(const ProgramDesc& program) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(program, &out);
  return out;
}

StatusOr<ProgramDesc> ParseText(std::string_view text) {
  ProgramDesc program;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &program)) {
    return InvalidArgumentError("program text does not parse: " + errors.text());
  }
  return program;
}

const VarDesc* FindVar(const ProgramDesc& program, int block, std::string_view name) {
  std::set<int> seen;  // Guards against parent cycles in unvalidated programs.
  while (block >= 0 && block < program.blocks_size() && seen.insert(block).second) {
    for (const VarDesc& v : program.blocks(block).vars()) {
      if (v.name() == name) return &v;
    }
    block = program.blocks(block).parent_idx();
  }
  return nullptr;
}

const Slot* FindInput(const OpDesc& op, std::string_view slot) {
  for (const Slot& s : op.inputs()) {
    if (s.name() == slot) return &s;
  }
  return nullptr;
}

const Slot* FindOutput(const OpDesc& op, std::string_view slot) {
  for (const Slot& s : op.outputs()) {
    if (s.name() == slot) return &s;
  }
  return nullptr;
}

int64_t DataTypeSize(DataType dtype) {
  switch (dtype) {
    case FLOAT64:
    case INT64:
      return 8;
    case BOOL:
      return 1;
    default:
      return 4;
  }
}

Status Validate(const ProgramDesc& program) { return Validate(program, OpRegistry::Global()); }

Status Validate(const ProgramDesc& program, const OpRegistry& registry) {
  if (program.blocks_size() == 0) return InvalidArgumentError("program has no blocks");
  for (int b = 0; b < program.blocks_size(); ++b) {
    const BlockDesc& block = program.blocks(b);
    const std::string bname = "block " + std::to_string(b);
    if (block.idx() != b) {
      return InvalidArgumentError(bname + " has idx " + std::to_string(block.idx()) +
                                  "; blocks must be listed in index order");
    }
    if (b == 0 && block.parent_idx() != -1) {
      return InvalidArgumentError("block 0 must have parent_idx -1, got " +
                                  std::to_string(block.parent_idx()));
    }
    if (b > 0 && (block.parent_idx() < 0 || block.parent_idx() >= b)) {
      return InvalidArgumentError(bname + " has parent_idx " + std::to_string(block.parent_idx()) +
                                  "; a sub-block's parent must be an earlier block");
    }
    std::set<std::string, std::less<>> names;
    for (const VarDesc& v : block.vars()) {
      if (v.name().empty()) return InvalidArgumentError(bname + " declares a var with no name");
      if (!names.insert(v.name()).second) {
        return InvalidArgumentError(bname + " declares var '" + v.name() + "' twice");
      }
    }
    for (int i = 0; i < block.ops_size(); ++i) {
      const OpDesc& op = block.ops(i);
      const std::string where = Where(b, i, op);
      StatusOr<const OpSchema*> schema = registry.Find(op.type());
      if (!schema.ok()) return Status(schema.status()).WithContext(where);
      std::set<std::string> bound;
      for (const Slot& slot : op.inputs()) {
        if ((*schema)->InputIndex(slot.name()) < 0) {
          return InvalidArgumentError(where + " has unknown input slot '" + slot.name() + "'");
        }
        bound.insert(slot.name());
        for (const std::string& var : slot.vars()) {
          if (FindVar(program, b, var) == nullptr) {
            return InvalidArgumentError(where + " input " + slot.name() + " reads var '" + var +
                                        "', which is not declared in block " + std::to_string(b) +
                                        " or its parents");
          }
        }
      }
      for (const std::string& slot : (*schema)->inputs) {
        if (!bound.count(slot) && !(*schema)->IsOptionalInput(slot)) {
          return InvalidArgumentError(where + " is missing required input slot '" + slot + "'");
        }
      }
      for (const Slot& slot : op.outputs()) {
        if ((*schema)->OutputIndex(slot.name()) < 0) {
          return InvalidArgumentError(where + " has unknown output slot '" + slot.name() + "'");
        }
        for (const std::string& var : slot.vars()) {
          if (!DeclaredIn(block, var)) {
            return InvalidArgumentError(where + " output " + slot.name() + " writes var '" + var +
                                        "', which is not declared in block " + std::to_string(b));
          }
        }
      }
      for (const auto& [name, attr] : op.attrs()) {
        if (attr.value_case() != AttrValue::kBlock) continue;
        const int sub = attr.block();
        if (sub <= 0 || sub >= program.blocks_size() || sub == b) {
          return InvalidArgumentError(where + " attr '" + name + "' names block " +
                                      std::to_string(sub) + ", which is not a valid sub-block");
        }
      }
    }
  }
  const auto check_main = [&](const std::string& var, const char* what) -> Status {
    if (!DeclaredIn(program.blocks(0), var)) {
      return InvalidArgumentError(std::string(what) + " '" + var + "' is not a var of block 0");
    }
    return OkStatus();
  };
  for (const std::string& f : program.feeds()) COLONY_RETURN_IF_ERROR(check_main(f, "feed"));
  for (const std::string& f : program.fetches()) COLONY_RETURN_IF_ERROR(check_main(f, "fetch"));
  if (!program.loss().empty()) COLONY_RETURN_IF_ERROR(check_main(program.loss(), "loss"));
  return OkStatus();
}

}  // namespace colony::graph
