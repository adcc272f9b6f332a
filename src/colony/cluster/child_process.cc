#include "colony/cluster/child_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace colony::cluster {
namespace {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

void PrintPrefixedLine(const std::string& name, const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::printf("[%s] %s\n", name.c_str(), line.c_str());
  std::fflush(stdout);
}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const ChildSpec& spec, LineSink sink) {
  if (spec.argv.empty()) return InvalidArgumentError("child '" + spec.name + "': empty argv");
  if (::access(spec.argv[0].c_str(), X_OK) != 0) {
    return NotFoundError("child '" + spec.name + "': cannot execute '" + spec.argv[0] + "'");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [key, value] : spec.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return InternalError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(spec.name, pid, fds[0], std::move(sink), spec.awaited_prefixes));
}

ChildProcess::ChildProcess(std::string name, pid_t pid, int output_fd, LineSink sink,
                           const std::vector<std::string>& awaited_prefixes)
    : name_(std::move(name)), pid_(pid), sink_(std::move(sink)) {
  for (const std::string& prefix : awaited_prefixes) awaited_.push_back({prefix, std::nullopt});
  reader_ = std::thread([this, output_fd] { ReadLines(output_fd); });
}

ChildProcess::~ChildProcess() {
  if (!Poll().has_value()) Kill();
  Wait().status().IgnoreError();  // Reaps; the code no longer matters.
}

void ChildProcess::ReadLines(int fd) {
  std::string pending;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = pending.substr(start, end - start);
      Keep(line);
      if (sink_) sink_(name_, line);
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) {
    Keep(pending);
    if (sink_) sink_(name_, pending);
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(lines_mu_);
  output_ended_ = true;
  line_arrived_.notify_all();
}

void ChildProcess::Keep(const std::string& line) {
  if (awaited_.empty()) return;
  std::lock_guard<std::mutex> lock(lines_mu_);
  for (Awaited& a : awaited_) {
    if (!a.rest && line.rfind(a.prefix, 0) == 0) {
      a.rest = line.substr(a.prefix.size());
      line_arrived_.notify_all();
    }
  }
}

StatusOr<std::string> ChildProcess::AwaitLine(const std::string& prefix,
                                              std::chrono::duration<double> timeout) {
  std::unique_lock<std::mutex> lock(lines_mu_);
  const auto awaited = std::find_if(awaited_.begin(), awaited_.end(),
                                    [&](const Awaited& a) { return a.prefix == prefix; });
  if (awaited == awaited_.end()) {
    return InvalidArgumentError(name_ + ": '" + prefix +
                                "' is not among the awaited prefixes its spec lists");
  }
  if (!line_arrived_.wait_for(lock, timeout,
                              [&] { return awaited->rest.has_value() || output_ended_; })) {
    return DeadlineExceededError(
        fmt::format("{} printed no '{}' in {:g} s", name_, prefix, timeout.count()));
  }
  if (!awaited->rest) return UnavailableError(name_ + " ended before printing '" + prefix + "'");
  return *awaited->rest;
}

std::optional<int> ChildProcess::Poll() {
  std::lock_guard<std::mutex> lock(mu_);
  if (exit_code_) return exit_code_;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = ExitCodeOf(status);
  return exit_code_;
}

StatusOr<int> ChildProcess::Wait() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!exit_code_) {
      int status = 0;
      pid_t got;
      while ((got = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
      }
      if (got != pid_) return InternalError("waitpid for " + name_ + ": " + std::strerror(errno));
      exit_code_ = ExitCodeOf(status);
    }
  }
  std::call_once(join_once_, [this] { reader_.join(); });
  return *exit_code_;
}

StatusOr<int> ChildProcess::Wait(std::chrono::duration<double> timeout) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  while (!Poll().has_value()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill();
      Wait().status().IgnoreError();  // Killed: its code no longer matters.
      return DeadlineExceededError(
          fmt::format("{} did not finish in {:g} s; killed", name_, timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Wait();
}

void ChildProcess::Terminate() {
  if (!Poll()) ::kill(pid_, SIGTERM);
}

void ChildProcess::Kill() {
  if (!Poll()) ::kill(pid_, SIGKILL);
}

}  // namespace colony::cluster
