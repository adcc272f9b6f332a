// Runs the real `colony` binary (COLONY_BINARY) from integration tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "colony/base/file_util.h"
#include "testing/run_command.h"

namespace colony {

using Result = ::colony::testing::CommandResult;

inline Result RunColony(const std::string& args) {
  return ::colony::testing::RunCommand(std::string(COLONY_BINARY) + " " + args);
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
