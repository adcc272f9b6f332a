// What one party of a vertical federated job holds: sample ids, its own feature columns and,
// for the label holder (party A), the label. Loaded from the sklearn data files Debian ships
// in python3-sklearn (one file split into columns by the config) or from a party's own CSV.
//   COLONY_ASSIGN_OR_RETURN(PartyTable a, LoadPartyTable(options.party_a_data));
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl {

// Where the sklearn data files live when python3-sklearn is installed from Debian.
inline constexpr char kDefaultSklearnDir[] = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

struct PartyDataOptions {
  // "sklearn_diabetes" (442 x 10, regression target), "sklearn_breast_cancer" (569 x 30,
  // label 1 = benign) or "csv". Required.
  std::string format;
  // sklearn formats: the folder holding the data files. Default: kDefaultSklearnDir.
  std::string dir = kDefaultSklearnDir;
  // sklearn formats: 0-based indices of the columns this party holds. Sample ids are the
  // row numbers. Required, non-empty.
  std::vector<int> columns;
  // csv format: this party's file; a header row, a column named "id" (unsigned integers),
  // then numeric columns. Required for csv.
  std::string file;
  // Whether this party holds the label (party A). sklearn: the target; csv: `label_column`.
  bool with_label = false;
  std::string label_column = "label";  // csv only. Default: "label".
};

struct PartyTable {
  std::vector<uint64_t> ids;
  std::vector<std::string> feature_names;
  std::vector<double> features;  // Row-major: ids.size() x feature_names.size().
  std::vector<double> labels;    // Empty unless with_label.
  int64_t skipped_lines = 0;     // Malformed data lines (counted and left out).
  std::string skipped_example;   // "file:line: why" of the first skipped line.

  size_t rows() const { return ids.size(); }
  size_t cols() const { return feature_names.size(); }
};

// InvalidArgument for bad options (unknown format, column out of range, duplicate column);
// NotFound for a missing file (says which package ships it); FailedPrecondition when no data
// line parses, or for duplicate ids. Malformed lines are counted in skipped_lines.
StatusOr<PartyTable> LoadPartyTable(const PartyDataOptions& options);

// The rows of `table` whose ids are `ids`, in that order. NotFound naming the first id the
// table lacks.
StatusOr<PartyTable> SelectRows(const PartyTable& table, std::span<const uint64_t> ids);

// Column means and standard deviations of a row-major matrix (a constant column gets std 1),
// and the matrix standardized in place with them.
struct ColumnScaling {
  std::vector<double> mean, std;
};
ColumnScaling FitScaling(std::span<const double> features, size_t cols);
void ApplyScaling(const ColumnScaling& scaling, std::span<double> features);

}  // namespace colony::fl
