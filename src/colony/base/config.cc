#include "colony/base/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace colony {
namespace internal {
struct ConfigState {
  std::string source;
  YAML::Node root;
  std::set<std::string> used;  // Full key paths that were read (sections included).
  std::set<std::string> overridden;
};
}  // namespace internal

namespace {

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

// Walks a dotted path from the root; an undefined node if any part is missing.
// yaml-cpp nodes are handles: `a = b` would overwrite a's target, so walking uses reset().
YAML::Node Lookup(const YAML::Node& root, std::string_view path) {
  YAML::Node node;
  node.reset(root);
  if (path.empty()) return node;
  std::stringstream ss{std::string(path)};
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& current = node;
    YAML::Node child = current[part];
    // A missing key gives an invalid node, whose IsMap() and IsNull() throw: return a valid one.
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    node.reset(child);
  }
  return node;
}

// Bounds on the shape of a config, so that anchors and aliases cannot make the key walks below
// (Where, CheckAllKeysUsed, ToYaml) recurse without end or visit exponentially many nodes.
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxNodes = 100000;

const char* KindName(const YAML::Node& node) {
  if (node.IsMap()) return "mapping";
  if (node.IsSequence()) return "list";
  if (node.IsNull()) return "empty value";
  return "scalar";
}

// Checks that every mapping key is a plain scalar, appearing once in its mapping, and that the
// tree is not deeper than kMaxDepth nor larger than kMaxNodes (aliases counted each time they
// are reached). yaml-cpp accepts `? [a, b]\n: 1`, whose key would throw in every later read.
Status CheckShape(const YAML::Node& node, const std::string& source, int depth, int64_t* nodes) {
  auto where = [&](const YAML::Node& at) {
    return at.Mark().is_null() ? source : fmt::format("{}:{}", source, at.Mark().line + 1);
  };
  if (++*nodes > kMaxNodes) {
    return InvalidArgumentError(where(node) + ": the config has more than " +
                                std::to_string(kMaxNodes) +
                                " values (counting each use of an alias); simplify it");
  }
  if (depth > kMaxDepth) {
    return InvalidArgumentError(where(node) + ": values are nested more than " +
                                std::to_string(kMaxDepth) + " levels deep");
  }
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      COLONY_RETURN_IF_ERROR(CheckShape(item, source, depth + 1, nodes));
    }
  } else if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        return InvalidArgumentError(where(kv.first) + ": a key must be a plain name, got a " +
                                    KindName(kv.first) + " (a '?' complex key); write it as "
                                    "'name: value'");
      }
      if (kv.first.Scalar().find('.') != std::string::npos) {
        return InvalidArgumentError(where(kv.first) + ": key '" + kv.first.Scalar() +
                                    "' contains '.', which separates sections in key paths; "
                                    "nest it instead ('a:' then '  b: value' for a.b)");
      }
      if (!seen.insert(kv.first.Scalar()).second) {
        return InvalidArgumentError(where(kv.first) + ": key '" + kv.first.Scalar() +
                                    "' appears twice in the same mapping; keep one");
      }
      COLONY_RETURN_IF_ERROR(CheckShape(kv.second, source, depth + 1, nodes));
    }
  }
  return OkStatus();
}

// The 1-based line of the first byte that is not part of valid UTF-8 or is a control
// character YAML does not allow, or 0 when all are fine.
// YAML text is Unicode; yaml-cpp reads other bytes but writes them back as U+FFFD, so a
// config with them would not survive ToYaml (checkpoints) unchanged.
int InvalidUtf8Line(std::string_view text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    size_t extra = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      // YAML's printable set excludes the C0 controls but tab, LF and CR, and DEL: yaml-cpp
      // reads a NUL but cannot write it back.
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return line;
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000;
    } else {
      return line;
    }
    if (text.size() - i <= extra) return line;
    uint32_t code = c & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return line;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return line;
    i += extra + 1;
  }
  return 0;
}

template <typename T>
const char* TypeName();
template <>
const char* TypeName<bool>() {
  return "a boolean (true/false)";
}
template <>
const char* TypeName<int>() {
  return "an integer";
}
template <>
const char* TypeName<int64_t>() {
  return "an integer";
}
template <>
const char* TypeName<uint64_t>() {
  return "a non-negative integer";
}
template <>
const char* TypeName<float>() {
  return "a number";
}
template <>
const char* TypeName<double>() {
  return "a number";
}
template <>
const char* TypeName<std::string>() {
  return "a string";
}

}  // namespace

ConfigSection::ConfigSection(std::shared_ptr<internal::ConfigState> state, std::string path)
    : state_(std::move(state)), path_(std::move(path)) {}

std::string ConfigSection::FullKey(std::string_view key) const {
  return key.empty() ? path_ : Join(path_, key);
}

std::string ConfigSection::Where(std::string_view key) const {
  const std::string full = FullKey(key);
  if (state_->overridden.count(full)) return "--set " + full;
  // The line of the key itself: a mapping value's own mark is the line after its key.
  const std::string_view full_view = full;
  const size_t dot = full_view.rfind('.');
  const YAML::Node parent =
      Lookup(state_->root, dot == std::string_view::npos ? "" : full_view.substr(0, dot));
  const std::string_view leaf =
      dot == std::string_view::npos ? full_view : full_view.substr(dot + 1);
  int line = -1;
  if (parent.IsMap()) {
    for (const auto& kv : parent) {
      if (kv.first.Scalar() == leaf) line = kv.first.Mark().line;
    }
  }
  std::string where = state_->source;
  if (line >= 0) where += fmt::format(":{}", line + 1);
  return fmt::format("{}: key '{}'", where, full);
}

bool ConfigSection::Has(std::string_view key) const {
  YAML::Node node = Lookup(state_->root, FullKey(key));
  return node.IsDefined() && !node.IsNull();
}

ConfigSection ConfigSection::Section(std::string_view key) const {
  state_->used.insert(FullKey(key));
  return ConfigSection(state_, FullKey(key));
}

std::vector<std::string> ConfigSection::Keys() const {
  std::vector<std::string> keys;
  YAML::Node node = Lookup(state_->root, path_);
  if (!node.IsMap()) return keys;
  for (const auto& kv : node) keys.push_back(kv.first.Scalar());
  return keys;
}

namespace {
template <typename T>
Status ReadScalar(const ConfigSection& section, const internal::ConfigState& state,
                  const std::string& full, std::string_view key, T* out) {
  YAML::Node parent = Lookup(state.root, section.path());
  if (parent.IsDefined() && !parent.IsNull() && !parent.IsMap()) {
    return InvalidArgumentError(section.Where("") + " must be a mapping of keys");
  }
  YAML::Node node = Lookup(state.root, full);
  if (!node.IsDefined() || node.IsNull()) return OkStatus();
  if (!node.IsScalar()) {
    return InvalidArgumentError(section.Where(key) + " must be " + TypeName<T>() + ", got a " +
                                (node.IsMap() ? "mapping" : "list"));
  }
  try {
    T value = node.as<T>();
    if constexpr (std::is_same_v<T, uint64_t>) {
      if (!node.Scalar().empty() && node.Scalar()[0] == '-') throw YAML::BadConversion(node.Mark());
    }
    *out = value;
  } catch (const YAML::Exception&) {
    return InvalidArgumentError(section.Where(key) + " must be " + TypeName<T>() + ", got '" +
                                node.Scalar() + "'");
  }
  return OkStatus();
}

template <typename T>
Status ReadList(const ConfigSection& section, const internal::ConfigState& state,
                const std::string& full, std::string_view key, std::vector<T>* out) {
  YAML::Node node = Lookup(state.root, full);
  if (!node.IsDefined() || node.IsNull()) return OkStatus();
  if (!node.IsSequence()) {
    return InvalidArgumentError(section.Where(key) + " must be a list of " + TypeName<T>() + "s");
  }
  std::vector<T> values;
  for (size_t i = 0; i < node.size(); ++i) {
    try {
      values.push_back(node[i].as<T>());
    } catch (const YAML::Exception&) {
      return InvalidArgumentError(section.Where(key) + " item " + std::to_string(i) + " must be " +
                                  TypeName<T>());
    }
  }
  *out = std::move(values);
  return OkStatus();
}
}  // namespace

#define COLONY_CONFIG_READ(T, Reader)                              \
  Status ConfigSection::Read(std::string_view key, T* out) const { \
    const std::string full = FullKey(key);                         \
    state_->used.insert(full);                                     \
    return Reader(*this, *state_, full, key, out);                 \
  }
COLONY_CONFIG_READ(bool, ReadScalar)
COLONY_CONFIG_READ(int, ReadScalar)
COLONY_CONFIG_READ(int64_t, ReadScalar)
COLONY_CONFIG_READ(uint64_t, ReadScalar)
COLONY_CONFIG_READ(float, ReadScalar)
COLONY_CONFIG_READ(double, ReadScalar)
COLONY_CONFIG_READ(std::string, ReadScalar)
COLONY_CONFIG_READ(std::vector<int>, ReadList)
COLONY_CONFIG_READ(std::vector<int64_t>, ReadList)
COLONY_CONFIG_READ(std::vector<std::string>, ReadList)
#undef COLONY_CONFIG_READ

StatusOr<Config> Config::Load(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("config file '" + path + "' cannot be opened; check the path");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str(), path, overrides);
}

StatusOr<Config> Config::Parse(std::string_view text, std::string_view source_name,
                               const std::vector<std::string>& overrides) {
  auto state = std::make_shared<internal::ConfigState>();
  state->source = std::string(source_name);
  if (const int line = InvalidUtf8Line(text); line > 0) {
    return InvalidArgumentError(state->source + ":" + std::to_string(line) +
                                ": the text is not valid UTF-8 or has a control character; save the file as UTF-8 text");
  }
  try {
    state->root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // ParserException, and DeepRecursion for collections nested beyond yaml-cpp's limit.
    const std::string line = e.mark.is_null() ? "" : ":" + std::to_string(e.mark.line + 1);
    return InvalidArgumentError(state->source + line + ": invalid YAML: " + e.msg);
  }
  if (state->root.IsNull()) state->root = YAML::Node(YAML::NodeType::Map);
  if (!state->root.IsMap()) {
    return InvalidArgumentError(state->source + ": the top level must be a mapping of keys");
  }
  int64_t nodes = 0;
  COLONY_RETURN_IF_ERROR(CheckShape(state->root, state->source, 0, &nodes));
  for (const std::string& item : overrides) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError("--set '" + item + "' must have the form key.path=value");
    }
    const std::string key = item.substr(0, eq);
    if (InvalidUtf8Line(item) > 0) {
      return InvalidArgumentError("--set " + key + ": the value is not valid UTF-8 or has a control character");
    }
    YAML::Node value;
    try {
      value = YAML::Load(item.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError("--set '" + item + "': value is not valid YAML: " + e.msg);
    }
    nodes = 0;
    COLONY_RETURN_IF_ERROR(CheckShape(value, "--set '" + item + "'", 0, &nodes));
    // Walk and create the path; yaml-cpp nodes are handles, so assignment edits the tree.
    std::vector<std::string> parts;
    std::stringstream ss(key);
    std::string part;
    while (std::getline(ss, part, '.')) parts.push_back(part);
    YAML::Node node;
    node.reset(state->root);
    std::string walked;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      walked = Join(walked, parts[i]);
      YAML::Node child = node[parts[i]];
      if (!child.IsDefined() || child.IsNull()) {
        node[parts[i]] = YAML::Node(YAML::NodeType::Map);
        child.reset(node[parts[i]]);
      } else if (!child.IsMap()) {
        return InvalidArgumentError("--set '" + item + "': '" + walked + "' is not a mapping");
      }
      node.reset(child);
    }
    node[parts.back()] = value;
    state->overridden.insert(key);
  }
  return Config(state);
}

ConfigSection Config::Root() const { return ConfigSection(state_, ""); }

const std::string& Config::source() const { return state_->source; }

namespace {
Status CheckUsed(const internal::ConfigState& state, const YAML::Node& node,
                 const std::string& path, const ConfigSection& root) {
  if (!node.IsMap()) return OkStatus();
  for (const auto& kv : node) {
    const std::string key = Join(path, kv.first.Scalar());
    if (!state.used.count(key)) {
      return InvalidArgumentError(root.Where(key) +
                                  " is not a known setting; check its spelling and section");
    }
    COLONY_RETURN_IF_ERROR(CheckUsed(state, kv.second, key, root));
  }
  return OkStatus();
}
}  // namespace

Status Config::CheckAllKeysUsed() const { return CheckUsed(*state_, state_->root, "", Root()); }

std::string Config::ToYaml() const {
  YAML::Emitter out;
  out << state_->root;
  return out.c_str();
}

}  // namespace colony
