#include "colony/ps/server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "colony/base/file_util.h"
#include "colony/ps.grpc.pb.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/internal/barrier.h"
#include "colony/ps/internal/row_math.h"
#include "colony/ps/internal/rpc_convert.h"
#include "colony/ps/internal/server_checkpoint.h"
#include "colony/ps/internal/sync_accumulator.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/sparse_table.h"
#include "colony/rpc/path.h"
#include "colony/rpc/serve.h"
#include "colony/rpc/server.h"

namespace colony::ps {
namespace {

using internal::FromProto;

// One table of either kind, with the request that created it (to check re-creations).
struct Table {
  rpc::CreateTableRequest spec;
  std::unique_ptr<SparseTable> sparse;
  std::unique_ptr<DenseTable> dense;
  internal::SyncAccumulator sync;  // Pushes of synchronous training.
  std::string ssd_folder;          // The SSD tier's folder; "" without one.
};

// Table names become folder names in checkpoints and under the SSD folder.
Status CheckTableName(const std::string& name) {
  return colony::rpc::CheckPathComponent(name, "table name");
}

class Service final : public rpc::ParameterServer::Service {
 public:
  explicit Service(const PsServerOptions& options)
      : token_(options.token),
        ssd_dir_(options.ssd_dir),
        checkpoint_root_(options.checkpoint_root),
        shard_(options.shard),
        num_shards_(options.num_shards),
        inject_delay_ms_(options.inject_delay_ms) {}

  grpc::Status CreateTable(grpc::ServerContext* context, const rpc::CreateTableRequest* request,
                           rpc::CreateTableResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_RETURN_IF_ERROR(CheckTableName(request->table()));
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tables_.find(request->table());
      if (it != tables_.end()) {
        const rpc::CreateTableRequest& have = it->second->spec;
        if (have.sparse() != request->sparse() || have.dim() != request->dim() ||
            have.size() != request->size() ||
            FromProto(have.optimizer()).name != FromProto(request->optimizer()).name) {
          return FailedPreconditionError("table '" + request->table() +
                                         "' exists with another kind, shape or optimizer");
        }
        response->set_created(false);
        return OkStatus();
      }
      COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, MakeTable(*request));
      tables_[request->table()] = std::move(table);
      response->set_created(true);
      return OkStatus();
    });
  }

  grpc::Status Pull(grpc::ServerContext* context, const rpc::PullRequest* request,
                    rpc::PullResponse* response) override {
    const grpc::Status status =
        Serve(context, [&] { return PullTable(*request, response->mutable_rows()); });
    InjectDelay();
    return status;
  }

  grpc::Status Push(grpc::ServerContext* context, const rpc::PushRequest* request,
                    rpc::PushResponse*) override {
    return Serve(context, [&] { return PushTable(*request); });
  }

  grpc::Status PullMany(grpc::ServerContext* context, const rpc::PullManyRequest* request,
                        rpc::PullManyResponse* response) override {
    const grpc::Status status = Serve(context, [&]() -> Status {
      for (const rpc::PullRequest& one : request->tables()) {
        rpc::TableOutcome* outcome = response->add_tables();
        outcome->set_table(one.table());
        Status s = CheckDense("PullMany", one.table());
        SetOutcome(s.ok() ? PullTable(one, outcome->mutable_rows()) : s, outcome);
      }
      return OkStatus();
    });
    InjectDelay();
    return status;
  }

  grpc::Status PushMany(grpc::ServerContext* context, const rpc::PushManyRequest* request,
                        rpc::PushManyResponse* response) override {
    return Serve(context, [&]() -> Status {
      for (const rpc::PushRequest& one : request->tables()) {
        rpc::TableOutcome* outcome = response->add_tables();
        outcome->set_table(one.table());
        Status s = CheckDense("PushMany", one.table());
        SetOutcome(s.ok() ? PushTable(one) : s, outcome);
      }
      return OkStatus();
    });
  }

  grpc::Status Save(grpc::ServerContext* context, const rpc::SaveRequest* request,
                    rpc::SaveResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(std::string dir, ClientDir("Save", request->dir()));
      COLONY_ASSIGN_OR_RETURN(int tables, SaveTables(dir));
      response->set_tables(tables);
      return OkStatus();
    });
  }

  grpc::Status Load(grpc::ServerContext* context, const rpc::LoadRequest* request,
                    rpc::LoadResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(std::string dir, ClientDir("Load", request->dir()));
      COLONY_ASSIGN_OR_RETURN(int tables, LoadTables(dir));
      response->set_tables(tables);
      return OkStatus();
    });
  }

  // The layout is internal/server_checkpoint.h's: a folder per table, the MANIFEST last.
  StatusOr<int> SaveTables(const std::string& dir) {
    if (dir.empty()) return InvalidArgumentError("Save: dir is empty");
    std::lock_guard<std::mutex> lock(mu_);
    internal::Manifest manifest{.shard = shard_, .num_shards = num_shards_, .tables = {}};
    for (const auto& [name, table] : tables_) {
      const std::string sub = dir + "/" + name;
      COLONY_RETURN_IF_ERROR(MakeDirs(sub));
      COLONY_RETURN_IF_ERROR(internal::WriteTableSpec(sub, table->spec));
      COLONY_RETURN_IF_ERROR(table->sparse ? table->sparse->Save(sub)
                                           : table->dense->Save(sub, "dense"));
      manifest.tables.push_back(name);
    }
    COLONY_RETURN_IF_ERROR(MakeDirs(dir));
    COLONY_RETURN_IF_ERROR(internal::WriteManifest(dir, manifest));
    return static_cast<int>(tables_.size());
  }

  StatusOr<int> LoadTables(const std::string& dir) {
    COLONY_ASSIGN_OR_RETURN(internal::Manifest manifest, internal::ReadManifest(dir));
    std::vector<internal::ShareTable> tables;
    for (const std::string& name : manifest.tables) {
      internal::ShareTable table;
      COLONY_ASSIGN_OR_RETURN(table.spec, internal::ReadTableSpec(dir + "/" + name, name));
      table.dirs = {dir + "/" + name};
      tables.push_back(std::move(table));
    }
    return Install(tables);
  }

  StatusOr<int> LoadJobCheckpoint(const std::string& job_dir) {
    COLONY_ASSIGN_OR_RETURN(std::vector<internal::ShareTable> share,
                            internal::PlanShare(job_dir, shard_, num_shards_));
    return Install(share);
  }

  grpc::Status Stats(grpc::ServerContext* context, const rpc::StatsRequest*,
                     rpc::StatsResponse* response) override {
    return Serve(context, [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [name, table] : tables_) {
        rpc::TableStats* t = response->add_tables();
        t->set_name(name);
        t->set_sparse(table->sparse != nullptr);
        t->set_rows(table->sparse ? table->sparse->size() : table->dense->size());
        t->set_dim(table->sparse ? table->sparse->dim() : 1);
        if (table->sparse) t->set_ssd_rows(table->sparse->ssd_rows());
      }
      response->set_requests(requests_);
      response->set_bytes_in(bytes_in_);
      response->set_bytes_out(bytes_out_);
      return OkStatus();
    });
  }

  grpc::Status Barrier(grpc::ServerContext* context, const rpc::BarrierRequest* request,
                       rpc::BarrierResponse*) override {
    return Serve(context, [&]() -> Status {
      auto deadline = context->deadline();
      if (request->timeout_ms() > 0) {
        deadline = std::min(deadline, std::chrono::system_clock::now() +
                                          std::chrono::milliseconds(request->timeout_ms()));
      }
      return barriers_.Arrive(request->name(), request->workers(), deadline,
                              [context] { return context->IsCancelled(); });
    });
  }

  grpc::Status EndPass(grpc::ServerContext* context, const rpc::EndPassRequest* request,
                       rpc::EndPassResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(Table * table, Find(request->table()));
      if (!table->sparse) {
        return InvalidArgumentError("EndPass: '" + request->table() + "' is a dense table");
      }
      COLONY_ASSIGN_OR_RETURN(int64_t evicted, table->sparse->EndPass());
      response->set_evicted(evicted);
      return OkStatus();
    });
  }

  grpc::Status Health(grpc::ServerContext* context, const rpc::HealthRequest*,
                      rpc::HealthResponse* response) override {
    return Serve(context, [&]() -> Status {
      response->set_status("serving");
      return OkStatus();
    });
  }

 private:
  // A directory a client named, under the checkpoint root.
  StatusOr<std::string> ClientDir(const std::string& method, const std::string& dir) const {
    StatusOr<std::string> confined =
        colony::rpc::ConfinedPath(checkpoint_root_, dir, "--checkpoint-root");
    if (!confined.ok()) return confined.status().WithContext(method);
    return confined;
  }

  // Makes the tables of `share` from their files (rows filtered to this shard where asked),
  // then puts them in place of any of the same names; returns how many.
  StatusOr<int> Install(const std::vector<internal::ShareTable>& share) {
    std::map<std::string, std::unique_ptr<Table>> loaded;
    const auto mine = [this](uint64_t id) { return ShardOfId(id, num_shards_) == shard_; };
    for (const internal::ShareTable& one : share) {
      COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, MakeTable(one.spec));
      if (table->sparse) {
        COLONY_RETURN_IF_ERROR(table->sparse->LoadFrom(
            one.dirs, one.filter ? std::function<bool(uint64_t)>(mine) : nullptr));
      } else {
        COLONY_RETURN_IF_ERROR(table->dense->Load(one.dirs.at(0), "dense"));
      }
      loaded[one.spec.table()] = std::move(table);
    }
    const int count = static_cast<int>(loaded.size());
    std::vector<std::unique_ptr<Table>> replaced;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [name, table] : loaded) {
        std::unique_ptr<Table>& slot = tables_[name];
        if (slot != nullptr) replaced.push_back(std::move(slot));
        slot = std::move(table);
      }
    }
    // A replaced table's SSD folder goes once its RocksDB is closed.
    for (std::unique_ptr<Table>& old : replaced) {
      const std::string folder = old->ssd_folder;
      old.reset();
      std::error_code ignored;
      if (!folder.empty()) std::filesystem::remove_all(folder, ignored);
    }
    return count;
  }

  // The values of a dense table, or the rows of `request.ids` of a sparse one, into `rows`.
  Status PullTable(const rpc::PullRequest& request, std::string* rows) {
    COLONY_ASSIGN_OR_RETURN(Table * table, Find(request.table()));
    if (table->sparse) {
      const auto& ids = request.ids();
      rows->resize(size_t{4} * ids.size() * table->sparse->dim());
      PullOptions options;
      options.create_missing = request.create_missing();
      COLONY_RETURN_IF_ERROR(table->sparse->Pull(
          options, std::span<const uint64_t>(ids.data(), ids.size()),
          std::span<float>(reinterpret_cast<float*>(rows->data()), rows->size() / 4)));
    } else {
      rows->resize(size_t{4} * table->dense->size());
      COLONY_RETURN_IF_ERROR(table->dense->Pull(
          std::span<float>(reinterpret_cast<float*>(rows->data()), rows->size() / 4)));
    }
    bytes_out_ += static_cast<int64_t>(rows->size());
    return OkStatus();
  }

  // One push: an optimizer step (synchronous when asked), geo deltas, or assigned values.
  Status PushTable(const rpc::PushRequest& request) {
    COLONY_ASSIGN_OR_RETURN(Table * table, Find(request.table()));
    const std::string& bytes = request.grads();
    bytes_in_ += static_cast<int64_t>(bytes.size());
    if (bytes.size() % 4 != 0) {
      return InvalidArgumentError("Push: grads has " + std::to_string(bytes.size()) +
                                  " bytes, not a whole number of float32 values");
    }
    // Copied out of the message: its bytes need not be aligned for float.
    std::vector<float> grads(bytes.size() / 4);
    // An empty vector's data() may be null, which memcpy must not be given.
    if (!bytes.empty()) std::memcpy(grads.data(), bytes.data(), bytes.size());
    const auto& ids = request.ids();
    const std::span<const uint64_t> id_span(ids.data(), ids.size());
    if (table->sparse) {
      if (request.assign()) {
        return InvalidArgumentError("Push: assign is for dense tables; '" + request.table() +
                                    "' is sparse");
      }
      COLONY_RETURN_IF_ERROR(
          internal::CheckRowFloats("Push: grads", grads.size(), ids.size(), table->sparse->dim()));
    }
    if (request.add()) {
      if (request.assign() || request.sync_workers() > 0) {
        return InvalidArgumentError("Push: add excludes assign and sync_workers");
      }
      return table->sparse ? table->sparse->Add(id_span, grads) : table->dense->Add(grads);
    }
    if (request.sync_workers() > 0) {
      if (request.assign()) return InvalidArgumentError("Push: assign cannot be synchronous");
      return table->sync.Add(request.step(), request.sync_workers(), !table->sparse, id_span, grads,
                             [&](auto sum_ids, auto sum_grads) {
                               return table->sparse ? table->sparse->Push(sum_ids, sum_grads)
                                                    : table->dense->Push(sum_grads);
                             });
    }
    if (table->sparse) return table->sparse->Push(id_span, grads);
    return request.assign() ? table->dense->Init(grads) : table->dense->Push(grads);
  }

  // OK when `name` is a dense table here: PullMany and PushMany take only those.
  Status CheckDense(const std::string& method, const std::string& name) {
    COLONY_ASSIGN_OR_RETURN(Table * table, Find(name));
    if (table->sparse) {
      return InvalidArgumentError(method + ": table '" + name +
                                  "' is sparse; PullMany and PushMany take dense tables only");
    }
    return OkStatus();
  }

  // One table's result in a PullMany/PushMany answer; its message names the table.
  static void SetOutcome(const Status& status, rpc::TableOutcome* outcome) {
    if (status.ok()) return;
    outcome->clear_rows();
    outcome->set_code(static_cast<int>(status.code()));
    const std::string name = "'" + outcome->table() + "'";
    const bool named = status.message().find(name) != std::string_view::npos;
    outcome->set_message(
        std::string((named ? status : status.WithContext("table " + name)).message()));
  }

  void InjectDelay() const {
    if (inject_delay_ms_ > 0) {  // Tests and benchmarks only: the answer travels late.
      std::this_thread::sleep_for(std::chrono::milliseconds(inject_delay_ms_));
    }
  }

  StatusOr<std::unique_ptr<Table>> MakeTable(const rpc::CreateTableRequest& spec) const {
    // Also checked here for specs read from checkpoints: the name becomes an SSD folder.
    COLONY_RETURN_IF_ERROR(CheckTableName(spec.table()));
    auto table = std::make_unique<Table>();
    table->spec = spec;
    if (spec.sparse()) {
      SparseTableOptions o;
      o.dim = spec.dim();
      o.optimizer = FromProto(spec.optimizer());
      o.initializer = FromProto(spec.initializer());
      o.seed = spec.seed();
      if (spec.admit_count() > 0) o.admit_count = spec.admit_count();
      if (spec.admit_probability() > 0) o.admit_probability = spec.admit_probability();
      o.ttl_passes = spec.ttl_passes();
      o.memory_rows = spec.memory_rows();
      if (o.memory_rows > 0) {
        if (ssd_dir_.empty()) {
          return FailedPreconditionError("table '" + spec.table() +
                                         "' wants an SSD tier (memory_rows " +
                                         std::to_string(o.memory_rows) +
                                         ") but this server has none; start it with --ssd-dir");
        }
        // The first table of a name uses <ssd_dir>/<name>; one loaded to replace it while it
        // lives gets a folder of its own ('@' is not in table names), as the live table's
        // RocksDB still holds the first.
        int generation = 0;
        {
          std::lock_guard<std::mutex> lock(ssd_mu_);
          generation = ssd_generations_[spec.table()]++;
        }
        o.ssd_dir = ssd_dir_ + "/" + spec.table();
        if (generation > 0) o.ssd_dir.append("@").append(std::to_string(generation));
        table->ssd_folder = o.ssd_dir;
      }
      COLONY_ASSIGN_OR_RETURN(table->sparse, SparseTable::Create(o));
    } else {
      DenseTableOptions o;
      o.size = spec.size();
      o.optimizer = FromProto(spec.optimizer());
      COLONY_ASSIGN_OR_RETURN(table->dense, DenseTable::Create(o));
    }
    return table;
  }

  // Counts the call, then checks the token and runs `body` (colony::rpc::Serve).
  template <typename Body>
  grpc::Status Serve(grpc::ServerContext* context, Body&& body) {
    ++requests_;
    return colony::rpc::Serve(context, token_, std::forward<Body>(body));
  }

  StatusOr<Table*> Find(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      return NotFoundError("table '" + name + "' does not exist on this server; create it first");
    }
    return it->second.get();
  }

  const std::string token_;
  const std::string ssd_dir_;
  const std::string checkpoint_root_;
  const int shard_, num_shards_;
  mutable std::mutex ssd_mu_;  // Guards ssd_generations_.
  // SSD-tier tables made per name, so that a replacement gets a folder of its own.
  mutable std::map<std::string, int> ssd_generations_;
  std::mutex mu_;  // Guards tables_ (the map; each table is thread-safe itself).
  std::map<std::string, std::unique_ptr<Table>> tables_;
  internal::BarrierSet barriers_;
  std::atomic<int64_t> requests_{0}, bytes_in_{0}, bytes_out_{0};
  int inject_delay_ms_;
};

class GrpcPsServer final : public PsServer {
 public:
  GrpcPsServer(std::unique_ptr<Service> service, std::unique_ptr<colony::rpc::Server> server)
      : service_(std::move(service)), server_(std::move(server)) {}
  ~GrpcPsServer() override { Shutdown(); }
  int port() const override { return server_->port(); }
  StatusOr<int> SaveTables(const std::string& dir) override { return service_->SaveTables(dir); }
  StatusOr<int> LoadTables(const std::string& dir) override { return service_->LoadTables(dir); }
  StatusOr<int> LoadJobCheckpoint(const std::string& job_dir) override {
    return service_->LoadJobCheckpoint(job_dir);
  }
  void Wait() override { server_->Wait(); }
  void Shutdown() override { server_->Shutdown(); }

 private:
  std::unique_ptr<Service> service_;
  std::unique_ptr<colony::rpc::Server> server_;
};

}  // namespace

StatusOr<std::unique_ptr<PsServer>> PsServer::Start(const PsServerOptions& options) {
  if (options.inject_delay_ms < 0) {
    return InvalidArgumentError("inject_delay_ms must be >= 0, got " +
                                std::to_string(options.inject_delay_ms));
  }
  if (options.num_shards < 1 || options.shard < 0 || options.shard >= options.num_shards) {
    return InvalidArgumentError("shard must be in [0, num_shards), got " +
                                std::to_string(options.shard) + " of " +
                                std::to_string(options.num_shards));
  }
  auto service = std::make_unique<Service>(options);
  colony::rpc::ServerOptions server_options;
  server_options.name = "parameter server";
  server_options.address = options.address;
  server_options.tls.cert_file = options.tls_cert_file;
  server_options.tls.key_file = options.tls_key_file;
  server_options.token = options.token;
  server_options.plaintext = options.plaintext;
  server_options.limits = options.limits;
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<colony::rpc::Server> server,
      colony::rpc::StartServer(server_options,
                               {{service.get(), rpc::ParameterServer::service_full_name()}}));
  return std::unique_ptr<PsServer>(new GrpcPsServer(std::move(service), std::move(server)));
}

std::string ServerCheckpointDir(const std::string& job_dir, int shard) {
  return job_dir + "/server-" + std::to_string(shard);
}

}  // namespace colony::ps
