// Generated multi-task data the way the MMoE paper (Ma et al., KDD 2018, section 3.2) makes
// its synthetic tasks, with a task id per sample and a task mix (docs/multitask.md):
//   - two orthogonal unit vectors u1, u2 in R^dim; weights w1 = c u1 and
//     w2 = c (p u1 + sqrt(1 - p^2) u2), so that cos(w1, w2) = p (`correlation`);
//   - x ~ N(0, I); y_t = w_t.x + sum_{i=1..m} sin(alpha_i w_t.x + beta_i) + eps,
//     eps ~ N(0, noise^2), alpha_i and beta_i drawn once from N(0, 1);
//   - each sample is given to one task, drawn from `task_mix` (train) or uniformly (test,
//     so that a rare task is measured on as many samples as a common one), and carries that
//     task's label: y_t, or for `labels: classification` 1 when y_t is above the task's median.
// Files: one sample a line, tab-separated: task id, label, then the dim features.
//   MultitaskGeneratorOptions o;  o.out_dir = "data/multitask";  o.correlation = 0.5;
//   COLONY_RETURN_IF_ERROR(GenerateMultitask(o));   // train.txt, test.txt, truth.json
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::data {

struct MultitaskGeneratorOptions {
  std::string out_dir;                        // Folder for the files. Required.
  int64_t rows = 50000;                       // Samples in all (train + test). >= 2.
  double test_fraction = 0.1;                 // Share of samples in test.txt. In (0, 1).
  int dim = 100;                              // Features per sample. Default: 100 (paper).
  double correlation = 0.5;                   // cos(w1, w2), in [-1, 1]. Default: 0.5.
  std::vector<double> task_mix = {0.5, 0.5};  // Share of each task in train.txt; sums to 1.
  std::string labels = "regression";          // "regression" or "classification".
  int sin_terms = 10;                         // m, the sin terms. Default: 10 (paper). >= 0.
  double scale = 1.0;                         // c. Default: 1 (paper). > 0.
  double noise = 0.1;                         // Label noise std. Default: 0.1 (paper). >= 0.
  uint64_t seed = 1;                          // Seeds weights and samples. Default: 1.
  Status Validate() const;  // InvalidArgument naming the bad flag ("gen multitask: --dim ...").
};

// Parses "0.95,0.05": one share per task, each in [0, 1], summing to 1 (within 1e-6); two
// tasks. InvalidArgument naming `flag` and the bad entry, or --task-mix and the bad shares.
StatusOr<std::vector<double>> ParseTaskMix(const std::string& text, const std::string& flag);

// Writes out_dir/train.txt, test.txt and truth.json (keys: generator, rows, train_rows,
// test_rows, dim, correlation, weight_cosine, label_correlation, labels, task_mix,
// train_task_rows, test_task_rows, sin_terms, scale, noise, seed, test_label_variance,
// bayes_mse). label_correlation is the Pearson correlation of the two tasks' labels over
// every sample (both labels computed for each x). InvalidArgument for bad options,
// Unavailable when a file cannot be written.
Status GenerateMultitask(const MultitaskGeneratorOptions& options);

}  // namespace colony::data
