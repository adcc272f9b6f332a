// The retrieval service: a TreeIndex behind gRPC (Search, Insert, Remove, Health), and a
// client for it.
//   COLONY_ASSIGN_OR_RETURN(auto server, RetrievalServer::Start({.address = "127.0.0.1:0"},
//                                                               std::move(index)));
//   COLONY_ASSIGN_OR_RETURN(auto client, RetrievalClient::Connect(
//       "127.0.0.1:" + std::to_string(server->port())));
//   COLONY_ASSIGN_OR_RETURN(SearchResults r, client->Search({.k = 10}, query));
#pragma once

#include <memory>
#include <span>
#include <string>

#include "colony/base/status.h"
#include "colony/rpc/limits.h"
#include "colony/retrieval/tree_index.h"

namespace colony::retrieval {

struct RetrievalServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free port.
  // Shared secret every call must carry as "authorization: Bearer <token>"; empty accepts
  // any call. Required when the address is not loopback. Default: "".
  std::string token;
  // PEM certificate chain and private key (scripts/make-certs.sh); both set: TLS, both
  // empty: plaintext. Default: "".
  std::string tls_cert_file;
  std::string tls_key_file;
  // Allow no TLS on an address that is not loopback (a trusted network). Default: false.
  bool plaintext = false;
  // The largest request and answer, in bytes. Default: 256 MiB each.
  colony::rpc::RequestLimits limits;
  // Used when a request leaves k, beam or scan_leaves at 0. Each call runs on one thread.
  QueryOptions defaults{.num_threads = 1};
};

// Thread-safe: gRPC serves calls from its own threads; searches run concurrently.
class RetrievalServer {
 public:
  // Unavailable when the address cannot be bound; InvalidArgument for bad defaults, only one
  // of certificate and key, or an address off loopback without a token or (unless plaintext)
  // TLS; NotFound for an unreadable certificate or key. The server also answers
  // grpc.health.v1.Health (colony/rpc/server.h).
  static StatusOr<std::unique_ptr<RetrievalServer>> Start(const RetrievalServerOptions& options,
                                                          std::shared_ptr<TreeIndex> index);
  virtual ~RetrievalServer() = default;
  virtual int port() const = 0;
  virtual int64_t requests() const = 0;
  // Turns health NOT_SERVING, stops accepting calls and gives the ones in flight 2 s.
  virtual void Shutdown() = 0;
};

struct HealthInfo {
  std::string status;
  int64_t items = 0;
  int dim = 0;
  int trees = 0;
  int64_t requests = 0;
};

struct RetrievalClientOptions {
  std::string token{};      // Sent as "authorization: Bearer <token>". Default: "".
  // PEM CA certificate that signed the server's; set: TLS. Default: "" (plaintext, which an
  // address off loopback refuses unless `plaintext`).
  std::string tls_ca_file{};
  bool plaintext = false;   // Allow no TLS to an address off loopback. Default: false.
  int deadline_ms = 10000;  // Each call gives up after this long. Default: 10 s.
};

// One channel to a retrieval server; thread-safe.
class RetrievalClient {
 public:
  // InvalidArgument for an empty address or one off loopback without TLS (and not
  // plaintext); NotFound for an unreadable CA file.
  static StatusOr<std::unique_ptr<RetrievalClient>> Connect(
      const std::string& address, const RetrievalClientOptions& options = {});
  virtual ~RetrievalClient() = default;
  // Errors come back as the server's Status (InvalidArgument for bad queries), Unavailable
  // when the server cannot be reached, DeadlineExceeded past the deadline.
  virtual StatusOr<SearchResults> Search(const QueryOptions& options,
                                         std::span<const float> queries) = 0;
  virtual Status Insert(std::span<const uint64_t> ids, std::span<const float> vectors) = 0;
  virtual Status Remove(std::span<const uint64_t> ids) = 0;
  virtual StatusOr<HealthInfo> Health() = 0;
};

}  // namespace colony::retrieval
