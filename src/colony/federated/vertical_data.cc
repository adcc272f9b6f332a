#include "colony/federated/vertical_data.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <unordered_map>

#include "colony/base/file_util.h"

namespace colony::fl {
namespace {

constexpr char kSklearnHint[] =
    "; install Debian's python3-sklearn (scripts/install-deps.sh) "
    "or set vertical.data.dir to the folder that holds it";

// Whole file, gunzipped when it is gzip (zlib reads plain files unchanged).
StatusOr<std::string> ReadMaybeGzip(const std::string& path, std::string_view hint) {
  if (!PathExists(path))
    return NotFoundError("data file '" + path + "' not found" + std::string(hint));
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return NotFoundError("cannot open data file '" + path + "'");
  std::string out;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) out.append(buffer, got);
  int error = 0;
  const char* message = gzerror(file, &error);
  const std::string why = message ? message : "";
  gzclose(file);
  if (got < 0 || (error != Z_OK && error != Z_STREAM_END)) {
    return DataLossError("data file '" + path + "': cannot decompress (" + why + ")");
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// Fields separated by `sep`, or by runs of blanks when sep is ' '.
std::vector<std::string> SplitFields(const std::string& line, char sep) {
  std::vector<std::string> fields;
  if (sep == ' ') {
    std::stringstream stream(line);
    for (std::string f; stream >> f;) fields.push_back(f);
    return fields;
  }
  std::stringstream stream(line);
  for (std::string f; std::getline(stream, f, sep);) fields.push_back(f);
  if (!line.empty() && line.back() == sep) fields.emplace_back();
  return fields;
}

bool ParseDouble(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*out);
}

// Numeric rows of a text file; lines that fail to parse are counted in `table`.
std::vector<std::vector<double>> ParseRows(const std::string& path,
                                           const std::vector<std::string>& lines, size_t first,
                                           char sep, size_t width, PartyTable* table) {
  std::vector<std::vector<double>> rows;
  for (size_t i = first; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      rows.emplace_back();  // Blank: no sample, but row numbers stay line numbers.
      continue;
    }
    std::vector<std::string> fields = SplitFields(lines[i], sep);
    std::vector<double> row(fields.size());
    std::string why;
    if (fields.size() != width) {
      why = "has " + std::to_string(fields.size()) + " fields, expected " + std::to_string(width);
    }
    for (size_t j = 0; why.empty() && j < fields.size(); ++j) {
      if (!ParseDouble(fields[j], &row[j])) {
        why = "field " + std::to_string(j + 1) + " '" + fields[j] + "' is not a number";
      }
    }
    if (!why.empty()) {
      if (table->skipped_lines++ == 0) {
        table->skipped_example = path + ":" + std::to_string(i + 1) + ": " + why;
      }
      // Keeps row numbers (the sklearn sample ids) in step with the file.
      rows.emplace_back();
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status CheckColumns(const std::vector<int>& columns, size_t width, std::string_view format) {
  if (columns.empty()) {
    return InvalidArgumentError("columns is empty; list the 0-based columns of " +
                                std::string(format) + " this party holds");
  }
  std::set<int> seen;
  for (int c : columns) {
    if (c < 0 || static_cast<size_t>(c) >= width) {
      return InvalidArgumentError("column " + std::to_string(c) +
                                  " is out of range: " + std::string(format) + " has columns 0.." +
                                  std::to_string(width - 1));
    }
    if (!seen.insert(c).second) {
      return InvalidArgumentError("column " + std::to_string(c) + " is listed twice");
    }
  }
  return OkStatus();
}

std::vector<std::string> BreastCancerNames() {
  const char* bases[] = {"radius",     "texture",          "perimeter", "area",
                         "smoothness", "compactness",      "concavity", "concave points",
                         "symmetry",   "fractal dimension"};
  std::vector<std::string> names;
  for (const char* b : bases) names.push_back(std::string("mean ") + b);
  for (const char* b : bases) names.push_back(std::string(b) + " error");
  for (const char* b : bases) names.push_back(std::string("worst ") + b);
  return names;
}

// Keeps the rows that parsed (non-empty) and, of those, the chosen columns.
StatusOr<PartyTable> FromSklearnRows(const PartyDataOptions& o, const std::string& path,
                                     const std::vector<std::string>& names,
                                     const std::vector<std::vector<double>>& rows,
                                     const std::vector<double>* labels, PartyTable table) {
  COLONY_RETURN_IF_ERROR(CheckColumns(o.columns, names.size(), o.format));
  for (int c : o.columns) table.feature_names.push_back(names[c]);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].empty() || (labels != nullptr && std::isnan((*labels)[i]))) continue;
    table.ids.push_back(i);
    for (int c : o.columns) table.features.push_back(rows[i][c]);
    if (labels != nullptr) table.labels.push_back((*labels)[i]);
  }
  if (table.ids.empty()) {
    return FailedPreconditionError("no data line of '" + path +
                                   "' parses; first: " + table.skipped_example);
  }
  return table;
}

StatusOr<PartyTable> LoadDiabetes(const PartyDataOptions& o) {
  const std::string path = o.dir + "/diabetes_data_raw.csv.gz";
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(path, kSklearnHint));
  const std::vector<std::string> names = {"age", "sex", "bmi", "bp", "s1",
                                          "s2",  "s3",  "s4",  "s5", "s6"};
  PartyTable table;
  const auto rows = ParseRows(path, SplitLines(text), 0, ' ', names.size(), &table);
  if (!o.with_label) return FromSklearnRows(o, path, names, rows, nullptr, std::move(table));
  const std::string target_path = o.dir + "/diabetes_target.csv.gz";
  COLONY_ASSIGN_OR_RETURN(std::string target_text, ReadMaybeGzip(target_path, kSklearnHint));
  const auto target_rows = ParseRows(target_path, SplitLines(target_text), 0, ' ', 1, &table);
  if (target_rows.size() != rows.size()) {
    return FailedPreconditionError("'" + target_path + "' has " +
                                   std::to_string(target_rows.size()) + " targets for " +
                                   std::to_string(rows.size()) + " rows of '" + path + "'");
  }
  std::vector<double> labels;
  for (const auto& r : target_rows) labels.push_back(r.empty() ? NAN : r[0]);
  return FromSklearnRows(o, path, names, rows, &labels, std::move(table));
}

StatusOr<PartyTable> LoadBreastCancer(const PartyDataOptions& o) {
  const std::string path = o.dir + "/breast_cancer.csv";
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(path, kSklearnHint));
  const std::vector<std::string> names = BreastCancerNames();
  PartyTable table;
  // Line 1 is sklearn's "569,30,malignant,benign" header; then 30 features and the label.
  const auto rows = ParseRows(path, SplitLines(text), 1, ',', names.size() + 1, &table);
  std::vector<double> labels;
  for (const auto& r : rows) labels.push_back(r.empty() ? NAN : r.back());
  return FromSklearnRows(o, path, names, rows, o.with_label ? &labels : nullptr, std::move(table));
}

StatusOr<PartyTable> LoadCsv(const PartyDataOptions& o) {
  if (o.file.empty()) return InvalidArgumentError("format csv needs the party's file");
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadMaybeGzip(o.file, ""));
  const std::vector<std::string> lines = SplitLines(text);
  if (lines.empty()) return FailedPreconditionError("'" + o.file + "' is empty; expected a header");
  const std::vector<std::string> header = SplitFields(lines[0], ',');
  int id_col = -1, label_col = -1;
  PartyTable table;
  std::vector<int> feature_cols;
  for (size_t j = 0; j < header.size(); ++j) {
    if (header[j] == "id") {
      id_col = static_cast<int>(j);
    } else if (o.with_label && header[j] == o.label_column) {
      label_col = static_cast<int>(j);
    } else {
      feature_cols.push_back(static_cast<int>(j));
      table.feature_names.push_back(header[j]);
    }
  }
  if (id_col < 0)
    return InvalidArgumentError("'" + o.file + "':1: no column named 'id' in the header");
  if (o.with_label && label_col < 0) {
    return InvalidArgumentError("'" + o.file + "':1: no label column '" + o.label_column +
                                "' in the header");
  }
  if (feature_cols.empty()) return InvalidArgumentError("'" + o.file + "':1: no feature columns");
  const auto rows = ParseRows(o.file, lines, 1, ',', header.size(), &table);
  std::set<uint64_t> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.empty()) continue;
    const double id = r[id_col];
    if (id < 0 || id != std::floor(id) || id > 9.0e15) {
      if (table.skipped_lines++ == 0) {
        table.skipped_example =
            o.file + ":" + std::to_string(i + 2) + ": id is not an unsigned integer";
      }
      continue;
    }
    if (!seen.insert(static_cast<uint64_t>(id)).second) {
      return FailedPreconditionError("'" + o.file + "':" + std::to_string(i + 2) + ": id " +
                                     std::to_string(static_cast<uint64_t>(id)) + " appears twice");
    }
    table.ids.push_back(static_cast<uint64_t>(id));
    for (int c : feature_cols) table.features.push_back(r[c]);
    if (o.with_label) table.labels.push_back(r[label_col]);
  }
  if (table.ids.empty()) {
    return FailedPreconditionError("no data line of '" + o.file +
                                   "' parses; first: " + table.skipped_example);
  }
  return table;
}

}  // namespace

StatusOr<PartyTable> LoadPartyTable(const PartyDataOptions& options) {
  if (options.format == "sklearn_diabetes") return LoadDiabetes(options);
  if (options.format == "sklearn_breast_cancer") return LoadBreastCancer(options);
  if (options.format == "csv") return LoadCsv(options);
  return InvalidArgumentError("data format '" + options.format +
                              "' is unknown; use sklearn_diabetes, sklearn_breast_cancer or csv");
}

StatusOr<PartyTable> SelectRows(const PartyTable& table, std::span<const uint64_t> ids) {
  std::unordered_map<uint64_t, size_t> index;
  for (size_t i = 0; i < table.ids.size(); ++i) index[table.ids[i]] = i;
  PartyTable out;
  out.feature_names = table.feature_names;
  const size_t cols = table.cols();
  for (uint64_t id : ids) {
    auto it = index.find(id);
    if (it == index.end())
      return NotFoundError("sample id " + std::to_string(id) + " is not held here");
    out.ids.push_back(id);
    out.features.insert(out.features.end(), table.features.begin() + it->second * cols,
                        table.features.begin() + (it->second + 1) * cols);
    if (!table.labels.empty()) out.labels.push_back(table.labels[it->second]);
  }
  return out;
}

ColumnScaling FitScaling(std::span<const double> features, size_t cols) {
  ColumnScaling s;
  s.mean.assign(cols, 0.0);
  s.std.assign(cols, 0.0);
  const size_t rows = cols == 0 ? 0 : features.size() / cols;
  if (rows == 0) {
    s.std.assign(cols, 1.0);
    return s;
  }
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) s.mean[j] += features[i * cols + j];
  for (double& m : s.mean) m /= static_cast<double>(rows);
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) {
      const double d = features[i * cols + j] - s.mean[j];
      s.std[j] += d * d;
    }
  }
  for (double& v : s.std) {
    v = std::sqrt(v / static_cast<double>(rows));
    if (v == 0.0) v = 1.0;
  }
  return s;
}

void ApplyScaling(const ColumnScaling& scaling, std::span<double> features) {
  const size_t cols = scaling.mean.size();
  for (size_t i = 0; cols > 0 && i < features.size(); ++i) {
    features[i] = (features[i] - scaling.mean[i % cols]) / scaling.std[i % cols];
  }
}

}  // namespace colony::fl
