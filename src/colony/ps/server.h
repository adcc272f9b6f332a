// A parameter-server process's service: named sparse and dense tables behind gRPC.
//   COLONY_ASSIGN_OR_RETURN(auto server, PsServer::Start({.address = "127.0.0.1:0"}));
//   int port = server->port();  // The port picked when the address asked for port 0.
//   server->Wait();             // Until Shutdown() from another thread.
#pragma once

#include <memory>
#include <string>

#include "colony/base/status.h"
#include "colony/rpc/limits.h"

namespace colony::ps {

struct PsServerOptions {
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
  // The largest request and answer, in bytes (a larger one is refused with
  // ResourceExhausted). Default: 256 MiB each.
  colony::rpc::RequestLimits limits;
  // Sparse tables with memory_rows keep the rows beyond it under <ssd_dir>/<table> (RocksDB).
  // "": such tables are refused. Default: "".
  std::string ssd_dir;
  // For tests and benchmarks only: every Pull's answer (the values when the call arrived) is
  // sent this many milliseconds late, as over a slow network. Must be >= 0. Default: 0.
  int inject_delay_ms = 0;
};

// Thread-safe: gRPC serves calls from its own threads.
class PsServer {
 public:
  // Unavailable when the address cannot be bound (names it); NotFound for an unreadable
  // certificate or key; InvalidArgument when only one of them is given, for a negative
  // inject_delay_ms, or for an address off loopback without a token or (unless plaintext)
  // TLS. The server also answers grpc.health.v1.Health (colony/rpc/server.h).
  static StatusOr<std::unique_ptr<PsServer>> Start(const PsServerOptions& options);
  virtual ~PsServer() = default;
  virtual int port() const = 0;
  // Writes every table, with optimizer state and creation options, under `dir` (one folder
  // per table, then a MANIFEST); returns how many. The Save RPC does the same.
  virtual StatusOr<int> SaveTables(const std::string& dir) = 0;
  // Recreates the tables listed in `dir`/MANIFEST (replacing any of the same name).
  // NotFound without a MANIFEST, DataLoss for a corrupt file.
  virtual StatusOr<int> LoadTables(const std::string& dir) = 0;
  // Blocks until Shutdown().
  virtual void Wait() = 0;
  // Turns health NOT_SERVING, stops accepting calls and gives the ones in flight 2 s.
  virtual void Shutdown() = 0;
};

}  // namespace colony::ps
