// Reads multi-task sample files (colony gen multitask, docs/multitask.md): one sample a line,
// tab-separated: task id (an integer in [0, num_tasks)), label, then the features. The whole
// file is held in memory.
//   COLONY_ASSIGN_OR_RETURN(MultitaskFile f, ReadMultitaskFile("data/multitask/train.txt", {}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::data {

struct MultitaskReadOptions {
  int dim = 0;                 // Features per sample; 0 takes the first valid line's count.
  int num_tasks = 0;           // Task ids must be below this; 0 accepts any id >= 0.
  bool binary_labels = false;  // Labels must be 0 or 1 (classification).
};

struct MultitaskFile {
  int dim = 0;
  std::vector<int32_t> tasks;                // [n]
  std::vector<float> labels;                 // [n]
  std::vector<float> features;               // [n * dim], row-major.
  int64_t bad_lines = 0;                     // Malformed lines, skipped.
  std::vector<std::string> first_bad_lines;  // "file:line: reason" of the first ten.
  int64_t size() const { return static_cast<int64_t>(tasks.size()); }
};

// NotFound when the file is missing. A malformed line (wrong field count, a non-number, a
// task id out of range, a non-0/1 label with binary_labels) is skipped and counted.
StatusOr<MultitaskFile> ReadMultitaskFile(const std::string& path,
                                          const MultitaskReadOptions& options);

}  // namespace colony::data
