// Typed, checked access to a YAML job config. Every key a layer reads is marked; keys nobody
// read are reported as unknown, with file and line, so a typo never passes silently.
//   COLONY_ASSIGN_OR_RETURN(Config config, Config::Load("job.yaml", {"train.epochs=2"}));
//   ConfigSection train = config.Root().Section("train");
//   COLONY_RETURN_IF_ERROR(train.Read("epochs", &options.epochs));
//   COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"

namespace colony {

namespace internal {
struct ConfigState;
}

// One mapping in the config (the root or a nested section). Cheap to copy; reads mark keys
// as used in the owning Config. Not thread-safe.
class ConfigSection {
 public:
  // Path of this section from the root, e.g. "data" or "" for the root.
  const std::string& path() const { return path_; }
  bool Has(std::string_view key) const;
  // A nested section; a missing key yields an empty section (all reads keep defaults).
  // A key that holds something other than a mapping is reported by the reads.
  ConfigSection Section(std::string_view key) const;
  // Each Read leaves *out unchanged when the key is absent. A present key of the wrong type is
  // InvalidArgument naming file, line and the full key path.
  Status Read(std::string_view key, bool* out) const;
  Status Read(std::string_view key, int* out) const;
  Status Read(std::string_view key, int64_t* out) const;
  Status Read(std::string_view key, uint64_t* out) const;
  Status Read(std::string_view key, float* out) const;
  Status Read(std::string_view key, double* out) const;
  Status Read(std::string_view key, std::string* out) const;
  Status Read(std::string_view key, std::vector<int>* out) const;
  Status Read(std::string_view key, std::vector<int64_t>* out) const;
  Status Read(std::string_view key, std::vector<std::string>* out) const;
  // Keys of this mapping, in file order.
  std::vector<std::string> Keys() const;
  // "file:line: key 'a.b'" for messages about a value that parsed but is not allowed.
  std::string Where(std::string_view key) const;

 private:
  friend class Config;
  ConfigSection(std::shared_ptr<internal::ConfigState> state, std::string path);
  std::string FullKey(std::string_view key) const;

  std::shared_ptr<internal::ConfigState> state_;
  std::string path_;
};

class Config {
 public:
  // Loads `path` and applies `overrides` ("a.b=value", value parsed as YAML). NotFound for a
  // missing file, InvalidArgument for bad YAML or a malformed override.
  static StatusOr<Config> Load(const std::string& path,
                               const std::vector<std::string>& overrides = {});
  // Same, from text; `source_name` stands for the file in messages.
  static StatusOr<Config> Parse(std::string_view text, std::string_view source_name,
                                const std::vector<std::string>& overrides = {});

  ConfigSection Root() const;
  // The file name (or source name) the config came from.
  const std::string& source() const;
  // InvalidArgument naming the first key no Read or Section touched, with file and line.
  Status CheckAllKeysUsed() const;
  // The config as YAML text (after overrides), for checkpoints and logs.
  std::string ToYaml() const;

 private:
  explicit Config(std::shared_ptr<internal::ConfigState> state) : state_(std::move(state)) {}
  std::shared_ptr<internal::ConfigState> state_;
};

}  // namespace colony
