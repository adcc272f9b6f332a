// Helpers shared by the federated tests: temp files and the sklearn data folder.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace colony::fl::testing {

// Writes `text` to a fresh file under the test temp dir and returns its path.
inline std::string WriteTemp(const std::string& name, const std::string& text) {
  // ctest may run cases of this binary at once, each in its own process: one name per pid.
  const std::string path =
      ::testing::TempDir() + "/colony_fl_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace colony::fl::testing
