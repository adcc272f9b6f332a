#include "colony/cluster/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace colony::cluster {
namespace {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

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
  return std::unique_ptr<ChildProcess>(new ChildProcess(spec.name, pid, fds[0], std::move(sink)));
}

ChildProcess::ChildProcess(std::string name, pid_t pid, int output_fd, LineSink sink)
    : name_(std::move(name)), pid_(pid), sink_(std::move(sink)) {
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
      if (sink_) sink_(name_, pending.substr(start, end - start));
    }
    pending.erase(0, start);
  }
  if (!pending.empty() && sink_) sink_(name_, pending);
  ::close(fd);
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

void ChildProcess::Terminate() {
  if (!Poll()) ::kill(pid_, SIGTERM);
}

void ChildProcess::Kill() {
  if (!Poll()) ::kill(pid_, SIGKILL);
}

}  // namespace colony::cluster
