#include "colony/federated/internal/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace colony::fl::internal {

using Clock = std::chrono::steady_clock;

StatusOr<std::unique_ptr<Child>> Child::Spawn(const std::string& name, const std::string& what,
                                              const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return InternalError("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return NotFoundError("cannot start " + what + " as '" + argv[0] + "': " + std::strerror(rc));
  }
  auto child = std::unique_ptr<Child>(new Child(name, what, pid, fds[0]));
  child->reader_ = std::thread([c = child.get()] { c->Copy(); });
  return child;
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (reader_.joinable()) reader_.join();
  close(fd_);
}

StatusOr<std::string> Child::AwaitLine(const std::string& prefix, double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    for (const std::string& line : lines_) {
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    }
    if (eof_) return UnavailableError(what_ + " ended before printing '" + prefix + "'");
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return DeadlineExceededError(what_ + " printed no '" + prefix + "' in " +
                                   std::to_string(seconds) + " s");
    }
  }
}

StatusOr<int> Child::Wait(double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (true) {
    const pid_t got = waitpid(pid_, &status, WNOHANG);
    if (got == pid_) break;
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return DeadlineExceededError(what_ + " did not finish in " + std::to_string(seconds) +
                                   " s; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Child::Copy() {
  std::string pending;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = read(fd_, buffer, sizeof(buffer))) > 0) {
    pending.append(buffer, got);
    size_t newline = 0;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      std::printf("[%s] %s\n", name_.c_str(), line.c_str());
      std::fflush(stdout);
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
      cv_.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

}  // namespace colony::fl::internal
