#include "colony/retrieval/server.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "colony/retrieval.grpc.pb.h"
#include "colony/rpc/channel.h"
#include "colony/rpc/grpc_status.h"
#include "colony/rpc/serve.h"
#include "colony/rpc/server.h"
#include "colony/rpc/token.h"

namespace colony::retrieval {
namespace {

// Packed float32 rows, copied out of the message (its bytes need not be aligned for float).
StatusOr<std::vector<float>> Floats(const std::string& bytes, int64_t dim, const char* field) {
  if (bytes.size() % (4 * static_cast<size_t>(dim)) != 0) {
    return InvalidArgumentError(std::string(field) + " has " + std::to_string(bytes.size()) +
                                " bytes, not whole rows of " + std::to_string(dim) +
                                " float32 values");
  }
  std::vector<float> values(bytes.size() / 4);
  if (!bytes.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

class Service final : public rpc::Retrieval::Service {
 public:
  Service(const RetrievalServerOptions& options, std::shared_ptr<TreeIndex> index)
      : options_(options), index_(std::move(index)) {}

  grpc::Status Search(grpc::ServerContext* context, const rpc::SearchRequest* request,
                      rpc::SearchResponse* response) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(std::vector<float> queries,
                              Floats(request->queries(), index_->dim(), "Search: queries"));
      QueryOptions q = options_.defaults;
      if (request->k() != 0) q.k = request->k();
      if (request->beam() != 0) q.beam = request->beam();
      if (request->scan_leaves() != 0) q.scan_leaves = request->scan_leaves();
      q.num_threads = 1;
      COLONY_ASSIGN_OR_RETURN(SearchResults r, index_->Search(q, queries));
      response->set_k(r.k);
      response->mutable_ids()->Add(r.ids.begin(), r.ids.end());
      response->set_distances(
          std::string(reinterpret_cast<const char*>(r.distances.data()), 4 * r.distances.size()));
      return OkStatus();
    });
  }

  grpc::Status Insert(grpc::ServerContext* context, const rpc::InsertRequest* request,
                      rpc::InsertResponse*) override {
    return Serve(context, [&]() -> Status {
      COLONY_ASSIGN_OR_RETURN(std::vector<float> vectors,
                              Floats(request->vectors(), index_->dim(), "Insert: vectors"));
      const int64_t dim = index_->dim();
      if (static_cast<int64_t>(vectors.size()) != request->ids_size() * dim) {
        return InvalidArgumentError("Insert: " + std::to_string(request->ids_size()) + " ids but " +
                                    std::to_string(vectors.size() / dim) + " vectors");
      }
      for (int i = 0; i < request->ids_size(); ++i) {
        COLONY_RETURN_IF_ERROR(index_->Insert(
            request->ids(i),
            std::span<const float>(vectors.data() + i * dim, static_cast<size_t>(dim))));
      }
      return OkStatus();
    });
  }

  grpc::Status Remove(grpc::ServerContext* context, const rpc::RemoveRequest* request,
                      rpc::RemoveResponse*) override {
    return Serve(context, [&]() -> Status {
      for (uint64_t id : request->ids()) COLONY_RETURN_IF_ERROR(index_->Remove(id));
      return OkStatus();
    });
  }

  grpc::Status Health(grpc::ServerContext* context, const rpc::HealthRequest*,
                      rpc::HealthResponse* response) override {
    return Serve(context, [&]() -> Status {
      response->set_status("serving");
      response->set_items(index_->size());
      response->set_dim(static_cast<int32_t>(index_->dim()));
      response->set_trees(index_->num_trees());
      response->set_requests(requests_);
      return OkStatus();
    });
  }

  int64_t requests() const { return requests_; }

 private:
  // Counts the call, then checks the token and runs `body` (colony::rpc::Serve).
  template <typename Body>
  grpc::Status Serve(grpc::ServerContext* context, Body&& body) {
    ++requests_;
    return colony::rpc::Serve(context, options_.token, std::forward<Body>(body));
  }

  const RetrievalServerOptions options_;
  std::shared_ptr<TreeIndex> index_;
  std::atomic<int64_t> requests_{0};
};

class GrpcRetrievalServer final : public RetrievalServer {
 public:
  GrpcRetrievalServer(std::unique_ptr<Service> service,
                      std::unique_ptr<colony::rpc::Server> server)
      : service_(std::move(service)), server_(std::move(server)) {}
  ~GrpcRetrievalServer() override { Shutdown(); }
  int port() const override { return server_->port(); }
  int64_t requests() const override { return service_->requests(); }
  void Shutdown() override { server_->Shutdown(); }

 private:
  std::unique_ptr<Service> service_;
  std::unique_ptr<colony::rpc::Server> server_;
};

class GrpcRetrievalClient final : public RetrievalClient {
 public:
  GrpcRetrievalClient(std::shared_ptr<grpc::Channel> channel, std::string token, int deadline_ms)
      : stub_(rpc::Retrieval::NewStub(channel)),
        token_(std::move(token)),
        deadline_ms_(deadline_ms) {}

  StatusOr<SearchResults> Search(const QueryOptions& options,
                                 std::span<const float> queries) override {
    rpc::SearchRequest request;
    request.set_queries(
        std::string(reinterpret_cast<const char*>(queries.data()), 4 * queries.size()));
    request.set_k(options.k);
    request.set_beam(options.beam);
    request.set_scan_leaves(options.scan_leaves);
    rpc::SearchResponse response;
    COLONY_RETURN_IF_ERROR(
        Call([&](grpc::ClientContext* c) { return stub_->Search(c, request, &response); }));
    SearchResults r;
    r.k = response.k();
    r.ids.assign(response.ids().begin(), response.ids().end());
    r.num_queries = r.k == 0 ? 0 : static_cast<int64_t>(r.ids.size()) / r.k;
    r.distances.resize(r.ids.size());
    if (response.distances().size() != 4 * r.ids.size()) {
      return InternalError("Search: the response has " + std::to_string(r.ids.size()) +
                           " ids but " + std::to_string(response.distances().size()) +
                           " distance bytes");
    }
    if (!r.distances.empty()) {
      std::memcpy(r.distances.data(), response.distances().data(), response.distances().size());
    }
    return r;
  }

  Status Insert(std::span<const uint64_t> ids, std::span<const float> vectors) override {
    rpc::InsertRequest request;
    request.mutable_ids()->Add(ids.begin(), ids.end());
    request.set_vectors(
        std::string(reinterpret_cast<const char*>(vectors.data()), 4 * vectors.size()));
    rpc::InsertResponse response;
    return Call([&](grpc::ClientContext* c) { return stub_->Insert(c, request, &response); });
  }

  Status Remove(std::span<const uint64_t> ids) override {
    rpc::RemoveRequest request;
    request.mutable_ids()->Add(ids.begin(), ids.end());
    rpc::RemoveResponse response;
    return Call([&](grpc::ClientContext* c) { return stub_->Remove(c, request, &response); });
  }

  StatusOr<HealthInfo> Health() override {
    rpc::HealthResponse response;
    COLONY_RETURN_IF_ERROR(Call(
        [&](grpc::ClientContext* c) { return stub_->Health(c, rpc::HealthRequest(), &response); }));
    return HealthInfo{response.status(), response.items(), response.dim(), response.trees(),
                      response.requests()};
  }

 private:
  template <typename Rpc>
  Status Call(Rpc&& rpc) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(deadline_ms_));
    colony::rpc::AddToken(&context, token_);
    return colony::rpc::FromGrpcStatus(rpc(&context));
  }

  std::unique_ptr<rpc::Retrieval::Stub> stub_;
  const std::string token_;
  const int deadline_ms_;
};

}  // namespace

StatusOr<std::unique_ptr<RetrievalServer>> RetrievalServer::Start(
    const RetrievalServerOptions& options, std::shared_ptr<TreeIndex> index) {
  COLONY_RETURN_IF_ERROR(options.defaults.Validate());
  if (index == nullptr) return InvalidArgumentError("RetrievalServer::Start: no index");
  auto service = std::make_unique<Service>(options, std::move(index));
  colony::rpc::ServerOptions server_options;
  server_options.name = "retrieval server";
  server_options.address = options.address;
  server_options.tls.cert_file = options.tls_cert_file;
  server_options.tls.key_file = options.tls_key_file;
  server_options.token = options.token;
  server_options.plaintext = options.plaintext;
  server_options.limits = options.limits;
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<colony::rpc::Server> server,
      colony::rpc::StartServer(server_options,
                               {{service.get(), rpc::Retrieval::service_full_name()}}));
  return std::unique_ptr<RetrievalServer>(
      new GrpcRetrievalServer(std::move(service), std::move(server)));
}

StatusOr<std::unique_ptr<RetrievalClient>> RetrievalClient::Connect(
    const std::string& address, const RetrievalClientOptions& options) {
  if (address.empty()) return InvalidArgumentError("retrieval client: empty server address");
  colony::rpc::ChannelOptions channel_options;
  channel_options.name = "retrieval client";
  channel_options.tls_ca_file = options.tls_ca_file;
  channel_options.plaintext = options.plaintext;
  COLONY_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                          colony::rpc::MakeChannel(address, channel_options));
  return std::unique_ptr<RetrievalClient>(
      new GrpcRetrievalClient(std::move(channel), options.token, options.deadline_ms));
}

}  // namespace colony::retrieval
