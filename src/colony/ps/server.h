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
  // The folder the Save and Load RPCs are confined to: the directory a request names is
  // taken relative to it (or must lie under it when absolute); ".." and symlinks leading out
  // are refused with PermissionDenied. "": the RPCs are refused with FailedPrecondition (the
  // owner's SaveTables/LoadTables calls are not confined). Default: "".
  std::string checkpoint_root;
  // This server's place among the job's servers: it holds the sparse rows with
  // ShardOfId(id, num_shards) == shard and the dense tables with ShardOfName(name,
  // num_shards) == shard. Written into its checkpoints, so that a job restarted with another
  // number of servers re-shards them (LoadJobCheckpoint). 0 <= shard < num_shards.
  // Default: 0 of 1.
  int shard = 0;
  int num_shards = 1;
  // For tests and benchmarks only: every Pull's answer (the values when the call arrived) is
  // sent this many milliseconds late, as over a slow network. Must be >= 0. Default: 0.
  int inject_delay_ms = 0;
};

// Thread-safe: gRPC serves calls from its own threads.
class PsServer {
 public:
  // Unavailable when the address cannot be bound (names it); NotFound for an unreadable
  // certificate or key; InvalidArgument when only one of them is given, for a negative
  // inject_delay_ms, a shard outside [0, num_shards), or for an address off loopback without
  // a token or (unless plaintext) TLS. The server also answers grpc.health.v1.Health
  // (colony/rpc/server.h).
  static StatusOr<std::unique_ptr<PsServer>> Start(const PsServerOptions& options);
  virtual ~PsServer() = default;
  virtual int port() const = 0;
  // Writes every table, with optimizer state and creation options, under `dir` (one folder
  // per table, then a MANIFEST naming them and this server's shard); returns how many. Every
  // file is checksummed and written atomically; a sparse table on SSD streams to its file.
  // The Save RPC does the same under checkpoint_root.
  virtual StatusOr<int> SaveTables(const std::string& dir) = 0;
  // Recreates the tables listed in `dir`/MANIFEST (replacing any of the same name), whatever
  // shard wrote them. NotFound without a MANIFEST; DataLoss naming the file when one is
  // truncated or corrupt, or a name in it is not a safe folder name (or differs between the
  // MANIFEST and a spec). The Load RPC does the same under checkpoint_root.
  virtual StatusOr<int> LoadTables(const std::string& dir) = 0;
  // Loads this server's share of a job's checkpoint (ServerCheckpointDir(job_dir, i) for
  // each of the N servers that wrote it; N from their MANIFESTs). N == num_shards: its own
  // folder. Otherwise (re-sharding) the rows of every sparse table whose ids map to this
  // shard, from all N folders, and the dense tables whose names map here. Returns the tables
  // loaded. NotFound without ServerCheckpointDir(job_dir, 0)/MANIFEST; FailedPrecondition
  // when the folders were written by jobs of different server counts; DataLoss as LoadTables.
  virtual StatusOr<int> LoadJobCheckpoint(const std::string& job_dir) = 0;
  // Blocks until Shutdown().
  virtual void Wait() = 0;
  // Turns health NOT_SERVING, stops accepting calls and gives the ones in flight 2 s.
  virtual void Shutdown() = 0;
};

// Where server `shard` of a job saves under the job's checkpoint folder: <job_dir>/server-<shard>.
std::string ServerCheckpointDir(const std::string& job_dir, int shard);

}  // namespace colony::ps
