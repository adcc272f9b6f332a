// The rpc layer against a real server on 127.0.0.1: the token check, exceptions in handlers,
// request limits, the standard health service and the transport rules of StartServer and
// MakeChannel.
#include "colony/rpc/server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <thread>

#include "colony/rpc/channel.h"
#include "colony/rpc/health.h"
#include "colony/rpc/serve.h"
#include "colony/rpc_testing.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "testing/status_matchers.h"

namespace colony::rpc {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;
namespace pb = ::colony::rpc::testing;

class EchoService final : public pb::Echo::Service {
 public:
  explicit EchoService(std::string token) : token_(std::move(token)) {}
  grpc::Status Echo(grpc::ServerContext* context, const pb::EchoRequest* request,
                    pb::EchoResponse* response) override {
    return Serve(context, token_, [&]() -> Status {
      if (request->action() == "throw") throw std::runtime_error(request->payload());
      if (request->action() == "bad_alloc") throw std::bad_alloc();
      if (request->action() == "int") throw 7;
      response->set_payload(request->payload());
      return OkStatus();
    });
  }

 private:
  const std::string token_;
};

class RpcServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options) {
    service_ = std::make_unique<EchoService>(options.token);
    auto server = StartServer(options, {{service_.get(), pb::Echo::service_full_name()}});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  std::shared_ptr<grpc::Channel> Channel(ChannelOptions options = {}) {
    auto channel = MakeChannel(address_, options);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.value_or(nullptr);
  }

  Status Echo(const std::shared_ptr<grpc::Channel>& channel, const std::string& payload,
              const std::string& action = "", const std::string& token = "") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    AddToken(&context, token);
    pb::EchoRequest request;
    request.set_payload(payload);
    request.set_action(action);
    pb::EchoResponse response;
    Status s = FromGrpcStatus(pb::Echo::NewStub(channel)->Echo(&context, request, &response));
    if (s.ok() && response.payload() != payload) return InternalError("echo differs");
    return s;
  }

  std::unique_ptr<EchoService> service_;
  std::unique_ptr<Server> server_;
  std::string address_;
};

TEST_F(RpcServerTest, TokenIsCheckedOnEveryCall) {
  Start({.token = "s3cret"});
  auto channel = Channel();
  EXPECT_THAT(Echo(channel, "x"), StatusIs(StatusCode::kUnauthenticated, HasSubstr("missing token")));
  EXPECT_THAT(Echo(channel, "x", "", "s3creT"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong token")));
  EXPECT_THAT(Echo(channel, "x", "", "s3cret-and-more"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong token")));
  // The token without "Bearer " in front is not accepted either.
  grpc::ClientContext context;
  context.AddMetadata(kAuthorizationKey, "s3cret");
  pb::EchoResponse response;
  EXPECT_EQ(pb::Echo::NewStub(channel)->Echo(&context, pb::EchoRequest(), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  COLONY_EXPECT_OK(Echo(channel, "x", "", "s3cret"));
}

TEST_F(RpcServerTest, ExceptionsInHandlersBecomeInternalAndTheServerKeepsServing) {
  Start({});
  auto channel = Channel();
  EXPECT_THAT(Echo(channel, "the library said no", "throw"),
              StatusIs(StatusCode::kInternal, HasSubstr("the library said no")));
  EXPECT_THAT(Echo(channel, "", "bad_alloc"),
              StatusIs(StatusCode::kInternal, HasSubstr("out of memory")));
  EXPECT_THAT(Echo(channel, "", "int"), StatusIs(StatusCode::kInternal, HasSubstr("unknown type")));
  COLONY_EXPECT_OK(Echo(channel, "still here"));
  COLONY_ASSERT_OK_AND_ASSIGN(HealthState state, CheckHealth(channel));
  EXPECT_EQ(state, HealthState::kServing);
}

TEST_F(RpcServerTest, MessagesOverTheLimitsAreRefused) {
  ServerOptions options;
  options.limits.max_receive_message_bytes = 4096;
  options.limits.max_send_message_bytes = 2048;
  Start(options);
  auto channel = Channel();
  COLONY_EXPECT_OK(Echo(channel, std::string(1000, 'a')));
  // A request over the server's receive limit never reaches the handler.
  EXPECT_THAT(Echo(channel, std::string(8192, 'a')),
              StatusIs(StatusCode::kResourceExhausted, ::testing::_));
  // An answer over its send limit fails the call, not the server.
  EXPECT_THAT(Echo(channel, std::string(3000, 'a')),
              StatusIs(StatusCode::kResourceExhausted, ::testing::_));
  COLONY_EXPECT_OK(Echo(channel, "small"));
  // A channel refuses an answer over its own receive limit.
  ChannelOptions small;
  small.limits.max_receive_message_bytes = 100;
  EXPECT_THAT(Echo(Channel(small), std::string(500, 'a')),
              StatusIs(StatusCode::kResourceExhausted, ::testing::_));
}

TEST_F(RpcServerTest, HealthAnswersWithoutTokenAndTurnsNotServingOnShutdown) {
  Start({.token = "s3cret"});
  auto channel = Channel();
  COLONY_ASSERT_OK_AND_ASSIGN(HealthState whole, CheckHealth(channel));
  EXPECT_EQ(whole, HealthState::kServing);
  COLONY_ASSERT_OK_AND_ASSIGN(HealthState echo, CheckHealth(channel, pb::Echo::service_full_name()));
  EXPECT_EQ(echo, HealthState::kServing);
  EXPECT_THAT(CheckHealth(channel, "no.such.Service"), StatusIs(StatusCode::kNotFound, ::testing::_));

  // A Watch stream sees SERVING, then NOT_SERVING as soon as the shutdown starts.
  namespace health = ::grpc::health::v1;
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = stub->Watch(&context, health::HealthCheckRequest());
  health::HealthCheckResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.status(), health::HealthCheckResponse::SERVING);
  std::thread stopper([&] { server_->Shutdown(); });
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.status(), health::HealthCheckResponse::NOT_SERVING);
  context.TryCancel();  // Ends the stream so the shutdown need not wait out its grace.
  stopper.join();
  EXPECT_FALSE(CheckHealth(channel, "", 1000).ok());  // Down: no answer at all.
}

TEST_F(RpcServerTest, StartRefusesUnsafeOrBrokenTransports) {
  EchoService service("");
  const std::vector<HostedService> services = {{&service, pb::Echo::service_full_name()}};
  auto start = [&](ServerOptions o) { return StartServer(o, services).status(); };
  EXPECT_THAT(start({.name = "ps", .address = "0.0.0.0:0", .token = "t"}),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("ps: 0.0.0.0:0 is not loopback: set --tls-cert and --tls-key")));
  EXPECT_THAT(start({.name = "ps", .address = "0.0.0.0:0", .plaintext = true}),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("not loopback, so every call must carry a token")));
  EXPECT_THAT(start({.tls = {.cert_file = "a.pem"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs both --tls-cert and")));
  EXPECT_THAT(start({.tls = {.client_ca_file = "ca.pem"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--tls-client-ca needs")));
  EXPECT_THAT(start({.name = "ps", .tls = {.cert_file = "no/such.pem", .key_file = "k"}}),
              StatusIs(StatusCode::kNotFound, HasSubstr("ps: --tls-cert: cannot open 'no/such.pem'")));
  ServerOptions bad_limits;
  bad_limits.limits.max_receive_message_bytes = 0;
  EXPECT_THAT(start(bad_limits),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("max_receive_message_bytes")));

  EXPECT_THAT(MakeChannel("192.0.2.1:7001", {.name = "worker"}).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("worker: 192.0.2.1:7001 is not loopback: set --tls-ca")));
  COLONY_EXPECT_OK(MakeChannel("192.0.2.1:7001", {.plaintext = true}).status());
  EXPECT_THAT(MakeChannel("127.0.0.1:1", {.tls_client_cert_file = "c", .tls_client_key_file = "k"})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--tls-client-cert needs --tls-ca")));
}

TEST_F(RpcServerTest, MutualTlsWithAPrivateCa) {
  const std::string dir = ::testing::TempDir() + "/colony_rpc_certs_" + std::to_string(getpid());
  ASSERT_EQ(std::system(("bash scripts/make-certs.sh " + dir + " >/dev/null").c_str()), 0);
  Start({.tls = {.cert_file = dir + "/server.pem",
                 .key_file = dir + "/server.key",
                 .client_ca_file = dir + "/ca.pem"}});
  auto mutual = Channel({.tls_ca_file = dir + "/ca.pem",
                         .tls_client_cert_file = dir + "/client.pem",
                         .tls_client_key_file = dir + "/client.key"});
  COLONY_EXPECT_OK(Echo(mutual, "over tls"));
  // Without a client certificate, or without TLS, the handshake fails.
  EXPECT_THAT(Echo(Channel({.tls_ca_file = dir + "/ca.pem"}), "x"),
              StatusIs(StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(Echo(Channel(), "x"), StatusIs(StatusCode::kUnavailable, ::testing::_));
}

}  // namespace
}  // namespace colony::rpc
