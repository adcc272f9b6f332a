// The retrieval service: a TreeIndex behind gRPC (Search, Insert, Remove, Health), and a
// client for it.
//   COLONY_ASSIGN_OR_RETURN(auto server, RetrievalServer::Start({.address = "127.0.0.1:0"},
//                                                               std::move(index)));
//   COLONY_ASSIGN_OR_RETURN(auto client, RetrievalClient::Connect(
//       "127.0.0.1:" + std::to_string(server->port()), {}));
//   COLONY_ASSIGN_OR_RETURN(SearchResults r, client->Search({.k = 10}, query));
#pragma once

#include <memory>
#include <span>
#include <string>

#include "colony/base/status.h"
#include "colony/retrieval/tree_index.h"

namespace colony::retrieval {

struct RetrievalServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free port.
  // Shared secret every call must carry as "authorization: Bearer <token>"; empty accepts
  // any call. Default: "".
  std::string token;
  // Used when a request leaves k, beam or scan_leaves at 0. Each call runs on one thread.
  QueryOptions defaults{.num_threads = 1};
};

// Thread-safe: gRPC serves calls from its own threads; searches run concurrently.
class RetrievalServer {
 public:
  // Unavailable when the address cannot be bound; InvalidArgument for bad defaults.
  static StatusOr<std::unique_ptr<RetrievalServer>> Start(const RetrievalServerOptions& options,
                                                          std::shared_ptr<TreeIndex> index);
  virtual ~RetrievalServer() = default;
  virtual int port() const = 0;
  virtual int64_t requests() const = 0;
  // Stops accepting calls and finishes the ones in flight.
  virtual void Shutdown() = 0;
};

struct HealthInfo {
  std::string status;
  int64_t items = 0;
  int dim = 0;
  int trees = 0;
  int64_t requests = 0;
};

// One channel to a retrieval server; thread-safe.
class RetrievalClient {
 public:
  static StatusOr<std::unique_ptr<RetrievalClient>> Connect(const std::string& address,
                                                            const std::string& token,
                                                            int deadline_ms = 10000);
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
