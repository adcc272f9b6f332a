#include "colony/cli/command_util.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/rpc/token.h"

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

StatusOr<std::string> ResolveToken(const std::string& token, const std::string& token_file) {
  if (!token.empty() && !token_file.empty()) {
    return InvalidArgumentError("give --token-file or --token, not both");
  }
  if (!token_file.empty()) return rpc::ReadTokenFile(token_file, "--token-file");
  if (!token.empty()) {
    std::fprintf(stderr,
                 "warning: --token puts the token on the command line, where ps shows it to "
                 "every user of this machine; use --token-file or COLONY_TOKEN instead\n");
    return token;
  }
  if (const char* env = std::getenv("COLONY_TOKEN")) return std::string(env);
  return std::string();
}

}  // namespace colony::cli
