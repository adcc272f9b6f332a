#include "colony/federated/internal/child_process.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace colony::fl::internal {

using Clock = std::chrono::steady_clock;

StatusOr<std::unique_ptr<Child>> Child::Spawn(const std::string& name, const std::string& what,
                                              const std::vector<std::string>& argv) {
  auto child = std::unique_ptr<Child>(new Child(name, what));
  Child* c = child.get();
  auto keep_line = [c](const std::string&, const std::string& line) {
    std::printf("[%s] %s\n", c->name_.c_str(), line.c_str());
    std::fflush(stdout);
    std::lock_guard<std::mutex> lock(c->mu_);
    c->lines_.push_back(line);
    c->cv_.notify_all();
  };
  auto process = cluster::ChildProcess::Spawn({name, argv, {}}, keep_line);
  if (!process.ok()) {
    return NotFoundError("cannot start " + what + " as '" + (argv.empty() ? "" : argv[0]) +
                         "': " + std::string(process.status().message()));
  }
  child->process_ = std::move(process).value();
  return child;
}

bool Child::FindLine(const std::string& prefix, std::string* rest) const {
  for (const std::string& line : lines_) {
    if (line.rfind(prefix, 0) == 0) {
      *rest = line.substr(prefix.size());
      return true;
    }
  }
  return false;
}

StatusOr<std::string> Child::AwaitLine(const std::string& prefix, double seconds) {
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(seconds));
  std::string rest;
  std::unique_lock<std::mutex> lock(mu_);
  while (!FindLine(prefix, &rest)) {
    if (process_->Poll().has_value()) {
      lock.unlock();
      process_->Wait().status().IgnoreError();  // Joins the reader: every line is in.
      lock.lock();
      if (FindLine(prefix, &rest)) break;
      return UnavailableError(what_ + " ended before printing '" + prefix + "'");
    }
    if (Clock::now() >= deadline) {
      return DeadlineExceededError(what_ + " printed no '" + prefix + "' in " +
                                   std::to_string(seconds) + " s");
    }
    cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
  }
  return rest;
}

StatusOr<int> Child::Wait(double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!process_->Poll().has_value()) {
    if (Clock::now() > deadline) {
      process_->Kill();
      process_->Wait().status().IgnoreError();  // Killed: its code no longer matters.
      return DeadlineExceededError(what_ + " did not finish in " + std::to_string(seconds) +
                                   " s; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_->Wait();
}

}  // namespace colony::fl::internal
