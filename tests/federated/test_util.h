// Helpers shared by the federated tests: temp files and the sklearn data folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "colony/federated/horizontal.h"
#include "testing/status_matchers.h"

namespace colony::fl::testing {

// Writes `text` to a fresh file under the test temp dir and returns its path.
inline std::string WriteTemp(const std::string& name, const std::string& text) {
  // ctest may run cases of this binary at once, each in its own process: one name per pid.
  const std::string path =
      ::testing::TempDir() + "/colony_fl_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

// The horizontal job in `yaml`, written to the temp file `name`, with `overrides`; a load error
// fails the test (and returns the defaults).
inline HorizontalConfig LoadHorizontal(const std::string& name, const std::string& yaml,
                                       const std::vector<std::string>& overrides = {}) {
  StatusOr<HorizontalConfig> config = LoadHorizontalConfig(WriteTemp(name, yaml), overrides);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : HorizontalConfig();
}

// A config override and a substring of the InvalidArgument message it must cause.
struct ConfigErrorCase {
  std::string override, message;
};

// Loads the horizontal job at `path` once per case, with that case's override, and expects
// InvalidArgument naming its message.
inline void ExpectHorizontalConfigErrors(const std::string& path,
                                         const std::vector<ConfigErrorCase>& cases) {
  for (const ConfigErrorCase& c : cases) {
    EXPECT_THAT(
        LoadHorizontalConfig(path, {c.override}).status(),
        ::colony::testing::StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr(c.message)))
        << c.override;
  }
}

// Starts `k` in-process children (each its own gRPC server on a free port of 127.0.0.1, with
// `child_config` or else `config`) and runs the master with `config`.
inline StatusOr<MasterResult> RunHorizontalSession(const HorizontalConfig& config, int k,
                                                   const HorizontalConfig* child_config = nullptr,
                                                   MessageObserver observer = nullptr) {
  std::vector<std::unique_ptr<HorizontalChild>> children;
  MasterOptions options;
  options.quiet = true;
  for (int i = 0; i < k; ++i) {
    COLONY_ASSIGN_OR_RETURN(
        std::unique_ptr<HorizontalChild> child,
        HorizontalChild::Start(
            child_config ? *child_config : config,
            {.index = i, .children = k, .address = "127.0.0.1:0", .observer = observer}));
    options.children.push_back("127.0.0.1:" + std::to_string(child->port()));
    children.push_back(std::move(child));
  }
  return RunHorizontalMaster(config, options);
}

}  // namespace colony::fl::testing
