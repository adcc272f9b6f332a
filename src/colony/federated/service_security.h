// Authentication and transport security of the federated services (the horizontal children and
// vertical party B serve; the master and party A call): the YAML `security` subsection of the
// `horizontal:` and `vertical:` sections.
//   security:
//     token_env: COLONY_FL_TOKEN   # or token: "..."; every call must carry it
//     tls_cert: certs/server.pem   # servers, off loopback (scripts/make-certs.sh)
//     tls_key: certs/server.key
//     tls_ca: certs/ca.pem         # clients: the CA that signed the servers' certificate
//     tls_client_cert: certs/client.pem   # mutual TLS: clients present this certificate,
//     tls_client_key: certs/client.key
//     tls_client_ca: certs/ca.pem         # servers accept only clients signed by this CA
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
  // Mutual TLS. Clients: the PEM certificate chain and key they present (needs tls_ca).
  std::string tls_client_cert, tls_client_key;
  // Servers: the PEM CA a client's certificate must be signed by; a client without one is
  // refused in the handshake (needs tls_cert). Empty: clients are not asked for one.
  std::string tls_client_ca;
  // Allow no TLS on an address that is not loopback (a trusted network); otherwise such an
  // address needs tls_cert / tls_key (servers) or tls_ca (clients).
  bool plaintext = false;
};

}  // namespace colony::fl
