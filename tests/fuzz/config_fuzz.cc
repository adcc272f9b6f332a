// Fuzzes the YAML job-config reader (colony/base/config.h), which every layer's config goes
// through. The input is the file; text after a NUL byte is one `--set` override. Properties:
// Parse never throws or crashes; on success every key can be walked and read as every type
// (errors allowed, exceptions not), the unknown-key check and ToYaml work, and ToYaml's text
// parses again to a config with the same keys.
#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/config.h"
#include "fuzz/fuzz_util.h"

namespace colony::fuzz {
namespace {

// Reads every key below `section` as each type, depth-first; returns the keys seen.
int64_t Walk(const ConfigSection& section, int depth) {
  int64_t keys = 0;
  for (const std::string& key : section.Keys()) {
    ++keys;
    bool b;
    int i;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    std::string s;
    std::vector<int> vi;
    std::vector<int64_t> vi64;
    std::vector<std::string> vs;
    section.Read(key, &b).IgnoreError();  // Wrong types are errors; only a crash is a bug.
    section.Read(key, &i).IgnoreError();
    section.Read(key, &i64).IgnoreError();
    section.Read(key, &u64).IgnoreError();
    section.Read(key, &f).IgnoreError();
    section.Read(key, &d).IgnoreError();
    section.Read(key, &s).IgnoreError();
    section.Read(key, &vi).IgnoreError();
    section.Read(key, &vi64).IgnoreError();
    section.Read(key, &vs).IgnoreError();
    FUZZ_CHECK(!section.Where(key).empty());
    section.Has(key);
    if (depth < 8) keys += Walk(section.Section(key), depth + 1);
  }
  return keys;
}

}  // namespace
}  // namespace colony::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony;
  using namespace colony::fuzz;
  const std::string_view input = AsText(data, size);
  const size_t nul = input.find('\0');
  std::vector<std::string> overrides;
  if (nul != std::string_view::npos) overrides.emplace_back(input.substr(nul + 1));
  StatusOr<Config> config = Config::Parse(input.substr(0, nul), "fuzz.yaml", overrides);
  if (!config.ok()) {
    FUZZ_CHECK_STATUS(config.status().code() == StatusCode::kInvalidArgument, config.status());
    return 0;
  }
  config->CheckAllKeysUsed().IgnoreError();  // Some keys may sit deeper than Walk goes.
  const int64_t keys = Walk(config->Root(), 0);
  // Every key was read (up to depth 8), so a shallow config has no unknown key left.
  if (keys < 1000) config->CheckAllKeysUsed().IgnoreError();
  const std::string yaml = config->ToYaml();
  StatusOr<Config> again = Config::Parse(yaml, "again.yaml");
  FUZZ_CHECK_STATUS(again.ok(), again.status());
  FUZZ_CHECK(again->Root().Keys() == config->Root().Keys());
  return 0;
}
