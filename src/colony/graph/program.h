// Helpers over colony's program IR (proto/colony/program.proto): text form, validation and
// variable lookup. The generated types (ProgramDesc, BlockDesc, OpDesc, VarDesc, AttrValue) are
// graph's public API.
//   COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc p, graph::ParseText(text));
//   COLONY_RETURN_IF_ERROR(graph::Validate(p));
#pragma once

#include <string>
#include <string_view>

#include "colony/base/status.h"
#include "colony/program.pb.h"

namespace colony::graph {

class OpRegistry;

// Protobuf text format of `program`; ParseText(ToText(p)) == p.
std::string ToText(const ProgramDesc& program);

// Parses protobuf text format. InvalidArgument with the parser's line:column message on error.
// Does not Validate().
StatusOr<ProgramDesc> ParseText(std::string_view text);

// Checks the program's structure against the global op registry:
//  - at least one block; block i has idx == i; parent_idx is -1 for block 0 and a smaller
//    valid index otherwise; variable names unique within a block;
//  - every op type is registered; every input/output slot is one the schema knows, required
//    input slots are bound; every input var is declared in its block or an ancestor block;
//    every output var is declared in its block;
//  - block attrs name a valid sub-block (not 0, not the op's own block);
//  - feeds, fetches and loss name variables of block 0.
// Returns InvalidArgument naming the block, op index, op type and variable; NotFound for an
// unregistered op type (listing known ones).
Status Validate(const ProgramDesc& program);
// Same, against `registry` instead of OpRegistry::Global().
Status Validate(const ProgramDesc& program, const OpRegistry& registry);

// The VarDesc called `name` visible from `block` (the block, then its ancestors), or nullptr.
// The pointer is owned by `program` and valid while it is unchanged.
const VarDesc* FindVar(const ProgramDesc& program, int block, std::string_view name);

// The var names bound to input/output slot `slot` of `op`, or nullptr when the slot is absent.
const Slot* FindInput(const OpDesc& op, std::string_view slot);
const Slot* FindOutput(const OpDesc& op, std::string_view slot);

// Bytes of one element of `dtype`.
int64_t DataTypeSize(DataType dtype);

}  // namespace colony::graph
