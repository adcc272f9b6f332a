// What every subcommand shares: turning a Status into an exit code, writing summaries.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "colony/base/status.h"

namespace colony::cli {

// Prints a non-OK status to stderr; returns 0 for OK, 2 for a usage or config error
// (InvalidArgument, NotFound), 1 otherwise.
int ExitCode(const Status& status);

// Writes `summary` to `path` (WriteJsonFile: atomic, two-space indent) when `path` is not
// empty.
Status WriteSummaryJson(const std::string& path, const nlohmann::json& summary);
// The same for a summary already serialized (the train layer's summaries, until they are
// nlohmann::json too).
Status WriteSummaryJson(const std::string& path, const std::string& json);

// The token from --token-file, else --token (with a warning that `ps` shows it to every user),
// else the environment variable COLONY_TOKEN; "" for none. InvalidArgument for both flags.
StatusOr<std::string> ResolveToken(const std::string& token, const std::string& token_file);

}  // namespace colony::cli
