// Minimal logging to stderr and invariant checks. CHECK guards our own invariants only;
// bad input is reported with a Status, never a CHECK.
//   COLONY_LOG_INFO("trained {} samples", n);
#pragma once

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

namespace colony {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below this level are dropped. Default: kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Writes "[colony I 12:00:01] message" to stderr.
void LogMessage(LogLevel level, const std::string& message);

}  // namespace colony

#define COLONY_LOG(level, ...)                                                \
  do {                                                                        \
    if (static_cast<int>(level) >= static_cast<int>(::colony::GetLogLevel())) \
      ::colony::LogMessage(level, fmt::format(__VA_ARGS__));                  \
  } while (0)
#define COLONY_LOG_DEBUG(...) COLONY_LOG(::colony::LogLevel::kDebug, __VA_ARGS__)
#define COLONY_LOG_INFO(...) COLONY_LOG(::colony::LogLevel::kInfo, __VA_ARGS__)
#define COLONY_LOG_WARNING(...) COLONY_LOG(::colony::LogLevel::kWarning, __VA_ARGS__)
#define COLONY_LOG_ERROR(...) COLONY_LOG(::colony::LogLevel::kError, __VA_ARGS__)

#define COLONY_CHECK(cond)                                                                    \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "colony: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
