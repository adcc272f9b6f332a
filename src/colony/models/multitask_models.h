// Multi-task models as programs: shared-bottom and MMoE (multi-gate mixture of experts, Ma et
// al. 2018), one tower per task. A model is a set of programs over the same parameter names:
//   all      every task's tower; fetches: task 0..K-1's predictions; no loss. Its
//            parameters are the model's (the trainers make the tables from it).
//   tasks[k] the shared layers and task k's tower only; fetch: task k's prediction (the
//            value for regression, the probability for classification); loss: mean squared
//            error, or mean sigmoid BCE. Training a batch of task k on it updates the shared
//            layers and tower k, and nothing else.
// Feeds: "x" float [-1, input_dim], "label" float [-1, 1].
//   COLONY_ASSIGN_OR_RETURN(MultitaskPrograms p, BuildMultitaskModel({.name = "mmoe"}));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"

namespace colony::models {

inline constexpr char kMultitaskFeaturesFeed[] = "x";
inline constexpr char kMultitaskLabelFeed[] = "label";

struct MultitaskModelOptions {
  std::string name = "mmoe";                  // "shared_bottom" or "mmoe". Default: "mmoe".
  int num_tasks = 2;                          // Towers. Default: 2. >= 1.
  int input_dim = 100;                        // Features per sample. Default: 100. >= 1.
  std::string task_type = "regression";       // "regression" (MSE) or "classification" (BCE).
  std::vector<int64_t> bottom_hidden = {64};  // shared_bottom: the shared MLP's widths.
  int experts = 8;                            // mmoe: experts. Default: 8. >= 1.
  std::vector<int64_t> expert_hidden = {16};  // mmoe: each expert's MLP widths.
  std::vector<int64_t> tower_hidden = {8};    // Each tower's hidden widths (may be empty).
  // InvalidArgument naming the bad field ("model.experts must be >= 1, got 0").
  Status Validate() const;
};

struct MultitaskPrograms {
  graph::ProgramDesc all;
  std::vector<graph::ProgramDesc> tasks;
};

// InvalidArgument for bad options, NotFound (listing the known names) for an unknown name.
StatusOr<MultitaskPrograms> BuildMultitaskModel(const MultitaskModelOptions& options);
bool IsMultitaskModel(const std::string& name);
// Known model names, sorted, each with a one-line description.
std::vector<std::pair<std::string, std::string>> MultitaskModelNames();

}  // namespace colony::models
