// Small helpers the trainers share. Private to train.
#pragma once

#include <chrono>
#include <string>

namespace colony::train::internal {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// `file` inside `dir`, unless `file` is absolute or `dir` empty.
inline std::string JoinPath(const std::string& dir, const std::string& file) {
  if (dir.empty() || (!file.empty() && file[0] == '/')) return file;
  return dir + "/" + file;
}

}  // namespace colony::train::internal
