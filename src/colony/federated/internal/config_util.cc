#include "colony/federated/internal/config_util.h"

#include <cstdlib>

namespace colony::fl::internal {

Status InvalidKey(const ConfigSection& section, std::string_view key, const std::string& what) {
  return InvalidArgumentError(section.Where(key) + ": " + what);
}

StatusOr<ConfigSection> JobSection(const Config& config, const std::string& path,
                                   const std::string& name) {
  const ConfigSection root = config.Root();
  if (!root.Has(name)) {
    return InvalidArgumentError(path + ": no '" + name + ":' section; see examples/federated/");
  }
  return root.Section(name);
}

Status InSection(const ConfigSection& section, const Status& valid) {
  if (valid.ok()) return valid;
  return InvalidArgumentError(section.Where("") + ": " + std::string(valid.message()));
}

Status ReadSecurity(const ConfigSection& parent, ServiceSecurity* out) {
  const ConfigSection s = parent.Section("security");
  COLONY_RETURN_IF_ERROR(s.Read("token", &out->token));
  COLONY_RETURN_IF_ERROR(s.Read("token_env", &out->token_env));
  COLONY_RETURN_IF_ERROR(s.Read("tls_cert", &out->tls_cert));
  COLONY_RETURN_IF_ERROR(s.Read("tls_key", &out->tls_key));
  COLONY_RETURN_IF_ERROR(s.Read("tls_ca", &out->tls_ca));
  COLONY_RETURN_IF_ERROR(s.Read("tls_client_cert", &out->tls_client_cert));
  COLONY_RETURN_IF_ERROR(s.Read("tls_client_key", &out->tls_client_key));
  COLONY_RETURN_IF_ERROR(s.Read("tls_client_ca", &out->tls_client_ca));
  COLONY_RETURN_IF_ERROR(s.Read("plaintext", &out->plaintext));
  if (!out->token_env.empty()) {
    if (!out->token.empty()) return InvalidKey(s, "token_env", "set token or token_env, not both");
    const char* value = std::getenv(out->token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return InvalidKey(s, "token_env",
                        "environment variable " + out->token_env + " is not set or empty");
    }
    out->token = value;
  }
  if (out->tls_cert.empty() != out->tls_key.empty()) {
    return InvalidKey(s, out->tls_cert.empty() ? "tls_cert" : "tls_key",
                      "TLS needs both tls_cert and tls_key");
  }
  if (out->tls_client_cert.empty() != out->tls_client_key.empty()) {
    return InvalidKey(s, out->tls_client_cert.empty() ? "tls_client_cert" : "tls_client_key",
                      "mutual TLS needs both tls_client_cert and tls_client_key");
  }
  if (!out->tls_client_cert.empty() && out->tls_ca.empty()) {
    return InvalidKey(s, "tls_client_cert",
                      "a client certificate is for TLS: set tls_ca (the servers' CA) too");
  }
  if (!out->tls_client_ca.empty() && out->tls_cert.empty()) {
    return InvalidKey(s, "tls_client_ca",
                      "servers check client certificates over TLS: set tls_cert and tls_key too");
  }
  return OkStatus();
}

}  // namespace colony::fl::internal
