// A real retrieval server on 127.0.0.1 (free port) driven through RetrievalClient.
#include "colony/retrieval/server.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <thread>

#include "colony/rpc/channel.h"
#include "colony/rpc/health.h"

#include "retrieval/test_data.h"
#include "testing/status_matchers.h"

namespace colony::retrieval {
namespace {
using ::colony::testing::StatusIs;
using testing::ClusteredVectors;
using ::testing::HasSubstr;

class RetrievalServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    items_ = ClusteredVectors(2000, 16, 20, 21);
    queries_ = ClusteredVectors(64, 16, 20, 22);
    auto index = TreeIndex::Build({.num_trees = 2}, items_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(index).value();
    RetrievalServerOptions options;
    options.token = "secret";
    options.defaults.beam = 8;
    auto server = RetrievalServer::Start(options, index_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  std::unique_ptr<RetrievalClient> Client(const std::string& token = "secret") {
    auto client = RetrievalClient::Connect(address_, {.token = token});
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(client).value();
  }

  VectorSet items_, queries_;
  std::shared_ptr<TreeIndex> index_;
  std::unique_ptr<RetrievalServer> server_;
  std::string address_;
};

TEST_F(RetrievalServerTest, SearchOverRpcEqualsTheLocalIndex) {
  auto client = Client();
  const QueryOptions q{.k = 10, .beam = 8};
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults remote, client->Search(q, queries_.data));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults local, index_->Search(q, queries_.data));
  EXPECT_EQ(remote.num_queries, 64);
  EXPECT_EQ(remote.ids, local.ids);
  EXPECT_EQ(remote.distances, local.distances);
  COLONY_ASSERT_OK_AND_ASSIGN(HealthInfo health, client->Health());
  EXPECT_EQ(health.status, "serving");
  EXPECT_EQ(health.items, 2000);
  EXPECT_EQ(health.dim, 16);
  EXPECT_EQ(health.trees, 2);
}

TEST_F(RetrievalServerTest, BoundedConcurrentLoadWithUpdates) {
  constexpr int kThreads = 4, kCallsEach = 150;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = Client();
      for (int i = 0; i < kCallsEach; ++i) {
        const int64_t q = (t * kCallsEach + i) % queries_.n;
        auto r = client->Search({.k = 5, .beam = 4}, std::span<const float>(queries_.row(q), 16));
        (r.ok() && r->ids[0] != SearchResults::kNoItem ? ok : failed)++;
      }
    });
  }
  // Meanwhile, items come and go through the same service.
  auto writer = Client();
  for (uint64_t i = 0; i < 50; ++i) {
    const uint64_t id = 100000 + i;
    COLONY_ASSERT_OK(writer->Insert({&id, 1}, std::span<const float>(items_.row(i), 16)));
    if (i % 2 == 0) COLONY_ASSERT_OK(writer->Remove({&id, 1}));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kCallsEach);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(index_->size(), 2025);
  COLONY_EXPECT_OK(index_->CheckInvariantsForTesting());
  EXPECT_GE(server_->requests(), kThreads * kCallsEach + 75);
}

TEST_F(RetrievalServerTest, BadCallsGetClearErrors) {
  auto client = Client();
  EXPECT_THAT(client->Search({}, std::vector<float>(5)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not whole rows of 16")));
  EXPECT_THAT(client->Search({.scan_leaves = 3}, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("power of two")));
  // Before QueryOptions had upper bounds, k = 2^31 - 1 made the server allocate 24 GB per
  // query and die.
  EXPECT_THAT(client->Search({.k = 2147483647}, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("k must be in [1, 10000]")));
  EXPECT_THAT(client->Search({.k = 10001}, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("got 10001")));
  EXPECT_THAT(client->Search({.beam = 1 << 30}, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("beam must be in [1, 4096]")));
  EXPECT_THAT(client->Search({.scan_leaves = 1 << 30}, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("scan_leaves must be a power")));
  // 4,000 queries x k 10,000 is over the 2^25 results one call may return.
  EXPECT_THAT(client->Search({.k = 10000}, std::vector<float>(16 * 4000)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("send fewer queries per call")));
  // NaN coordinates would make the beam's sorts compare NaN distances.
  std::vector<float> nan_query(16, 0.0f);
  nan_query[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(client->Search({}, nan_query),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("query 0 holds a value that is not "
                                                               "finite")));
  const uint64_t nan_id = 5000;
  EXPECT_THAT(client->Insert({&nan_id, 1}, nan_query),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("id 5000 holds a value")));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults most,
                              client->Search({.k = 10000}, std::vector<float>(16)));
  EXPECT_EQ(most.k, 10000);
  EXPECT_EQ(most.ids.size(), 10000u);
  const uint64_t id = 0;
  EXPECT_THAT(client->Insert({&id, 1}, std::vector<float>(16)),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("id 0")));
  const uint64_t two[] = {7, 8};
  EXPECT_THAT(client->Insert(two, std::vector<float>(16)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("2 ids but 1 vectors")));
  const uint64_t unknown = 999999;
  EXPECT_THAT(client->Remove({&unknown, 1}), StatusIs(StatusCode::kNotFound, HasSubstr("999999")));
  EXPECT_THAT(Client("wrong")->Health(),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("token")));
  server_->Shutdown();
  auto late = RetrievalClient::Connect(address_, {.token = "secret", .deadline_ms = 2000});
  ASSERT_TRUE(late.ok());
  EXPECT_THAT((*late)->Health(), StatusIs(StatusCode::kUnavailable, ::testing::_));
}

// The service attacked: every method without or with a wrong token, malformed bytes, a
// request over the size limit; the standard health check answers after each attack.
TEST_F(RetrievalServerTest, AttacksAreRefusedAndHealthAnswersThroughout) {
  auto channel = colony::rpc::MakeChannel(address_, {}).value();
  auto healthy = [&] {
    COLONY_ASSERT_OK_AND_ASSIGN(colony::rpc::HealthState state, colony::rpc::CheckHealth(channel));
    EXPECT_EQ(state, colony::rpc::HealthState::kServing);
  };
  const uint64_t id = 424242;
  for (const std::string token : {"", "guess", "secret "}) {
    auto client = Client(token);
    EXPECT_THAT(client->Search({}, std::vector<float>(16)),
                StatusIs(StatusCode::kUnauthenticated, ::testing::_));
    EXPECT_THAT(client->Insert({&id, 1}, std::vector<float>(16)),
                StatusIs(StatusCode::kUnauthenticated, ::testing::_));
    EXPECT_THAT(client->Remove({&id, 1}), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
    EXPECT_THAT(client->Health(), StatusIs(StatusCode::kUnauthenticated, ::testing::_));
  }
  EXPECT_EQ(index_->size(), 2000);  // Nothing got in.
  healthy();
  // Bytes that are not whole float32 rows of the index's width.
  auto client = Client();
  EXPECT_THAT(client->Search({}, std::vector<float>(17)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not whole rows")));
  EXPECT_THAT(client->Insert({&id, 1}, std::vector<float>(15)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not whole rows")));
  healthy();

  // A server with a small request limit refuses a larger Insert before its handler runs.
  RetrievalServerOptions small;
  small.token = "secret";
  small.limits.max_receive_message_bytes = 64 << 10;
  COLONY_ASSERT_OK_AND_ASSIGN(auto limited, RetrievalServer::Start(small, index_));
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto limited_client,
      RetrievalClient::Connect("127.0.0.1:" + std::to_string(limited->port()), {.token = "secret"}));
  std::vector<uint64_t> ids(2000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = 500000 + i;
  EXPECT_THAT(limited_client->Insert(ids, items_.data),
              StatusIs(StatusCode::kResourceExhausted, ::testing::_));
  EXPECT_EQ(index_->size(), 2000);
  COLONY_ASSERT_OK(limited_client->Health().status());
  healthy();
}

TEST(RetrievalServerTlsTest, ServesOverTlsToClientsTrustingItsCa) {
  const std::string dir = ::testing::TempDir() + "/colony_retrieval_tls_" + std::to_string(getpid());
  ASSERT_EQ(std::system(("bash scripts/make-certs.sh " + dir + " >/dev/null").c_str()), 0);
  const VectorSet items = ClusteredVectors(200, 8, 4, 3);
  COLONY_ASSERT_OK_AND_ASSIGN(std::shared_ptr<TreeIndex> index, TreeIndex::Build({}, items));
  RetrievalServerOptions options;
  options.tls_cert_file = dir + "/server.pem";
  options.tls_key_file = dir + "/server.key";
  COLONY_ASSERT_OK_AND_ASSIGN(auto server, RetrievalServer::Start(options, index));
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  COLONY_ASSERT_OK_AND_ASSIGN(auto tls,
                              RetrievalClient::Connect(address, {.tls_ca_file = dir + "/ca.pem"}));
  const std::span<const float> query(items.row(0), 8);
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults found, tls->Search({.k = 3}, query));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults local, index->Search({.k = 3, .num_threads = 1}, query));
  EXPECT_EQ(found.ids, local.ids);
  COLONY_ASSERT_OK_AND_ASSIGN(auto plain, RetrievalClient::Connect(address, {.deadline_ms = 1000}));
  EXPECT_THAT(plain->Health(), StatusIs(StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(RetrievalClient::Connect(address, {.tls_ca_file = dir + "/none.pem"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("none.pem")));
  // Off loopback, plaintext needs saying so.
  EXPECT_THAT(RetrievalClient::Connect("192.0.2.1:7400"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not loopback")));
  options.address = "0.0.0.0:0";
  options.tls_cert_file = options.tls_key_file = "";
  EXPECT_THAT(RetrievalServer::Start(options, index),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not loopback")));
}

}  // namespace
}  // namespace colony::retrieval
