#include "colony/data/multitask_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <type_traits>

#include "colony/base/file_util.h"

namespace colony::data {
namespace {

// The fields of one tab-separated line.
void SplitTabs(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return;
    start = tab + 1;
  }
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (ec != std::errc() || end != text.data() + text.size()) return false;
  // "nan" and "inf" parse as floats but would poison every loss they reach.
  if constexpr (std::is_floating_point_v<T>) return std::isfinite(*out);
  return true;
}

}  // namespace

StatusOr<MultitaskFile> ReadMultitaskFile(const std::string& path,
                                          const MultitaskReadOptions& options) {
  if (!PathExists(path)) {
    return NotFoundError("multi-task file '" + path +
                         "' does not exist; generate data with `colony gen multitask --out DIR`");
  }
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  MultitaskFile f;
  f.dim = options.dim;
  std::vector<std::string_view> fields;
  std::vector<float> row;
  int64_t line_no = 0;
  auto bad = [&](const std::string& reason) {
    ++f.bad_lines;
    if (f.first_bad_lines.size() < 10) {
      f.first_bad_lines.push_back(fmt::format("{}:{}: {}", path, line_no, reason));
    }
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    SplitTabs(line, fields);
    if (fields.size() < 3) {
      bad(fmt::format("{} fields; want task id, label and features, tab-separated", fields.size()));
      continue;
    }
    const int dim = static_cast<int>(fields.size()) - 2;
    if (f.dim != 0 && dim != f.dim) {
      bad(fmt::format("{} features, want {}", dim, f.dim));
      continue;
    }
    int32_t task = 0;
    if (!ParseNumber(fields[0], &task) || task < 0 ||
        (options.num_tasks > 0 && task >= options.num_tasks)) {
      bad(fmt::format("task id '{}' is not an integer in [0, {})", fields[0],
                      options.num_tasks > 0 ? std::to_string(options.num_tasks) : "inf"));
      continue;
    }
    float label = 0;
    if (!ParseNumber(fields[1], &label)) {
      bad(fmt::format("label '{}' is not a number", fields[1]));
      continue;
    }
    if (options.binary_labels && label != 0.0f && label != 1.0f) {
      bad(fmt::format("label '{}' is not 0 or 1 (classification)", fields[1]));
      continue;
    }
    row.resize(dim);
    bool ok = true;
    for (int j = 0; j < dim && ok; ++j) {
      if (!ParseNumber(fields[j + 2], &row[j])) {
        bad(fmt::format("feature {} '{}' is not a number", j + 1, fields[j + 2]));
        ok = false;
      }
    }
    if (!ok) continue;
    f.dim = dim;
    f.tasks.push_back(task);
    f.labels.push_back(label);
    f.features.insert(f.features.end(), row.begin(), row.end());
  }
  return f;
}

}  // namespace colony::data
