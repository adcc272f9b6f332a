// Party B's service attacked over gRPC: every method without or with a wrong token, a request
// over its size limit, malformed bytes; the standard health check answers after each attack
// and a real session still runs to the end.
#include <gtest/gtest.h>

#include "colony/federated.grpc.pb.h"
#include "colony/federated/vertical.h"
#include "colony/rpc/channel.h"
#include "colony/rpc/health.h"
#include "colony/rpc/token.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

TEST(PartyBAttackTest, RefusesBadCallsAndKeepsServing) {
  VerticalConfig config;
  config.party_a.format = config.party_b.format = "sklearn_diabetes";
  config.party_a.with_label = true;
  config.party_a.columns = {0, 1, 2};
  config.party_b.columns = {3, 4, 5};
  config.train.iterations = 3;
  config.security.token = "b-token";
  PartyBOptions options;
  options.address = "127.0.0.1:0";
  options.limits.max_receive_message_bytes = 64 << 10;
  COLONY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<VerticalPartyB> b,
                              VerticalPartyB::Start(config, options));
  const std::string address = "127.0.0.1:" + std::to_string(b->port());
  auto channel = colony::rpc::MakeChannel(address, {}).value();
  auto stub = rpc::VerticalParty::NewStub(channel);
  auto healthy = [&] {
    COLONY_ASSERT_OK_AND_ASSIGN(colony::rpc::HealthState state, colony::rpc::CheckHealth(channel));
    EXPECT_EQ(state, colony::rpc::HealthState::kServing);
    COLONY_ASSERT_OK_AND_ASSIGN(state, colony::rpc::CheckHealth(
                                           channel, rpc::VerticalParty::service_full_name()));
    EXPECT_EQ(state, colony::rpc::HealthState::kServing);
  };
  healthy();

  for (const std::string token : {"", "guess", "b-token2"}) {
    auto context = [&] {
      auto c = std::make_unique<grpc::ClientContext>();
      colony::rpc::AddToken(c.get(), token);
      return c;
    };
    rpc::IdsResponse ids;
    rpc::SetupResponse setup;
    rpc::StepResponse step;
    rpc::PredictResponse predict;
    rpc::FinishResponse finish;
    rpc::HealthResponse health;
    const grpc::Status calls[] = {
        stub->Ids(context().get(), {}, &ids),
        stub->Setup(context().get(), {}, &setup),
        stub->Step(context().get(), {}, &step),
        stub->Unmask(context().get(), {}, &step),
        stub->Predict(context().get(), {}, &predict),
        stub->Finish(context().get(), {}, &finish),
        stub->Health(context().get(), {}, &health),
    };
    for (const grpc::Status& s : calls) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << "token '" << token << "': " << s.error_message();
    }
  }
  healthy();

  auto authed = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    colony::rpc::AddToken(c.get(), "b-token");
    return c;
  };
  // Over the size limit: refused before the handler.
  rpc::StepRequest big;
  for (int i = 0; i < 20000; ++i) big.add_residual(1.0);
  rpc::StepResponse step;
  EXPECT_EQ(stub->Step(authed().get(), big, &step).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  healthy();
  // Malformed bytes: a Paillier modulus that is no key at all, in an otherwise good Setup.
  rpc::IdsResponse held;
  ASSERT_TRUE(stub->Ids(authed().get(), {}, &held).ok());
  rpc::SetupRequest setup;
  *setup.mutable_train_ids() = held.ids();
  setup.set_model("linear");
  setup.set_learning_rate(0.1);
  setup.set_paillier_n(std::string("\x01", 1));
  setup.set_precision_bits(16);
  rpc::SetupResponse setup_response;
  EXPECT_EQ(stub->Setup(authed().get(), setup, &setup_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  healthy();

  // After all that, a real session runs to its end.
  PartyAOptions a;
  a.peer = address;
  a.quiet = true;
  COLONY_ASSERT_OK_AND_ASSIGN(PartyAResult result, RunVerticalPartyA(config, a));
  EXPECT_GT(result.iterations, 0);
  COLONY_ASSERT_OK(b->Wait());
}

}  // namespace
}  // namespace colony::fl
