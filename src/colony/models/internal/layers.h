// Layers the model zoos share. Private to models.
#pragma once

#include <cstdint>
#include <string>

#include "colony/graph/builder.h"

namespace colony::models::internal {

// fc with a fresh weight <name>.w [in, out] (Xavier) and bias <name>.b [out] (zeros);
// `activation` is "none", "relu", "sigmoid" or "tanh".
inline std::string Fc(graph::ProgramBuilder& b, const std::string& x, int64_t in, int64_t out,
                      const std::string& name, const std::string& activation) {
  const std::string w = b.Parameter(name + ".w", {in, out}, graph::XavierUniform());
  const std::string bias = b.Parameter(name + ".b", {out}, graph::Zeros());
  return b.Op1("fc", {{"X", {x}}, {"W", {w}}, {"B", {bias}}},
               {{"activation", graph::StringAttr(activation)}});
}

}  // namespace colony::models::internal
