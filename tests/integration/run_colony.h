// Runs the real `colony` binary (COLONY_BINARY) from integration tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "colony/base/file_util.h"

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

// Starts `colony ARGS` with output to `log`; returns its pid.
inline pid_t Spawn(const std::string& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command =
        "exec " + std::string(COLONY_BINARY) + " " + args + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits (up to `seconds`) until the file `log` contains `text`; returns the log.
inline std::string WaitForLog(const std::string& log, const std::string& text, int seconds = 60) {
  std::string content;
  for (int i = 0; i < seconds * 20; ++i) {
    content = ReadFile(log).value_or("");
    if (content.find(text) != std::string::npos) break;
    usleep(50 * 1000);
  }
  return content;
}

}  // namespace colony
