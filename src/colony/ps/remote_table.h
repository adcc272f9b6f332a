// Clients of parameter servers that implement the table interfaces over gRPC, so a trainer
// uses remote tables exactly like in-process ones.
//   RemoteTableOptions remote{.servers = {"127.0.0.1:7001", "127.0.0.1:7002"}, .table = "emb"};
//   COLONY_ASSIGN_OR_RETURN(auto emb, ConnectSparseTable(remote, {.dim = 16}));
//   COLONY_RETURN_IF_ERROR(emb->Pull({}, ids, rows));   // one request per server, in parallel
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/sparse_table.h"

namespace colony::ps {

struct RemoteTableOptions {
  std::vector<std::string> servers;  // host:port of every server. Required, non-empty.
  std::string table;                 // Table name on the servers. Required.
  std::string token;                 // Sent as "authorization: Bearer <token>". Default: "".
  // PEM file of the CA that signed the servers' certificates; set: TLS. Default: "" (plain).
  std::string tls_ca_file;
  // Every call (and the wait for a server that is not up yet at connect) gives up after
  // this long with Unavailable or DeadlineExceeded naming the server. Default: 10 s.
  int deadline_ms = 10000;
  // Synchronous training of this many workers: each Push is one worker's share of a step
  // (sent to every server, numbered by the client), and the servers apply the workers' mean
  // once all have pushed. Pair with a WorkerBarrier after each step. 0: every push is applied
  // at once (asynchronous). Default: 0.
  int sync_workers = 0;
  // For clients that hold several dense tables (a trainer's parameters): pull and push them
  // together through a DenseTableBatch, one PullMany/PushMany per server and step. false:
  // one Pull/Push per table, the path before batching (kept for comparisons). Default: true.
  bool batch_dense = true;
};

// The server that holds `id` among `num_servers`: a 64-bit mix of the id, modulo the count.
// Stable: it is part of the wire contract between clients and servers.
int ShardOfId(uint64_t id, int num_servers);
// The server that holds the dense table `name`: ShardOfId of the name's 64-bit FNV-1a hash.
// Stable like ShardOfId (servers' checkpoints hold the tables they were given).
int ShardOfName(const std::string& name, int num_servers);

// Creates the table on every server (a server that has it with the same shape and optimizer
// keeps it) and returns a client. Sparse rows are spread over the servers by ShardOfId.
// Save and Load are the servers' business and return Unimplemented on the client; size()
// and ssd_rows() sum the servers' counts, -1 when a server cannot be reached; EndPass ends
// the pass on every server. The row policies of `options` apply on each server (an SSD
// tier needs servers started with an ssd_dir).
StatusOr<std::unique_ptr<SparseTable>> ConnectSparseTable(const RemoteTableOptions& remote,
                                                          const SparseTableOptions& options);
// A dense table lives whole on servers[ShardOfName(table)], so a job's dense tables spread
// over its servers. When this call creates it, its values are set to `initial_values` (if
// given): the first worker initializes, later ones keep what is there. When it creates it and
// another server holds a dense table of that name (servers restored from a checkpoint written
// before dense tables were placed by name, which held them all on server 0), the values are
// copied from there instead (the optimizer state starts afresh; a line on stderr says so);
// FailedPrecondition when that table has another size.
StatusOr<std::unique_ptr<DenseTable>> ConnectDenseTable(const RemoteTableOptions& remote,
                                                        const DenseTableOptions& options,
                                                        std::span<const float> initial_values = {});

// Several dense tables pulled or pushed together: one PullMany (PushMany) per server that
// holds some of them, the servers called at once. Each table keeps the semantics of its own
// Pull/Push/Add (its optimizer, its synchronous step numbers, shared with its own Push).
//   COLONY_ASSIGN_OR_RETURN(auto batch, DenseTableBatch::Create(remote, {w.get(), b.get()}));
//   std::vector<std::span<float>> outs = {w_values, b_values};
//   COLONY_RETURN_IF_ERROR(batch->Pull(outs));
// In each call, span i belongs to table i; an empty span leaves that table out of the call
// (a parameter without a gradient this step). A table's error names it and its server; the
// first is returned, the other tables are still served. Pull may run on several threads at
// once and beside Push/Add; Push and Add are one thread's (like a table's Push).
class DenseTableBatch {
 public:
  // `tables`: from ConnectDenseTable with the servers of `remote`, outliving the batch.
  // InvalidArgument for another kind of table or other servers.
  static StatusOr<std::unique_ptr<DenseTableBatch>> Create(const RemoteTableOptions& remote,
                                                           const std::vector<DenseTable*>& tables);
  virtual ~DenseTableBatch() = default;
  virtual Status Pull(std::span<const std::span<float>> outs) = 0;
  virtual Status Push(std::span<const std::span<const float>> grads) = 0;
  virtual Status Add(std::span<const std::span<const float>> deltas) = 0;
};

// A barrier for the workers of one job, held by the first server.
//   COLONY_ASSIGN_OR_RETURN(auto barrier, WorkerBarrier::Connect(remote, /*workers=*/2));
//   COLONY_RETURN_IF_ERROR(barrier->Wait("start"));
class WorkerBarrier {
 public:
  // `timeout_ms` bounds each Wait. InvalidArgument for no servers or workers < 1.
  static StatusOr<std::unique_ptr<WorkerBarrier>> Connect(const RemoteTableOptions& remote,
                                                          int workers, int timeout_ms);
  virtual ~WorkerBarrier() = default;
  // Returns when all workers have called Wait(name) this round; DeadlineExceeded saying how
  // many arrived when the timeout passes first.
  virtual Status Wait(const std::string& name) = 0;
};

// What `colony ps stats` shows of one server.
struct ServerStats {
  struct Table {
    std::string name;
    bool sparse = false;
    int64_t rows = 0;  // Sparse: rows held. Dense: floats.
    int dim = 0;
    int64_t ssd_rows = 0;  // Sparse: rows of `rows` on SSD.
  };
  std::vector<Table> tables;
  int64_t requests = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
};

// Asks the server at `address`; Unavailable naming it when it cannot be reached.
StatusOr<ServerStats> QueryServerStats(const std::string& address, const std::string& token,
                                       const std::string& tls_ca_file = "", int deadline_ms = 5000);

}  // namespace colony::ps
