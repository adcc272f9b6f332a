#include "colony/ps/remote_table.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "colony/ps.grpc.pb.h"
#include "colony/ps/internal/row_math.h"
#include "colony/ps/internal/rpc_convert.h"
#include "colony/rpc/channel.h"
#include "colony/rpc/grpc_status.h"
#include "colony/rpc/token.h"

namespace colony::ps {
namespace {

using Credentials = std::shared_ptr<grpc::ChannelCredentials>;

// One server's stub and how to call it.
class Peer {
 public:
  // `credentials`: from MakeCredentials(remote).
  Peer(std::string address, const RemoteTableOptions& remote, const Credentials& credentials)
      : address_(std::move(address)), token_(remote.token), deadline_ms_(remote.deadline_ms) {
    stub_ = rpc::ParameterServer::NewStub(colony::rpc::MakeChannel(address_, credentials, {}));
  }

  // Calls `method` on the stub, waiting up to the deadline for a server that is down (or
  // restarting: a call it dropped is sent again, with backoff, while time is left, unless
  // `retry` is false). An error names this server.
  template <typename Request, typename Response, typename Method>
  Status Call(Method method, const Request& request, Response* response, bool retry = true,
              int deadline_ms = 0) {
    const auto deadline = std::chrono::system_clock::now() +
                          std::chrono::milliseconds(deadline_ms > 0 ? deadline_ms : deadline_ms_);
    auto backoff = std::chrono::milliseconds(50);
    while (true) {
      grpc::ClientContext context;
      context.set_deadline(deadline);
      context.set_wait_for_ready(true);
      colony::rpc::AddToken(&context, token_);
      Status s = colony::rpc::FromGrpcStatus((stub_.get()->*method)(&context, request, response));
      if (!retry || !IsUnavailable(s) || std::chrono::system_clock::now() + backoff >= deadline) {
        return s.WithContext("parameter server " + address_);
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }

 private:
  std::string address_;
  std::string token_;
  int deadline_ms_;
  std::unique_ptr<rpc::ParameterServer::Stub> stub_;
};

Status ValidateRemote(const RemoteTableOptions& remote) {
  if (remote.servers.empty()) return InvalidArgumentError("remote table: no servers given");
  if (remote.table.empty()) return InvalidArgumentError("remote table: empty table name");
  if (remote.deadline_ms <= 0) return InvalidArgumentError("remote table: deadline_ms must be > 0");
  return OkStatus();
}

// TLS when the options name a CA. The job config checks ps.servers against ps.tls_ca and
// ps.plaintext (train_options.cc), so the channels are made without the loopback rule.
StatusOr<Credentials> MakeCredentials(const RemoteTableOptions& remote) {
  colony::rpc::ChannelOptions options;
  options.name = "parameter server client";
  options.tls_ca_file = remote.tls_ca_file;
  options.setting_names.ca = "ps.tls_ca";
  return colony::rpc::MakeChannelCredentials(options);
}

std::vector<std::unique_ptr<Peer>> MakePeers(const RemoteTableOptions& remote,
                                             const Credentials& credentials) {
  std::vector<std::unique_ptr<Peer>> peers;
  for (const std::string& server : remote.servers) {
    peers.push_back(std::make_unique<Peer>(server, remote, credentials));
  }
  return peers;
}

// Runs fn(i) for every i with work, in parallel when more than one has work.
Status ForEachPeer(size_t count, const std::function<bool(size_t)>& has_work,
                   const std::function<Status(size_t)>& fn) {
  std::vector<std::future<Status>> futures;
  std::vector<size_t> busy;
  for (size_t i = 0; i < count; ++i) {
    if (has_work(i)) busy.push_back(i);
  }
  if (busy.size() == 1) return fn(busy[0]);
  for (size_t i : busy) futures.push_back(std::async(std::launch::async, fn, i));
  Status first;
  for (auto& f : futures) {
    Status s = f.get();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

class RemoteSparseTable final : public SparseTable {
 public:
  RemoteSparseTable(const RemoteTableOptions& remote, int dim, const Credentials& credentials)
      : remote_(remote), dim_(dim), peers_(MakePeers(remote, credentials)) {}

  Status Create(const SparseTableOptions& options) {
    rpc::CreateTableRequest request;
    request.set_table(remote_.table);
    request.set_sparse(true);
    request.set_dim(options.dim);
    *request.mutable_optimizer() = internal::ToProto(options.optimizer);
    *request.mutable_initializer() = internal::ToProto(options.initializer);
    request.set_seed(options.seed);
    request.set_admit_count(options.admit_count);
    request.set_admit_probability(options.admit_probability);
    request.set_ttl_passes(options.ttl_passes);
    request.set_memory_rows(options.memory_rows);
    return ForEachPeer(
        peers_.size(), [](size_t) { return true; },
        [&](size_t i) {
          rpc::CreateTableResponse response;
          return peers_[i]->Call(&rpc::ParameterServer::Stub::CreateTable, request, &response);
        });
  }

  Status Pull(const PullOptions& options, std::span<const uint64_t> ids,
              std::span<float> out) override {
    if (out.size() != ids.size() * dim_) {
      return InvalidArgumentError(
          "pull: out has " + std::to_string(out.size()) +
          " floats, expected ids * dim = " + std::to_string(ids.size() * dim_));
    }
    const std::vector<std::vector<uint32_t>> groups = Group(ids);
    return ForEachPeer(
        peers_.size(), [&](size_t i) { return !groups[i].empty(); },
        [&](size_t i) -> Status {
          rpc::PullRequest request;
          request.set_table(remote_.table);
          request.set_create_missing(options.create_missing);
          for (uint32_t k : groups[i]) request.add_ids(ids[k]);
          rpc::PullResponse response;
          COLONY_RETURN_IF_ERROR(
              peers_[i]->Call(&rpc::ParameterServer::Stub::Pull, request, &response));
          if (response.rows().size() != groups[i].size() * dim_ * sizeof(float)) {
            return DataLossError("pull: a server answered " +
                                 std::to_string(response.rows().size()) + " bytes for " +
                                 std::to_string(groups[i].size()) + " rows");
          }
          for (size_t r = 0; r < groups[i].size(); ++r) {
            std::memcpy(out.data() + size_t{groups[i][r]} * dim_,
                        response.rows().data() + r * dim_ * sizeof(float), dim_ * sizeof(float));
          }
          return OkStatus();
        });
  }

  Status Push(std::span<const uint64_t> ids, std::span<const float> grads) override {
    return Send(ids, grads, /*add=*/false);
  }
  Status Add(std::span<const uint64_t> ids, std::span<const float> deltas) override {
    return Send(ids, deltas, /*add=*/true);
  }

  Status Save(const std::string&) const override {
    return UnimplementedError("a remote table is saved by its servers, not by a client");
  }
  Status LoadFrom(const std::vector<std::string>&, const std::function<bool(uint64_t)>&) override {
    return UnimplementedError("a remote table is loaded by its servers, not by a client");
  }

  StatusOr<int64_t> EndPass() override {
    std::vector<int64_t> evicted(peers_.size());
    rpc::EndPassRequest request;
    request.set_table(remote_.table);
    COLONY_RETURN_IF_ERROR(ForEachPeer(
        peers_.size(), [](size_t) { return true; },
        [&](size_t i) {
          rpc::EndPassResponse response;
          Status s = peers_[i]->Call(&rpc::ParameterServer::Stub::EndPass, request, &response);
          evicted[i] = response.evicted();
          return s;
        }));
    int64_t total = 0;
    for (int64_t e : evicted) total += e;
    return total;
  }

  int64_t size() const override { return SumStats(&rpc::TableStats::rows); }
  int64_t ssd_rows() const override { return SumStats(&rpc::TableStats::ssd_rows); }

  int dim() const override { return dim_; }

 private:
  // Gradients (an optimizer step, synchronous when configured) or geo deltas (`add`) of
  // `ids`, each server sent its share.
  Status Send(std::span<const uint64_t> ids, std::span<const float> values, bool add) {
    if (values.size() != ids.size() * dim_) {
      return InvalidArgumentError(
          std::string(add ? "add" : "push") + ": got " + std::to_string(values.size()) +
          " floats, expected ids * dim = " + std::to_string(ids.size() * dim_));
    }
    const std::vector<std::vector<uint32_t>> groups = Group(ids);
    const bool sync = !add && remote_.sync_workers > 0;
    const int64_t step = sync ? sync_step_++ : 0;
    return ForEachPeer(
        peers_.size(), [&](size_t i) { return sync || !groups[i].empty(); },
        [&](size_t i) -> Status {
          rpc::PushRequest request;
          request.set_table(remote_.table);
          request.set_add(add);
          if (sync) {
            request.set_sync_workers(remote_.sync_workers);
            request.set_step(step);
          }
          std::string* bytes = request.mutable_grads();
          bytes->resize(groups[i].size() * dim_ * sizeof(float));
          for (size_t r = 0; r < groups[i].size(); ++r) {
            request.add_ids(ids[groups[i][r]]);
            std::memcpy(bytes->data() + r * dim_ * sizeof(float),
                        values.data() + size_t{groups[i][r]} * dim_, dim_ * sizeof(float));
          }
          rpc::PushResponse response;
          // A synchronous push is counted once: sending it again would count it twice.
          return peers_[i]->Call(&rpc::ParameterServer::Stub::Push, request, &response, !sync);
        });
  }

  // `field` of this table's stats added up over the servers; -1 when one cannot be reached.
  int64_t SumStats(int64_t (rpc::TableStats::*field)() const) const {
    int64_t sum = 0;
    for (const auto& peer : peers_) {
      rpc::StatsResponse stats;
      if (!peer->Call(&rpc::ParameterServer::Stub::Stats, rpc::StatsRequest(), &stats).ok()) {
        return -1;
      }
      for (const auto& t : stats.tables()) {
        if (t.name() == remote_.table) sum += (t.*field)();
      }
    }
    return sum;
  }

  // Positions of `ids` per server.
  std::vector<std::vector<uint32_t>> Group(std::span<const uint64_t> ids) const {
    std::vector<std::vector<uint32_t>> groups(peers_.size());
    const int n = static_cast<int>(peers_.size());
    for (size_t k = 0; k < ids.size(); ++k) {
      groups[ShardOfId(ids[k], n)].push_back(static_cast<uint32_t>(k));
    }
    return groups;
  }

  const RemoteTableOptions remote_;
  const int dim_;
  std::vector<std::unique_ptr<Peer>> peers_;
  int64_t sync_step_ = 0;  // Numbers the pushes of synchronous training.
};

class RemoteDenseTable final : public DenseTable {
 public:
  RemoteDenseTable(const RemoteTableOptions& remote, int64_t size, const Credentials& credentials)
      : remote_(remote),
        size_(size),
        shard_(ShardOfName(remote.table, static_cast<int>(remote.servers.size()))),
        credentials_(credentials),
        peer_(remote.servers[shard_], remote, credentials) {}

  // Servers restored from a checkpoint written before dense tables were placed by name hold
  // every dense table on server 0. When this table is new on its server but another server
  // holds a dense table of its name, copies those values here (the optimizer state starts
  // afresh) and sets *moved_from to that server; -1 when none does. FailedPrecondition when
  // that table has another size.
  Status AdoptFromAnotherServer(int* moved_from) {
    *moved_from = -1;
    for (int s = 0; s < static_cast<int>(remote_.servers.size()); ++s) {
      if (s == shard_) continue;
      Peer other(remote_.servers[s], remote_, credentials_);
      rpc::StatsResponse stats;
      COLONY_RETURN_IF_ERROR(
          other.Call(&rpc::ParameterServer::Stub::Stats, rpc::StatsRequest(), &stats));
      for (const rpc::TableStats& t : stats.tables()) {
        if (t.name() != remote_.table || t.sparse()) continue;
        if (t.rows() != size_) {
          return FailedPreconditionError("dense table '" + remote_.table + "' is on server " +
                                         remote_.servers[s] + " with " + std::to_string(t.rows()) +
                                         " values, this job's has " + std::to_string(size_));
        }
        rpc::PullRequest request;
        request.set_table(remote_.table);
        rpc::PullResponse response;
        COLONY_RETURN_IF_ERROR(other.Call(&rpc::ParameterServer::Stub::Pull, request, &response));
        std::vector<float> values(size_);
        COLONY_RETURN_IF_ERROR(TakeValues(response.rows(), values));
        COLONY_RETURN_IF_ERROR(Send(values, /*assign=*/true));
        *moved_from = s;
        return OkStatus();
      }
    }
    return OkStatus();
  }

  // Sets *created when the server did not have the table yet.
  Status Create(const DenseTableOptions& options, bool* created) {
    rpc::CreateTableRequest request;
    request.set_table(remote_.table);
    request.set_sparse(false);
    request.set_size(options.size);
    *request.mutable_optimizer() = internal::ToProto(options.optimizer);
    rpc::CreateTableResponse response;
    COLONY_RETURN_IF_ERROR(
        peer_.Call(&rpc::ParameterServer::Stub::CreateTable, request, &response));
    *created = response.created();
    return OkStatus();
  }

  Status Init(std::span<const float> values) override { return Send(values, true); }

  Status Pull(std::span<float> out) override {
    COLONY_RETURN_IF_ERROR(CheckSize("pull", out.size()));
    rpc::PullRequest request;
    request.set_table(remote_.table);
    rpc::PullResponse response;
    COLONY_RETURN_IF_ERROR(peer_.Call(&rpc::ParameterServer::Stub::Pull, request, &response));
    return TakeValues(response.rows(), out);
  }

  Status Push(std::span<const float> grads) override { return Send(grads, false); }
  Status Add(std::span<const float> deltas) override { return Send(deltas, false, true); }

  Status Save(const std::string&, const std::string&) const override {
    return UnimplementedError("a remote table is saved by its servers, not by a client");
  }
  Status Load(const std::string&, const std::string&) override {
    return UnimplementedError("a remote table is loaded by its servers, not by a client");
  }
  int64_t size() const override { return size_; }

  // For DenseTableBatch: where the table lives and how its calls are made.
  const RemoteTableOptions& remote() const { return remote_; }
  int shard() const { return shard_; }

  // InvalidArgument unless `n` floats are the table's size.
  Status CheckSize(const std::string& what, size_t n) const {
    if (static_cast<int64_t>(n) == size_) return OkStatus();
    return InvalidArgumentError(what + ": got " + std::to_string(n) + " floats, table '" +
                                remote_.table + "' holds " + std::to_string(size_));
  }

  // A server's answer `rows` to a pull into `out` (checked by CheckSize).
  Status TakeValues(const std::string& rows, std::span<float> out) const {
    if (rows.size() != out.size() * sizeof(float)) {
      return DataLossError("pull: the server answered " + std::to_string(rows.size()) +
                           " bytes for " + std::to_string(out.size()) + " floats of table '" +
                           remote_.table + "'");
    }
    if (!rows.empty()) std::memcpy(out.data(), rows.data(), rows.size());
    return OkStatus();
  }

  // The request of an optimizer step with `values` as gradients (numbered when synchronous),
  // or (assign) new values, or (add) geo deltas.
  StatusOr<rpc::PushRequest> MakePush(std::span<const float> values, bool assign, bool add) {
    COLONY_RETURN_IF_ERROR(CheckSize(assign ? "init" : add ? "add" : "push", values.size()));
    rpc::PushRequest request;
    request.set_table(remote_.table);
    request.set_grads(values.data(), values.size() * sizeof(float));
    request.set_assign(assign);
    request.set_add(add);
    if (!assign && !add && remote_.sync_workers > 0) {
      request.set_sync_workers(remote_.sync_workers);
      request.set_step(sync_step_++);
    }
    return request;
  }

 private:
  Status Send(std::span<const float> values, bool assign, bool add = false) {
    COLONY_ASSIGN_OR_RETURN(rpc::PushRequest request, MakePush(values, assign, add));
    rpc::PushResponse response;
    // A synchronous push is counted once: sending it again would count it twice.
    return peer_.Call(&rpc::ParameterServer::Stub::Push, request, &response,
                      request.sync_workers() == 0);
  }

  const RemoteTableOptions remote_;
  const int64_t size_;
  const int shard_;  // Index of the server that holds the table.
  const Credentials credentials_;
  Peer peer_;
  int64_t sync_step_ = 0;
};

// A table's outcome in a PullMany/PushMany answer as a Status.
Status FromOutcome(const rpc::TableOutcome& outcome) {
  if (outcome.code() == 0) return OkStatus();
  return Status(static_cast<StatusCode>(outcome.code()), outcome.message());
}

class RemoteDenseTableBatch final : public DenseTableBatch {
 public:
  RemoteDenseTableBatch(const RemoteTableOptions& remote, std::vector<RemoteDenseTable*> tables,
                        const Credentials& credentials)
      : tables_(std::move(tables)), peers_(MakePeers(remote, credentials)) {}

  Status Pull(std::span<const std::span<float>> outs) override {
    COLONY_RETURN_IF_ERROR(CheckCount(outs.size()));
    for (size_t t = 0; t < outs.size(); ++t) {
      if (!outs[t].empty()) COLONY_RETURN_IF_ERROR(tables_[t]->CheckSize("pull", outs[t].size()));
    }
    const std::vector<std::vector<size_t>> groups = Group(outs);
    return ForEachPeer(
        peers_.size(), [&](size_t i) { return !groups[i].empty(); },
        [&](size_t i) -> Status {
          rpc::PullManyRequest request;
          for (size_t t : groups[i]) request.add_tables()->set_table(tables_[t]->remote().table);
          rpc::PullManyResponse response;
          COLONY_RETURN_IF_ERROR(
              peers_[i]->Call(&rpc::ParameterServer::Stub::PullMany, request, &response));
          return ForEachOutcome(i, groups[i], response.tables(),
                                [&](size_t t, const rpc::TableOutcome& outcome) {
                                  return tables_[t]->TakeValues(outcome.rows(), outs[t]);
                                });
        });
  }

  Status Push(std::span<const std::span<const float>> grads) override {
    return Send(grads, /*add=*/false);
  }
  Status Add(std::span<const std::span<const float>> deltas) override {
    return Send(deltas, /*add=*/true);
  }

 private:
  Status Send(std::span<const std::span<const float>> values, bool add) {
    COLONY_RETURN_IF_ERROR(CheckCount(values.size()));
    // Every request is made (and every synchronous step numbered) before any is sent.
    std::vector<rpc::PushManyRequest> requests(peers_.size());
    const std::vector<std::vector<size_t>> groups = Group(values);
    bool sync = false;
    for (size_t i = 0; i < groups.size(); ++i) {
      for (size_t t : groups[i]) {
        COLONY_ASSIGN_OR_RETURN(rpc::PushRequest one, tables_[t]->MakePush(values[t], false, add));
        sync = sync || one.sync_workers() > 0;
        *requests[i].add_tables() = std::move(one);
      }
    }
    return ForEachPeer(
        peers_.size(), [&](size_t i) { return !groups[i].empty(); },
        [&](size_t i) -> Status {
          rpc::PushManyResponse response;
          // Synchronous pushes are counted once: sending them again would count them twice.
          COLONY_RETURN_IF_ERROR(peers_[i]->Call(&rpc::ParameterServer::Stub::PushMany, requests[i],
                                                 &response, !sync));
          return ForEachOutcome(i, groups[i], response.tables(),
                                [](size_t, const rpc::TableOutcome&) { return OkStatus(); });
        });
  }

  Status CheckCount(size_t n) const {
    if (n == tables_.size()) return OkStatus();
    return InvalidArgumentError("dense table batch: got " + std::to_string(n) + " spans for " +
                                std::to_string(tables_.size()) + " tables");
  }

  // Per server, the tables (positions) with a non-empty span.
  template <typename Span>
  std::vector<std::vector<size_t>> Group(std::span<const Span> spans) const {
    std::vector<std::vector<size_t>> groups(peers_.size());
    for (size_t t = 0; t < spans.size(); ++t) {
      if (!spans[t].empty()) groups[tables_[t]->shard()].push_back(t);
    }
    return groups;
  }

  // Checks that server `i` answered one outcome per table of `group`, in order, and runs
  // `take` on each OK one; returns the first error (the rest are still taken).
  template <typename Outcomes, typename Take>
  Status ForEachOutcome(size_t i, const std::vector<size_t>& group, const Outcomes& outcomes,
                        Take take) const {
    const std::string server = "parameter server " + tables_[group[0]]->remote().servers[i];
    if (static_cast<size_t>(outcomes.size()) != group.size()) {
      return DataLossError(server + " answered " + std::to_string(outcomes.size()) +
                           " tables for " + std::to_string(group.size()));
    }
    Status first;
    for (size_t k = 0; k < group.size(); ++k) {
      Status s = FromOutcome(outcomes[k]);
      if (s.ok()) s = take(group[k], outcomes[k]);
      if (first.ok() && !s.ok()) first = s.WithContext(server);
    }
    return first;
  }

  std::vector<RemoteDenseTable*> tables_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

class RemoteWorkerBarrier final : public WorkerBarrier {
 public:
  RemoteWorkerBarrier(const RemoteTableOptions& remote, const Credentials& credentials, int workers,
                      int timeout_ms)
      : peer_(remote.servers[0], remote, credentials), workers_(workers), timeout_ms_(timeout_ms) {}

  Status Wait(const std::string& name) override {
    rpc::BarrierRequest request;
    request.set_name(name);
    request.set_workers(workers_);
    request.set_timeout_ms(timeout_ms_);
    rpc::BarrierResponse response;
    // The server answers at the timeout, with the count; the call's deadline leaves it time.
    return peer_.Call(&rpc::ParameterServer::Stub::Barrier, request, &response, /*retry=*/false,
                      timeout_ms_ + 5000);
  }

 private:
  Peer peer_;
  const int workers_;
  const int timeout_ms_;
};

}  // namespace

int ShardOfId(uint64_t id, int num_servers) {
  const uint64_t x = internal::Mix64(id + internal::kGoldenGamma);
  return static_cast<int>(x % static_cast<uint64_t>(num_servers));
}

int ShardOfName(const std::string& name, int num_servers) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bits.
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return ShardOfId(hash, num_servers);
}

StatusOr<ServerStats> QueryServerStats(const std::string& address, const std::string& token,
                                       const std::string& tls_ca_file, int deadline_ms) {
  RemoteTableOptions remote;
  remote.servers = {address};
  remote.token = token;
  remote.tls_ca_file = tls_ca_file;
  remote.deadline_ms = deadline_ms;
  COLONY_ASSIGN_OR_RETURN(Credentials credentials, MakeCredentials(remote));
  Peer peer(address, remote, credentials);
  rpc::StatsResponse response;
  COLONY_RETURN_IF_ERROR(
      peer.Call(&rpc::ParameterServer::Stub::Stats, rpc::StatsRequest(), &response));
  ServerStats stats;
  for (const rpc::TableStats& t : response.tables()) {
    stats.tables.push_back({t.name(), t.sparse(), t.rows(), t.dim(), t.ssd_rows()});
  }
  stats.requests = response.requests();
  stats.bytes_in = response.bytes_in();
  stats.bytes_out = response.bytes_out();
  return stats;
}

StatusOr<std::unique_ptr<WorkerBarrier>> WorkerBarrier::Connect(const RemoteTableOptions& remote,
                                                                int workers, int timeout_ms) {
  if (remote.servers.empty()) return InvalidArgumentError("worker barrier: no servers given");
  if (workers < 1 || timeout_ms <= 0) {
    return InvalidArgumentError("worker barrier: workers and timeout_ms must be > 0");
  }
  COLONY_ASSIGN_OR_RETURN(Credentials credentials, MakeCredentials(remote));
  return std::unique_ptr<WorkerBarrier>(
      new RemoteWorkerBarrier(remote, credentials, workers, timeout_ms));
}

StatusOr<std::unique_ptr<SparseTable>> ConnectSparseTable(const RemoteTableOptions& remote,
                                                          const SparseTableOptions& options) {
  COLONY_RETURN_IF_ERROR(ValidateRemote(remote));
  SparseTableOptions checked = options;
  if (checked.ssd_dir.empty()) checked.ssd_dir = "servers";  // Each server has its own.
  COLONY_RETURN_IF_ERROR(checked.Validate());
  COLONY_ASSIGN_OR_RETURN(Credentials credentials, MakeCredentials(remote));
  auto table = std::make_unique<RemoteSparseTable>(remote, options.dim, credentials);
  COLONY_RETURN_IF_ERROR(table->Create(options));
  return std::unique_ptr<SparseTable>(std::move(table));
}

StatusOr<std::unique_ptr<DenseTable>> ConnectDenseTable(const RemoteTableOptions& remote,
                                                        const DenseTableOptions& options,
                                                        std::span<const float> initial_values) {
  COLONY_RETURN_IF_ERROR(ValidateRemote(remote));
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(Credentials credentials, MakeCredentials(remote));
  auto table = std::make_unique<RemoteDenseTable>(remote, options.size, credentials);
  bool created = false;
  COLONY_RETURN_IF_ERROR(table->Create(options, &created));
  int moved_from = -1;
  if (created && remote.servers.size() > 1) {
    COLONY_RETURN_IF_ERROR(table->AdoptFromAnotherServer(&moved_from));
  }
  if (moved_from >= 0) {
    std::fprintf(stderr,
                 "ps: dense table '%s' was on server %s (a checkpoint from before dense tables "
                 "were placed by name); moved its values to %s, its optimizer state starts "
                 "afresh\n",
                 remote.table.c_str(), remote.servers[moved_from].c_str(),
                 remote.servers[table->shard()].c_str());
  } else if (created && !initial_values.empty()) {
    COLONY_RETURN_IF_ERROR(table->Init(initial_values));
  }
  return std::unique_ptr<DenseTable>(std::move(table));
}

StatusOr<std::unique_ptr<DenseTableBatch>> DenseTableBatch::Create(
    const RemoteTableOptions& remote, const std::vector<DenseTable*>& tables) {
  if (remote.servers.empty()) return InvalidArgumentError("dense table batch: no servers given");
  std::vector<RemoteDenseTable*> remote_tables;
  for (DenseTable* table : tables) {
    auto* r = dynamic_cast<RemoteDenseTable*>(table);
    if (r == nullptr) {
      return InvalidArgumentError("dense table batch: a table is not on parameter servers");
    }
    if (r->remote().servers != remote.servers) {
      return InvalidArgumentError("dense table batch: table '" + r->remote().table +
                                  "' was connected to other servers");
    }
    remote_tables.push_back(r);
  }
  COLONY_ASSIGN_OR_RETURN(Credentials credentials, MakeCredentials(remote));
  return std::unique_ptr<DenseTableBatch>(
      new RemoteDenseTableBatch(remote, std::move(remote_tables), credentials));
}

}  // namespace colony::ps
