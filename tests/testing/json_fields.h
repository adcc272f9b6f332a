// Reading the JSON colony writes, for tests: parsed with nlohmann-json (the library colony
// writes it with), so a key is found as a key, not as text.
//   EXPECT_EQ(JsonNumber(summary, "samples"), 600);
//   EXPECT_EQ(JsonNumbersAnywhere(summary, "test_samples"), (std::vector<double>{600, 0}));
//   nlohmann::json job = ParseJsonOrFail(text);  // Then job["workers"], job.at("tasks"), ...
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace colony::testing {

// `json` parsed; a parse error fails the test (and gives null).
inline nlohmann::json ParseJsonOrFail(const std::string& json) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "not valid JSON:\n" << json;
  return parsed.is_discarded() ? nlohmann::json() : parsed;
}

// The number `key` of the top-level object; -1 (and a test failure) when there is none.
inline double JsonNumber(const nlohmann::json& root, const std::string& key) {
  const bool found = root.is_object() && root.contains(key) && root[key].is_number();
  EXPECT_TRUE(found) << "no number \"" << key << "\" in " << root.dump();
  return found ? root[key].get<double>() : -1;
}

inline double JsonNumber(const std::string& json, const std::string& key) {
  return JsonNumber(ParseJsonOrFail(json), key);
}

// Every number named `key` at any depth of `value`, in document order (an object's members
// in sorted key order, as nlohmann-json keeps them).
inline void CollectNumbers(const nlohmann::json& value, const std::string& key,
                           std::vector<double>* out) {
  if (value.is_object()) {
    for (const auto& [name, member] : value.items()) {
      if (name == key && member.is_number()) out->push_back(member.get<double>());
      CollectNumbers(member, key, out);
    }
  } else if (value.is_array()) {
    for (const nlohmann::json& item : value) CollectNumbers(item, key, out);
  }
}

inline std::vector<double> JsonNumbersAnywhere(const nlohmann::json& value,
                                               const std::string& key) {
  std::vector<double> out;
  CollectNumbers(value, key, &out);
  return out;
}

inline std::vector<double> JsonNumbersAnywhere(const std::string& json, const std::string& key) {
  return JsonNumbersAnywhere(ParseJsonOrFail(json), key);
}

}  // namespace colony::testing
