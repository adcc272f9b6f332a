// YAML helpers shared by the horizontal and vertical configs. Private to federated.
#pragma once

#include <string>
#include <string_view>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/federated/service_security.h"

namespace colony::fl::internal {

// InvalidArgument "<file:line key>: <what>".
Status InvalidKey(const ConfigSection& section, std::string_view key, const std::string& what);

// The job's top-level section `name` ("horizontal", "vertical"); InvalidArgument naming the
// file when it is missing.
StatusOr<ConfigSection> JobSection(const Config& config, const std::string& path,
                                   const std::string& name);

// `valid` (a Validate() result of the options read from `section`) with the section's
// file and line in front of its message.
Status InSection(const ConfigSection& section, const Status& valid);

// The `security` subsection of `parent` into `out`: token or token_env (read now; an unset
// variable is an error naming it), tls_cert with tls_key, tls_ca, plaintext.
Status ReadSecurity(const ConfigSection& parent, ServiceSecurity* out);

}  // namespace colony::fl::internal
