// JSON in colony is nlohmann-json, for every file written or read. This header adds what is
// ours: the convention for metrics that are not finite, and parsing, reading and writing with
// a Status that names the file.
//   nlohmann::json summary;
//   summary["steps"] = steps;
//   SetMetric(summary, "test_auc", auc);  // NaN: "test_auc": null, "non_finite": ["test_auc"]
//   COLONY_RETURN_IF_ERROR(WriteJsonFile(path, summary));
//   COLONY_ASSIGN_OR_RETURN(nlohmann::json truth, ReadJsonFile(dir + "/truth.json"));
//
// A NaN or infinity has no JSON form: a metric that is not finite is written as null, and the
// object holding it lists its key under "non_finite", so a reader can tell a diverged run
// (null, listed) from a metric that was never computed (absent). Summaries are objects of
// nlohmann::json, so their keys are written in sorted order.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony {

// The member of an object that lists the keys of its non-finite metrics.
inline constexpr char kNonFiniteKey[] = "non_finite";

// object[key] = value when it is finite; otherwise object[key] = null and `key` is appended
// (once) to object["non_finite"]. REQUIRES: `object` is an object or null.
void SetMetric(nlohmann::json& object, std::string_view key, double value);
// The same for a list of values: object[key] is an array with null for each non-finite entry,
// and `key` is listed in object["non_finite"] when any entry is not finite.
void SetMetrics(nlohmann::json& object, std::string_view key, std::span<const double> values);
// A metric as SetMetric wrote it: the number, or NaN for null. Throws nlohmann::json's
// type_error for anything else (call it inside the reader's try).
double MetricValue(const nlohmann::json& value);

// Parses one JSON document; InvalidArgument naming `source` and the parser's byte offset.
StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view source);
// Reads and parses the file at `path`: NotFound when it cannot be read, InvalidArgument
// naming the path when it is not JSON.
StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);
// Writes `value` indented by two spaces, with a final newline, atomically (WriteFileAtomic);
// invalid UTF-8 in a string is written as U+FFFD.
Status WriteJsonFile(const std::string& path, const nlohmann::json& value);

}  // namespace colony
