// JSON values for the summaries colony writes and reads back (`colony launch` merges its
// workers'): parse, look up, change, write. Numbers keep their text, so a value parsed and
// written again reads the same; output separates with ", " and ": " like the summaries.
//   COLONY_ASSIGN_OR_RETURN(JsonValue summary, ParseJson(text, "worker-0.json"));
//   const JsonValue* auc = summary.Find("test_auc");
//   summary.Set("workers", JsonValue::Number(2));
//   std::string out = summary.ToString();
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "colony/base/status.h"

namespace colony {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  static JsonValue Null() { return JsonValue(Type::kNull); }
  static JsonValue Bool(bool value);
  // Written as fmt's shortest form of `value` ("3600", "0.25").
  static JsonValue Number(double value);
  // A number written exactly as `text` (e.g. fmt::format("{:.3f}", seconds)); the caller
  // passes a valid JSON number.
  static JsonValue NumberText(std::string text);
  static JsonValue String(std::string value);
  static JsonValue Array() { return JsonValue(Type::kArray); }
  static JsonValue Object() { return JsonValue(Type::kObject); }

  Type type() const { return type_; }
  bool AsBool() const { return bool_; }
  double AsNumber() const;  // 0 unless a number.
  const std::string& AsString() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }  // An array's.
  // An object's members, in document (or insertion) order.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

  // An object's member, or nullptr when absent (or not an object).
  const JsonValue* Find(std::string_view key) const;
  // Replaces the member `key` in place, or appends it. Object only.
  void Set(const std::string& key, JsonValue value);
  void Append(JsonValue value);  // Array only.

  std::string ToString() const;

 private:
  explicit JsonValue(Type type) : type_(type) {}
  void Write(std::string& out) const;

  Type type_;
  bool bool_ = false;
  std::string text_;  // A number's text or a string's value.
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// Parses one JSON value (surrounding whitespace allowed). InvalidArgument naming `source`
// and the byte offset of the first error.
StatusOr<JsonValue> ParseJson(std::string_view text, const std::string& source);

}  // namespace colony
