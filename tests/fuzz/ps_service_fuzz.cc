// Fuzzes the parameter-server service over gRPC: a real PsServer on 127.0.0.1 (in this
// process, so a crash in a handler is a crash libFuzzer sees), fed requests parsed from the
// fuzzer's bytes. The first byte picks the method, the rest is that method's request message.
// Properties: no crash; every call ends with a status; the server answers Health afterwards.
//
// Save and Load are left out: they write and read folders the caller names, and a fuzzer must
// not write across the machine (their path handling has its own tests). Sizes that would make
// the server allocate gigabytes on purpose (dense tables of 2^31 floats, wide rows times many
// ids) are scaled down so that the process stays inside libFuzzer's memory limit; the limits
// themselves are tested in tests/ps/server_test.cc.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "colony/ps.grpc.pb.h"
#include "colony/ps/server.h"
#include "fuzz/fuzz_util.h"

namespace colony::fuzz {
namespace {

namespace rpc = ::colony::ps::rpc;

constexpr int kInputsPerServer = 2000;  // A fresh server now and then bounds memory use.
constexpr int64_t kMaxDenseSize = 1 << 16;
constexpr int kMaxDim = 256;
constexpr int kMaxIds = 4096;

class Harness {
 public:
  rpc::ParameterServer::Stub& stub() {
    if (server_ == nullptr || ++inputs_ > kInputsPerServer) Restart();
    return *stub_;
  }

 private:
  void Restart() {
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    const std::string ssd = ScratchDir() + "/ssd";
    std::filesystem::remove_all(ssd);
    std::filesystem::create_directories(ssd);
    StatusOr<std::unique_ptr<ps::PsServer>> server =
        ps::PsServer::Start({.address = "127.0.0.1:0", .ssd_dir = ssd});
    FUZZ_CHECK(server.ok());
    server_ = std::move(server).value();
    stub_ = rpc::ParameterServer::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    inputs_ = 0;
  }

  std::unique_ptr<ps::PsServer> server_;
  std::unique_ptr<rpc::ParameterServer::Stub> stub_;
  int inputs_ = 0;
};

// Scales down what would allocate gigabytes by design (see the file comment).
void Bound(rpc::CreateTableRequest* r) {
  if (r->size() > kMaxDenseSize && r->size() < (int64_t{1} << 31)) r->set_size(kMaxDenseSize);
  if (r->dim() > kMaxDim) r->set_dim(kMaxDim);
  if (r->memory_rows() > 1000) r->set_memory_rows(1000);
}
void Bound(rpc::PullRequest* r) {
  if (r->ids_size() > kMaxIds) r->mutable_ids()->Truncate(kMaxIds);
}
void Bound(rpc::PushRequest* r) {
  if (r->ids_size() > kMaxIds) r->mutable_ids()->Truncate(kMaxIds);
  // Synchronous pushes wait for the other workers; one is enough to finish a step.
  if (r->sync_workers() > 1) r->set_sync_workers(1);
}
void Bound(rpc::PullManyRequest* r) {
  for (rpc::PullRequest& t : *r->mutable_tables()) Bound(&t);
}
void Bound(rpc::PushManyRequest* r) {
  for (rpc::PushRequest& t : *r->mutable_tables()) Bound(&t);
}
void Bound(rpc::BarrierRequest* r) {
  if (r->timeout_ms() > 20 || r->timeout_ms() <= 0) r->set_timeout_ms(20);
}
template <typename Request>
void Bound(Request*) {}

// Parses `bytes` as a Request and sends it with `method`; false when they do not parse.
template <typename Request, typename Response>
bool Call(std::string_view bytes,
          grpc::Status (rpc::ParameterServer::Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
          rpc::ParameterServer::Stub& stub) {
  Request request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  Bound(&request);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  Response response;
  const auto start = std::chrono::steady_clock::now();
  (stub.*method)(&context, request, &response).error_code();  // Any status is an answer.
  // A handler that hangs shows as a call that took the whole deadline; one that dies, as a
  // crash of this process.
  FUZZ_CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  return true;
}

}  // namespace
}  // namespace colony::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony::fuzz;
  using Stub = rpc::ParameterServer::Stub;
  static Harness* harness = new Harness();
  if (size < 1) return 0;
  Stub& stub = harness->stub();
  const std::string_view bytes = AsText(data + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      Call(bytes, &Stub::CreateTable, stub);
      break;
    case 1:
      Call(bytes, &Stub::Pull, stub);
      break;
    case 2:
      Call(bytes, &Stub::Push, stub);
      break;
    case 3:
      Call(bytes, &Stub::PullMany, stub);
      break;
    case 4:
      Call(bytes, &Stub::PushMany, stub);
      break;
    case 5:
      Call(bytes, &Stub::Stats, stub);
      break;
    case 6:
      Call(bytes, &Stub::Barrier, stub);
      break;
    case 7:
      Call(bytes, &Stub::EndPass, stub);
      break;
    case 8:
      Call(bytes, &Stub::Health, stub);
      break;
  }
  rpc::HealthResponse health;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  FUZZ_CHECK(stub.Health(&context, rpc::HealthRequest(), &health).ok());
  return 0;
}
