// Runs the real `colony` binary (COLONY_BINARY) for integration tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace colony {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr together.
};

inline Result RunColony(const std::string& args) {
  const std::string command = std::string(COLONY_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace colony
