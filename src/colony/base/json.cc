#include "colony/base/json.h"

#include <fmt/format.h>

#include <cstdlib>

namespace colony {

JsonValue JsonValue::Bool(bool value) {
  JsonValue v(Type::kBool);
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::Number(double value) { return NumberText(fmt::format("{}", value)); }

JsonValue JsonValue::NumberText(std::string text) {
  JsonValue v(Type::kNumber);
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::String(std::string value) {
  JsonValue v(Type::kString);
  v.text_ = std::move(value);
  return v;
}

double JsonValue::AsNumber() const {
  return type_ == Type::kNumber ? std::strtod(text_.c_str(), nullptr) : 0.0;
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

void JsonValue::Set(const std::string& key, JsonValue value) {
  for (auto& [name, old] : members_) {
    if (name == key) {
      old = std::move(value);
      return;
    }
  }
  members_.emplace_back(key, std::move(value));
}

void JsonValue::Append(JsonValue value) { items_.push_back(std::move(value)); }

namespace {

void WriteString(const std::string& s, std::string& out) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

void JsonValue::Write(std::string& out) const {
  switch (type_) {
    case Type::kNull:
      out += "null";
      break;
    case Type::kBool:
      out += bool_ ? "true" : "false";
      break;
    case Type::kNumber:
      out += text_;
      break;
    case Type::kString:
      WriteString(text_, out);
      break;
    case Type::kArray:
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out += ", ";
        items_[i].Write(out);
      }
      out += ']';
      break;
    case Type::kObject:
      out += '{';
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out += ", ";
        WriteString(members_[i].first, out);
        out += ": ";
        members_[i].second.Write(out);
      }
      out += '}';
      break;
  }
}

std::string JsonValue::ToString() const {
  std::string out;
  Write(out);
  return out;
}

namespace {

// A recursive-descent reader over `text`; `depth` bounds nesting so bad input cannot
// exhaust the stack.
class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  StatusOr<JsonValue> ParseDocument() {
    COLONY_ASSIGN_OR_RETURN(JsonValue value, ParseValue(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the value");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 64;

  Status Error(const std::string& what) const {
    return InvalidArgumentError(fmt::format("{}: offset {}: {}", source_, pos_, what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  StatusOr<JsonValue> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error("nested deeper than 64 levels");
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value, got the end");
    const char c = text_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      COLONY_ASSIGN_OR_RETURN(std::string s, ParseString());
      return JsonValue::String(std::move(s));
    }
    if (Consume("true")) return JsonValue::Bool(true);
    if (Consume("false")) return JsonValue::Bool(false);
    if (Consume("null")) return JsonValue::Null();
    return ParseNumber();
  }

  StatusOr<JsonValue> ParseNumber() {
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    bool ok = digits();
    if (ok && pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      ok = digits();
    }
    if (ok && pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      ok = digits();
    }
    if (!ok) {
      pos_ = start;
      return Error("expected a value (object, array, string, number, true, false or null)");
    }
    return JsonValue::NumberText(std::string(text_.substr(start, pos_ - start)));
  }

  StatusOr<std::string> ParseString() {
    ++pos_;  // The opening quote.
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      c = text_[pos_++];
      switch (c) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return Error("short \\u escape");
          const std::string hex(text_.substr(pos_, 4));
          char* end = nullptr;
          const long code = std::strtol(hex.c_str(), &end, 16);
          if (end != hex.c_str() + 4) return Error("bad \\u escape");
          pos_ += 4;
          if (code >= 0x80) return Error("\\u escape beyond ASCII is not supported");
          s += static_cast<char>(code);
          break;
        }
        default:
          --pos_;
          return Error(fmt::format("bad escape '\\{}'", c));
      }
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    ++pos_;  // The closing quote.
    return s;
  }

  StatusOr<JsonValue> ParseArray(int depth) {
    ++pos_;
    JsonValue array = JsonValue::Array();
    SkipSpace();
    if (Consume("]")) return array;
    while (true) {
      COLONY_ASSIGN_OR_RETURN(JsonValue item, ParseValue(depth + 1));
      array.Append(std::move(item));
      SkipSpace();
      if (Consume("]")) return array;
      if (!Consume(",")) return Error("expected ',' or ']' in an array");
    }
  }

  StatusOr<JsonValue> ParseObject(int depth) {
    ++pos_;
    JsonValue object = JsonValue::Object();
    SkipSpace();
    if (Consume("}")) return object;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key in quotes");
      COLONY_ASSIGN_OR_RETURN(std::string key, ParseString());
      SkipSpace();
      if (!Consume(":")) return Error("expected ':' after key '" + key + "'");
      COLONY_ASSIGN_OR_RETURN(JsonValue value, ParseValue(depth + 1));
      object.Set(key, std::move(value));
      SkipSpace();
      if (Consume("}")) return object;
      if (!Consume(",")) return Error("expected ',' or '}' in an object");
    }
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<JsonValue> ParseJson(std::string_view text, const std::string& source) {
  return Parser(text, source).ParseDocument();
}

}  // namespace colony
