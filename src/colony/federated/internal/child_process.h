// A node of a simulation (a party or child started from the colony binary) as a child process
// whose stdout and stderr a thread copies to ours, each line prefixed with "[name] ".
// Private to federated.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl::internal {

class Child {
 public:
  // `what` names the node in messages ("party b", "child 2"). NotFound when argv[0] cannot run.
  static StatusOr<std::unique_ptr<Child>> Spawn(const std::string& name, const std::string& what,
                                                const std::vector<std::string>& argv);
  ~Child();  // Kills the process if it still runs.

  // The first output line that starts with `prefix`, without it; Unavailable when the child
  // ends first, DeadlineExceeded when `seconds` pass first.
  StatusOr<std::string> AwaitLine(const std::string& prefix, double seconds);
  // The exit status (0 = success); kills the child after `seconds` (DeadlineExceeded).
  StatusOr<int> Wait(double seconds);

 private:
  Child(std::string name, std::string what, pid_t pid, int fd)
      : name_(std::move(name)), what_(std::move(what)), pid_(pid), fd_(fd) {}
  void Copy();

  std::string name_;
  std::string what_;
  pid_t pid_;
  int fd_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

}  // namespace colony::fl::internal
