#include "colony/base/json_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"

namespace colony {
namespace {

void MarkNonFinite(nlohmann::json& object, std::string_view key) {
  nlohmann::json& list = object[kNonFiniteKey];
  if (std::find(list.begin(), list.end(), key) == list.end()) list.push_back(key);
}

}  // namespace

void SetMetric(nlohmann::json& object, std::string_view key, double value) {
  const std::string name(key);
  if (std::isfinite(value)) {
    object[name] = value;
    return;
  }
  object[name] = nullptr;
  MarkNonFinite(object, key);
}

void SetMetrics(nlohmann::json& object, std::string_view key, std::span<const double> values) {
  nlohmann::json list = nlohmann::json::array();
  bool all_finite = true;
  for (double v : values) {
    all_finite = all_finite && std::isfinite(v);
    list.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
  }
  object[std::string(key)] = std::move(list);
  if (!all_finite) MarkNonFinite(object, key);
}

double MetricValue(const nlohmann::json& value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgumentError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
}

StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

Status WriteJsonFile(const std::string& path, const nlohmann::json& value) {
  // `replace`: a string with invalid UTF-8 (say, a quoted bad data line) is written with
  // U+FFFD in place of the bad bytes instead of failing the whole file.
  return WriteFileAtomic(
      path, value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace colony
