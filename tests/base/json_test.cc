#include "colony/base/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace colony {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(JsonTest, ParsesAndWritesASummaryUnchanged) {
  const std::string text =
      "{\"samples_per_sec\": 13.250, \"test_auc\": 0.897000, \"first_bad_lines\": [\"f:3: "
      "bad \\\"x\\\"\"], \"tasks\": {\"0\": {\"test_mse\": 1e-3}}, \"ok\": true, \"none\": null, "
      "\"steps\": -5}";
  COLONY_ASSERT_OK_AND_ASSIGN(JsonValue v, ParseJson(text, "s.json"));
  ASSERT_EQ(v.type(), JsonValue::Type::kObject);
  EXPECT_EQ(v.ToString(), text);  // Number texts and member order are kept.
  EXPECT_DOUBLE_EQ(v.Find("test_auc")->AsNumber(), 0.897);
  EXPECT_EQ(v.Find("first_bad_lines")->items().at(0).AsString(), "f:3: bad \"x\"");
  EXPECT_DOUBLE_EQ(v.Find("tasks")->Find("0")->Find("test_mse")->AsNumber(), 0.001);
  EXPECT_TRUE(v.Find("ok")->AsBool());
  EXPECT_EQ(v.Find("none")->type(), JsonValue::Type::kNull);
  EXPECT_DOUBLE_EQ(v.Find("steps")->AsNumber(), -5);
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(JsonTest, SetReplacesInPlaceOrAppends) {
  COLONY_ASSERT_OK_AND_ASSIGN(JsonValue v, ParseJson(" {\"a\": 1, \"b\": [] }\n", "s.json"));
  v.Set("a", JsonValue::Number(3600));
  v.Set("c", JsonValue::NumberText("0.250"));
  JsonValue list = JsonValue::Array();
  list.Append(JsonValue::String("tab\there"));
  list.Append(JsonValue::Number(0.5));
  v.Set("b", std::move(list));
  EXPECT_EQ(v.ToString(), "{\"a\": 3600, \"b\": [\"tab\\there\", 0.5], \"c\": 0.250}");
}

TEST(JsonTest, BadInputNamesTheSourceAndOffset) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "s.json: offset 0: expected a value, got the end"},
      {"{\"a\" 1}", "s.json: offset 5: expected ':' after key 'a'"},
      {"{\"a\": 1,}", "offset 8: expected a key in quotes"},
      {"[1 2]", "offset 3: expected ',' or ']' in an array"},
      {"{\"a\": tru}", "offset 6: expected a value"},
      {"\"open", "unterminated string"},
      {"\"\\q\"", "bad escape '\\q'"},
      {"1.", "offset 0: expected a value"},
      {"{} x", "offset 3: unexpected text after the value"},
      {std::string(100, '['), "nested deeper than 64 levels"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_THAT(ParseJson(text, "s.json"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)))
        << text;
  }
}

}  // namespace
}  // namespace colony
