// Runs a shell command as a user would and returns its exit code and output, for tests that
// drive the real `colony` binary.
//   const CommandResult r = RunCommand(std::string(COLONY_BINARY) + " fl vertical --role c");
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace colony::testing {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together.
};

inline CommandResult RunCommand(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace colony::testing
