// Authentication and transport security of the federated services (the horizontal children and
// vertical party B serve; the master and party A call): the YAML `security` subsection of the
// `horizontal:` and `vertical:` sections.
//   security:
//     token_env: COLONY_FL_TOKEN   # or token: "..."; every call must carry it
//     tls_cert: certs/server.pem   # servers, off loopback (scripts/make-certs.sh)
//     tls_key: certs/server.key
//     tls_ca: certs/ca.pem         # clients: the CA that signed the servers' certificate
#pragma once

#include <string>

namespace colony::fl {

struct ServiceSecurity {
  // Shared secret every call carries as "authorization: Bearer <token>"; a server with a token
  // rejects a call without it (Unauthenticated). Empty: no token.
  std::string token;
  // The environment variable the token is read from when the config is loaded (keeps the
  // secret out of the file). Set at most one of token and token_env.
  std::string token_env;
  std::string tls_cert, tls_key;  // Servers: PEM certificate chain and key. Empty: no TLS.
  std::string tls_ca;             // Clients: PEM CA certificate; empty: no TLS.
  // Allow no TLS on an address that is not loopback (a trusted network); otherwise such an
  // address needs tls_cert / tls_key (servers) or tls_ca (clients).
  bool plaintext = false;
};

}  // namespace colony::fl
