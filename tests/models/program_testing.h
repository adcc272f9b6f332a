// Helpers for model-zoo tests.
#pragma once

#include <string>

#include "colony/program.pb.h"

namespace colony::models::testing {

// Ops of `type` in block 0.
inline int CountOps(const graph::ProgramDesc& p, const std::string& type) {
  int n = 0;
  for (const auto& op : p.blocks(0).ops()) n += op.type() == type;
  return n;
}

}  // namespace colony::models::testing
