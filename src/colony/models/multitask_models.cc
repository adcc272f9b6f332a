#include "colony/models/multitask_models.h"

#include <fmt/format.h>

#include "colony/graph/builder.h"
#include "colony/models/internal/layers.h"

namespace colony::models {
namespace {

using graph::ProgramBuilder;
using internal::Fc;

// ReLU layers of `widths` named <prefix>_<i>; updates *width to the last one's.
std::string Mlp(ProgramBuilder& b, std::string x, int64_t* width,
                const std::vector<int64_t>& widths, const std::string& prefix) {
  for (size_t i = 0; i < widths.size(); ++i) {
    x = Fc(b, x, *width, widths[i], fmt::format("{}_{}", prefix, i), "relu");
    *width = widths[i];
  }
  return x;
}

// What every task's tower reads: the shared bottom's output, or for MMoE the mixture of the
// experts under task k's gate. `experts` holds the expert outputs, computed once per program.
struct Shared {
  std::string bottom;                // shared_bottom
  std::vector<std::string> experts;  // mmoe: [-1, width] each
  std::string stacked;               // mmoe: [-1, experts, width]
  int64_t width = 0;
};

Shared BuildShared(ProgramBuilder& b, const std::string& x, const MultitaskModelOptions& o) {
  Shared s;
  if (o.name == "shared_bottom") {
    s.width = o.input_dim;
    s.bottom = Mlp(b, x, &s.width, o.bottom_hidden, "bottom");
    return s;
  }
  std::vector<std::string> rows;
  for (int e = 0; e < o.experts; ++e) {
    int64_t width = o.input_dim;
    const std::string h = Mlp(b, x, &width, o.expert_hidden, fmt::format("expert{}", e));
    s.width = width;
    rows.push_back(b.Op1("reshape", {{"X", {h}}}, {{"shape", graph::IntsAttr({-1, 1, width})}}));
  }
  s.stacked =
      rows.size() == 1 ? rows[0] : b.Op1("concat", {{"X", rows}}, {{"axis", graph::IntAttr(1)}});
  return s;
}

// Task k's input to its tower, [-1, width].
std::string TaskInput(ProgramBuilder& b, const std::string& x, const Shared& s, int k,
                      const MultitaskModelOptions& o) {
  if (o.name == "shared_bottom") return s.bottom;
  const std::string logits = Fc(b, x, o.input_dim, o.experts, fmt::format("gate{}", k), "none");
  const std::string gate = b.Op1("softmax", {{"X", {logits}}}, {{"axis", graph::IntAttr(-1)}});
  const std::string gate3 =
      b.Op1("reshape", {{"X", {gate}}}, {{"shape", graph::IntsAttr({-1, 1, o.experts})}});
  const std::string mixed = b.Op1("matmul", {{"X", {gate3}}, {"Y", {s.stacked}}});
  return b.Op1("reshape", {{"X", {mixed}}}, {{"shape", graph::IntsAttr({-1, s.width})}});
}

// Tower k: its hidden layers and a one-unit output; returns the [-1, 1] output (a logit for
// classification).
std::string Tower(ProgramBuilder& b, const std::string& in, int64_t width, int k,
                  const MultitaskModelOptions& o) {
  const std::string h = Mlp(b, in, &width, o.tower_hidden, fmt::format("tower{}", k));
  return Fc(b, h, width, 1, fmt::format("tower{}_out", k), "none");
}

// A program over `towers`; with `with_loss` (one tower) its loss against the label.
StatusOr<graph::ProgramDesc> BuildProgram(const MultitaskModelOptions& o,
                                          const std::vector<int>& towers, bool with_loss) {
  ProgramBuilder b;
  const std::string x = b.Feed(kMultitaskFeaturesFeed, graph::FLOAT32, {-1, o.input_dim});
  const std::string label = with_loss ? b.Feed(kMultitaskLabelFeed, graph::FLOAT32, {-1, 1}) : "";
  const Shared shared = BuildShared(b, x, o);
  const bool classification = o.task_type == "classification";
  for (int k : towers) {
    const std::string out = Tower(b, TaskInput(b, x, shared, k, o), shared.width, k, o);
    b.AddFetch(classification ? b.Op1("sigmoid", {{"X", {out}}}) : out);
    if (!with_loss) continue;
    if (classification) {
      b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {out}}, {"Label", {label}}}));
    } else {
      const std::string diff = b.Op1("sub", {{"X", {out}}, {"Y", {label}}});
      const std::string square = b.Op1("mul", {{"X", {diff}}, {"Y", {diff}}});
      b.SetLoss(b.Op1("reduce_mean", {{"X", {square}}},
                      {{"axes", graph::IntsAttr({})}, {"keep_dim", graph::BoolAttr(false)}}));
    }
  }
  return b.Build();
}

const std::vector<std::pair<std::string, std::string>>& Names() {
  static const auto* names = new std::vector<std::pair<std::string, std::string>>{
      {"mmoe",
       "multi-gate mixture of experts: shared experts, a softmax gate and a tower per task"},
      {"shared_bottom", "shared-bottom: one shared MLP under a tower per task"},
  };
  return *names;
}

Status CheckWidths(const std::vector<int64_t>& widths, const std::string& key) {
  for (int64_t width : widths) {
    if (width <= 0) {
      return InvalidArgumentError(fmt::format("model.{} widths must be > 0, got {}", key, width));
    }
  }
  return OkStatus();
}

}  // namespace

Status MultitaskModelOptions::Validate() const {
  if (!IsMultitaskModel(name)) {
    return NotFoundError(
        fmt::format("model.name '{}' is not a multi-task model; known: "
                    "mmoe, shared_bottom",
                    name));
  }
  if (num_tasks < 1) {
    return InvalidArgumentError(fmt::format("model.num_tasks must be >= 1, got {}", num_tasks));
  }
  if (input_dim < 1) {
    return InvalidArgumentError(fmt::format("model.input_dim must be >= 1, got {}", input_dim));
  }
  if (task_type != "regression" && task_type != "classification") {
    return InvalidArgumentError("model.task_type must be 'regression' or 'classification', got '" +
                                task_type + "'");
  }
  if (experts < 1) {
    return InvalidArgumentError(fmt::format("model.experts must be >= 1, got {}", experts));
  }
  if (name == "mmoe" && expert_hidden.empty()) {
    return InvalidArgumentError("model.expert_hidden needs at least one width");
  }
  COLONY_RETURN_IF_ERROR(CheckWidths(bottom_hidden, "bottom_hidden"));
  COLONY_RETURN_IF_ERROR(CheckWidths(expert_hidden, "expert_hidden"));
  return CheckWidths(tower_hidden, "tower_hidden");
}

StatusOr<MultitaskPrograms> BuildMultitaskModel(const MultitaskModelOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  MultitaskPrograms p;
  std::vector<int> all;
  for (int k = 0; k < options.num_tasks; ++k) {
    all.push_back(k);
    COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc task, BuildProgram(options, {k}, true));
    p.tasks.push_back(std::move(task));
  }
  COLONY_ASSIGN_OR_RETURN(p.all, BuildProgram(options, all, false));
  return p;
}

bool IsMultitaskModel(const std::string& name) {
  for (const auto& [known, doc] : Names()) {
    if (known == name) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> MultitaskModelNames() { return Names(); }

}  // namespace colony::models
