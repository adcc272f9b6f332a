// Reading numbers out of the summaries colony writes, for tests: parsed with base/json.h, so a
// key is found as a key, not as text.
//   EXPECT_EQ(JsonNumber(summary, "samples"), 600);
//   EXPECT_EQ(JsonNumbersAnywhere(summary, "test_samples"), (std::vector<double>{600, 0}));
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "colony/base/json.h"

namespace colony::testing {

// `json` parsed; a parse error fails the test (and gives null).
inline JsonValue ParseJsonOrFail(const std::string& json) {
  StatusOr<JsonValue> parsed = ParseJson(json, "the test's JSON");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *std::move(parsed) : JsonValue::Null();
}

// The number `key` of the top-level object; -1 (and a test failure) when there is none.
inline double JsonNumber(const std::string& json, const std::string& key) {
  const JsonValue root = ParseJsonOrFail(json);
  const JsonValue* value = root.Find(key);
  EXPECT_TRUE(value != nullptr && value->type() == JsonValue::Type::kNumber) << key;
  return value != nullptr && value->type() == JsonValue::Type::kNumber ? value->AsNumber() : -1;
}

// Every number named `key` at any depth of `value`, in document order.
inline void CollectNumbers(const JsonValue& value, const std::string& key,
                           std::vector<double>* out) {
  for (const auto& [name, member] : value.members()) {
    if (name == key && member.type() == JsonValue::Type::kNumber) out->push_back(member.AsNumber());
    CollectNumbers(member, key, out);
  }
  for (const JsonValue& item : value.items()) CollectNumbers(item, key, out);
}

inline std::vector<double> JsonNumbersAnywhere(const JsonValue& value, const std::string& key) {
  std::vector<double> out;
  CollectNumbers(value, key, &out);
  return out;
}

inline std::vector<double> JsonNumbersAnywhere(const std::string& json, const std::string& key) {
  return JsonNumbersAnywhere(ParseJsonOrFail(json), key);
}

}  // namespace colony::testing
