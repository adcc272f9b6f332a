// A child process whose output (stdout and stderr together) is read line by line by a
// thread of this process, e.g. to print it with a role prefix, and whose first line with a
// given prefix can be awaited (the address a server listens on).
//   COLONY_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(
//       {.name = "server 0", .argv = {binary, "serve", "--role", "pserver"}, .env = {},
//        .awaited_prefixes = {"pserver listening on "}}, PrintPrefixedLine));
//   COLONY_ASSIGN_OR_RETURN(std::string address,
//                           child->AwaitLine("pserver listening on ", std::chrono::seconds(60)));
//   child->Terminate();                         // SIGTERM
//   COLONY_ASSIGN_OR_RETURN(int code, child->Wait());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
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
  // Prefixes of output lines that AwaitLine can wait for ("pserver listening on "): the first
  // line starting with each is kept. Default: none.
  std::vector<std::string> awaited_prefixes;
};

// Called from the child's reader thread with each line of its output (no newline).
using LineSink = std::function<void(const std::string& name, const std::string& line)>;

// A LineSink that prints "[name] line" to stdout and flushes; safe to call from many threads.
void PrintPrefixedLine(const std::string& name, const std::string& line);

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
  // Wait, but kills the child once `timeout` passes and returns DeadlineExceeded.
  StatusOr<int> Wait(std::chrono::duration<double> timeout);
  // The rest of the child's first output line that starts with `prefix` (one of the spec's
  // awaited_prefixes), waiting up to `timeout` for it. Unavailable when the child's output ends
  // first (it exited), DeadlineExceeded when the time passes first, InvalidArgument for a
  // prefix the spec does not list.
  StatusOr<std::string> AwaitLine(const std::string& prefix, std::chrono::duration<double> timeout);
  void Terminate();  // SIGTERM.
  void Kill();       // SIGKILL.

 private:
  struct Awaited {
    std::string prefix;
    std::optional<std::string> rest;  // After the prefix, once a line with it arrived.
  };

  ChildProcess(std::string name, pid_t pid, int output_fd, LineSink sink,
               const std::vector<std::string>& awaited_prefixes);
  void ReadLines(int fd);
  void Keep(const std::string& line);  // Records `line` for AwaitLine.

  const std::string name_;
  const pid_t pid_;
  std::mutex mu_;
  std::optional<int> exit_code_;
  LineSink sink_;
  // Guards awaited_ and output_ended_, apart from mu_: Wait holds mu_ while it blocks, and the
  // reader must keep draining the pipe meanwhile.
  std::mutex lines_mu_;
  std::condition_variable line_arrived_;
  std::vector<Awaited> awaited_;
  bool output_ended_ = false;
  std::thread reader_;
  std::once_flag join_once_;
};

}  // namespace colony::cluster
