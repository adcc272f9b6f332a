#include "colony/base/logging.h"

#include <atomic>
#include <chrono>
#include <ctime>

namespace colony {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void LogMessage(LogLevel level, const std::string& message) {
  static constexpr char kLetters[] = {'D', 'I', 'W', 'E'};
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[16];
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
  std::fprintf(stderr, "[colony %c %s] %s\n", kLetters[static_cast<int>(level)], stamp,
               message.c_str());
}

}  // namespace colony
