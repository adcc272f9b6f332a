// Reading the PEM files of TLS settings. Private to rpc.
#pragma once

#include <string>

#include "colony/base/status.h"

namespace colony::rpc::internal {

// The file at `path`; NotFound as "who: setting: cannot open 'path'...".
StatusOr<std::string> ReadPem(const std::string& who, const std::string& setting,
                              const std::string& path);

}  // namespace colony::rpc::internal
