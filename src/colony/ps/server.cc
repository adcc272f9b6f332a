#include "colony/ps/server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "colony/base/file_util.h"
#include "colony/ps.grpc.pb.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/internal/barrier.h"
#include "colony/ps/internal/row_math.h"
#include "colony/ps/internal/rpc_convert.h"
#include "colony/ps/internal/sync_accumulator.h"
#include "colony/ps/sparse_table.h"
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
};

// Table names become folder names in checkpoints: letters, digits, '_', '-', '.'.
Status CheckTableName(const std::string& name) {
  const bool valid =
      !name.empty() && name != "." && name != ".." &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (valid) return OkStatus();
  return InvalidArgumentError("table name '" + name +
                              "' must be non-empty letters, digits, '_', '-' or '.'");
}

class Service final : public rpc::ParameterServer::Service {
 public:
  Service(std::string token, std::string ssd_dir, int inject_delay_ms)
      : token_(std::move(token)), ssd_dir_(std::move(ssd_dir)), inject_delay_ms_(inject_delay_ms) {}

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
            have.optimizer().name() != request->optimizer().name()) {
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
      COLONY_ASSIGN_OR_RETURN(int tables, SaveTables(request->dir()));
      response->set_tables(tables);
      return OkStatus();
    });
  }

  grpc::Status Load(grpc::ServerContext* context, const rpc::LoadRequest* request,
                    rpc::LoadResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(int tables, LoadTables(request->dir()));
      response->set_tables(tables);
      return OkStatus();
    });
  }

  // dir/<table>/spec.bin holds the CreateTableRequest, dir/<table>/ the table's files;
  // dir/MANIFEST, written last, lists the tables.
  StatusOr<int> SaveTables(const std::string& dir) {
    if (dir.empty()) return InvalidArgumentError("Save: dir is empty");
    std::lock_guard<std::mutex> lock(mu_);
    std::string manifest;
    for (const auto& [name, table] : tables_) {
      const std::string sub = dir + "/" + name;
      COLONY_RETURN_IF_ERROR(MakeDirs(sub));
      COLONY_RETURN_IF_ERROR(WriteFileAtomic(sub + "/spec.bin", table->spec.SerializeAsString()));
      COLONY_RETURN_IF_ERROR(table->sparse ? table->sparse->Save(sub)
                                           : table->dense->Save(sub, "dense"));
      manifest += name + "\n";
    }
    COLONY_RETURN_IF_ERROR(MakeDirs(dir));
    COLONY_RETURN_IF_ERROR(WriteFileAtomic(dir + "/MANIFEST", manifest));
    return static_cast<int>(tables_.size());
  }

  StatusOr<int> LoadTables(const std::string& dir) {
    COLONY_ASSIGN_OR_RETURN(std::string manifest, ReadFile(dir + "/MANIFEST"));
    std::map<std::string, std::unique_ptr<Table>> loaded;
    std::stringstream lines(manifest);
    for (std::string name; std::getline(lines, name);) {
      if (name.empty()) continue;
      const std::string sub = dir + "/" + name;
      COLONY_ASSIGN_OR_RETURN(std::string spec_bytes, ReadFile(sub + "/spec.bin"));
      rpc::CreateTableRequest spec;
      if (!spec.ParseFromString(spec_bytes)) {
        return DataLossError(sub + "/spec.bin: not a table spec");
      }
      COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Table> table, MakeTable(spec));
      COLONY_RETURN_IF_ERROR(table->sparse ? table->sparse->Load(sub)
                                           : table->dense->Load(sub, "dense"));
      loaded[name] = std::move(table);
    }
    std::lock_guard<std::mutex> lock(mu_);
    const int count = static_cast<int>(loaded.size());
    for (auto& [name, table] : loaded) tables_[name] = std::move(table);
    return count;
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
    std::memcpy(grads.data(), bytes.data(), bytes.size());
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
        o.ssd_dir = ssd_dir_ + "/" + spec.table();
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
  auto service = std::make_unique<Service>(options.token, options.ssd_dir, options.inject_delay_ms);
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

}  // namespace colony::ps
