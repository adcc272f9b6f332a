// A child process whose output (stdout and stderr together) is read line by line by a
// thread of this process, e.g. to print it with a role prefix.
//   COLONY_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(
//       {.name = "server 0", .argv = {binary, "serve", "--role", "pserver"}}, print_line));
//   child->Terminate();                         // SIGTERM
//   COLONY_ASSIGN_OR_RETURN(int code, child->Wait());
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "colony/base/status.h"

namespace colony::cluster {

struct ChildSpec {
  std::string name;                                      // For messages: "worker 1".
  std::vector<std::string> argv;                         // argv[0] is the executable's path.
  std::vector<std::pair<std::string, std::string>> env;  // Added to this process's environment.
};

// Called from the child's reader thread with each line of its output (no newline).
using LineSink = std::function<void(const std::string& name, const std::string& line)>;

// Thread-safe. The destructor kills a child that is still running and reaps it.
class ChildProcess {
 public:
  // NotFound when argv[0] cannot be executed, Internal when fork or pipe fail.
  static StatusOr<std::unique_ptr<ChildProcess>> Spawn(const ChildSpec& spec, LineSink sink);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  // The exit code once the child has ended (128 + signal when a signal ended it), or nullopt
  // while it runs. Does not block.
  std::optional<int> Poll();
  // Blocks until the child ends and its output is read; returns its exit code as Poll does.
  StatusOr<int> Wait();
  void Terminate();  // SIGTERM.
  void Kill();       // SIGKILL.

 private:
  ChildProcess(std::string name, pid_t pid, int output_fd, LineSink sink);
  void ReadLines(int fd);

  const std::string name_;
  const pid_t pid_;
  std::mutex mu_;
  std::optional<int> exit_code_;
  LineSink sink_;
  std::thread reader_;
  std::once_flag join_once_;
};

}  // namespace colony::cluster
