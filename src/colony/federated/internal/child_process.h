// A node of a simulation (a party or child started from the colony binary) as a child process
// (cluster::ChildProcess) whose output lines are copied to our stdout prefixed with "[name] "
// and kept, so that the simulation can wait for a line such as the port a node listens on.
// Private to federated.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/cluster/child_process.h"

namespace colony::fl::internal {

class Child {
 public:
  // `what` names the node in messages ("party b", "child 2"). NotFound when argv[0] cannot run.
  static StatusOr<std::unique_ptr<Child>> Spawn(const std::string& name, const std::string& what,
                                                const std::vector<std::string>& argv);

  // The first output line that starts with `prefix`, without it; Unavailable when the child
  // ends first, DeadlineExceeded when `seconds` pass first.
  StatusOr<std::string> AwaitLine(const std::string& prefix, double seconds);
  // The exit status (0 = success); kills the child after `seconds` (DeadlineExceeded).
  StatusOr<int> Wait(double seconds);

 private:
  Child(std::string name, std::string what) : name_(std::move(name)), what_(std::move(what)) {}
  // The line after `prefix` if one arrived. REQUIRES: mu_ held.
  bool FindLine(const std::string& prefix, std::string* rest) const;

  const std::string name_;
  const std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  // Last: destroyed (killed and its reader joined) before the members its reader uses.
  std::unique_ptr<cluster::ChildProcess> process_;
};

}  // namespace colony::fl::internal
