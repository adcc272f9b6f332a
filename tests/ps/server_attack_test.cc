// A parameter server attacked as a careless or hostile client would: every method without or
// with a wrong token, requests over the size limit, malformed bytes; after each attack the
// server still answers the standard health check and real work.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>

#include "colony/ps.grpc.pb.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/rpc/channel.h"
#include "colony/rpc/health.h"
#include "colony/rpc/token.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

class PsServerAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PsServerOptions o;
    o.token = "s3cret";
    o.limits.max_receive_message_bytes = 1 << 20;
    auto server = PsServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    channel_ = colony::rpc::MakeChannel(address_, {}).value();
    stub_ = rpc::ParameterServer::NewStub(channel_);
    RemoteTableOptions remote;
    remote.servers = {address_};
    remote.table = "emb";
    remote.token = "s3cret";
    SparseTableOptions table;
    table.dim = 4;
    auto emb = ConnectSparseTable(remote, table);
    ASSERT_TRUE(emb.ok()) << emb.status();
    table_ = std::move(emb).value();
  }

  // The server answers the standard health check and a real Pull.
  void ExpectHealthy() {
    COLONY_ASSERT_OK_AND_ASSIGN(colony::rpc::HealthState state, colony::rpc::CheckHealth(channel_));
    EXPECT_EQ(state, colony::rpc::HealthState::kServing);
    std::vector<float> row(4);
    COLONY_EXPECT_OK(table_->Pull({}, std::vector<uint64_t>{7}, row));
  }

  grpc::Status Push(const rpc::PushRequest& request, const std::string& token = "s3cret") {
    grpc::ClientContext context;
    colony::rpc::AddToken(&context, token);
    rpc::PushResponse response;
    return stub_->Push(&context, request, &response);
  }

  std::unique_ptr<PsServer> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rpc::ParameterServer::Stub> stub_;
  std::unique_ptr<SparseTable> table_;
};

TEST_F(PsServerAttackTest, EveryMethodRefusesMissingAndWrongTokens) {
  using Call = std::function<grpc::Status(grpc::ClientContext*)>;
  auto* s = stub_.get();
  const std::vector<std::pair<std::string, Call>> methods = {
      {"CreateTable",
       [&](auto* c) {
         rpc::CreateTableRequest r;
         r.set_table("other");
         r.set_sparse(true);
         r.set_dim(2);
         rpc::CreateTableResponse out;
         return s->CreateTable(c, r, &out);
       }},
      {"Pull",
       [&](auto* c) {
         rpc::PullRequest r;
         r.set_table("emb");
         rpc::PullResponse out;
         return s->Pull(c, r, &out);
       }},
      {"Push",
       [&](auto* c) {
         rpc::PushRequest r;
         r.set_table("emb");
         rpc::PushResponse out;
         return s->Push(c, r, &out);
       }},
      {"PullMany", [&](auto* c) { rpc::PullManyResponse out; return s->PullMany(c, {}, &out); }},
      {"PushMany", [&](auto* c) { rpc::PushManyResponse out; return s->PushMany(c, {}, &out); }},
      {"Save",
       [&](auto* c) {
         rpc::SaveRequest r;
         rpc::SaveResponse out;
         return s->Save(c, r, &out);
       }},
      {"Load",
       [&](auto* c) {
         rpc::LoadRequest r;
         rpc::LoadResponse out;
         return s->Load(c, r, &out);
       }},
      {"Stats", [&](auto* c) { rpc::StatsResponse out; return s->Stats(c, {}, &out); }},
      {"Barrier",
       [&](auto* c) {
         rpc::BarrierRequest r;
         r.set_name("b");
         r.set_workers(1);
         rpc::BarrierResponse out;
         return s->Barrier(c, r, &out);
       }},
      {"EndPass",
       [&](auto* c) {
         rpc::EndPassRequest r;
         r.set_table("emb");
         rpc::EndPassResponse out;
         return s->EndPass(c, r, &out);
       }},
      {"Health", [&](auto* c) { rpc::HealthResponse out; return s->Health(c, {}, &out); }},
  };
  for (const auto& [name, call] : methods) {
    for (const std::string token : {"", "guess", "s3cret ", "S3CRET", "s3cre"}) {
      grpc::ClientContext context;
      colony::rpc::AddToken(&context, token);
      const grpc::Status status = call(&context);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << name << " with token '" << token << "': " << status.error_message();
    }
  }
  ExpectHealthy();
  COLONY_ASSERT_OK_AND_ASSIGN(ServerStats stats, QueryServerStats(address_, "s3cret"));
  EXPECT_EQ(stats.tables.size(), 1u);
}

TEST_F(PsServerAttackTest, RequestsOverTheLimitAreRefusedBeforeTheHandler) {
  rpc::PushRequest big;
  big.set_table("emb");
  for (uint64_t id = 0; id < 65536; ++id) big.add_ids(id);
  big.set_grads(std::string(size_t{4} * 4 * 65536, '\0'));  // 1 MiB of gradients + the ids.
  const grpc::Status status = Push(big);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  // Without a token too: the limit applies before anything else.
  EXPECT_EQ(Push(big, "").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectHealthy();
}

TEST_F(PsServerAttackTest, MalformedBytesAreRefused) {
  rpc::PushRequest odd;
  odd.set_table("emb");
  odd.add_ids(1);
  odd.set_grads(std::string(7, '\x7f'));  // Not whole float32 values.
  grpc::Status status = Push(odd);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("not a whole number of float32"));
  odd.set_grads(std::string(4 * 3, '\0'));  // Whole floats, but not ids * dim of them.
  EXPECT_EQ(Push(odd).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A request that is not a protobuf at all never reaches a handler.
  grpc::GenericStub generic(channel_);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  colony::rpc::AddToken(&context, "s3cret");
  const std::string junk = "\xff\xff\xff\xff\x0f garbage";
  grpc::Slice slice(junk);
  grpc::ByteBuffer request(&slice, 1), response;
  auto call = generic.PrepareUnaryCall(&context, "/colony.ps.rpc.ParameterServer/Push", request,
                                       &cq);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  ExpectHealthy();
}

TEST_F(PsServerAttackTest, HealthNamesTheParameterServerService) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      colony::rpc::HealthState state,
      colony::rpc::CheckHealth(channel_, rpc::ParameterServer::service_full_name()));
  EXPECT_EQ(state, colony::rpc::HealthState::kServing);
  EXPECT_THAT(colony::rpc::CheckHealth(channel_, "colony.ps.rpc.NoSuchService"),
              StatusIs(StatusCode::kNotFound, ::testing::_));
}

}  // namespace
}  // namespace colony::ps
