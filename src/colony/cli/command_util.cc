#include "colony/cli/command_util.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"

namespace colony::cli {

int ExitCode(const Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "colony: error: %s\n", status.ToString().c_str());
  return IsInvalidArgument(status) || IsNotFound(status) ? 2 : 1;
}

Status WriteSummaryJson(const std::string& path, const nlohmann::json& summary) {
  if (path.empty()) return OkStatus();
  return WriteJsonFile(path, summary);
}

Status WriteSummaryJson(const std::string& path, const std::string& json) {
  if (path.empty()) return OkStatus();
  return WriteFileAtomic(path, json);
}

}  // namespace colony::cli
