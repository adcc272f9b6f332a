// A bounded load test: 1,000 concurrent clients (asynchronous calls over a few channels) pull
// and push against one parameter server for a fixed time while another thread runs the
// standard health check; every check answers SERVING and every call succeeds.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "colony/ps.grpc.pb.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/rpc/channel.h"
#include "colony/rpc/health.h"
#include "colony/rpc/token.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {

constexpr int kClients = 1000;
constexpr int kChannels = 4;
constexpr int kDim = 8;
constexpr int kIdsPerCall = 16;

// One client: alternates Pull and Push of its own ids, one call in flight at a time.
struct Client {
  std::unique_ptr<grpc::ClientContext> context;
  rpc::PullRequest pull;
  rpc::PullResponse pulled;
  rpc::PushRequest push;
  rpc::PushResponse pushed;
  std::unique_ptr<grpc::ClientAsyncResponseReader<rpc::PullResponse>> pull_call;
  std::unique_ptr<grpc::ClientAsyncResponseReader<rpc::PushResponse>> push_call;
  grpc::Status status;
  bool pulling = false;
  int calls = 0;
};

TEST(PsServerLoadTest, ThousandConcurrentClientsWhileHealthChecksAnswer) {
  PsServerOptions options;
  options.token = "load";
  COLONY_ASSERT_OK_AND_ASSIGN(auto server, PsServer::Start(options));
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  RemoteTableOptions remote;
  remote.servers = {address};
  remote.table = "emb";
  remote.token = "load";
  SparseTableOptions table;
  table.dim = kDim;
  table.optimizer.name = "sgd";
  table.optimizer.learning_rate = 0.125f;  // Exact in float: the rows can be checked exactly.
  table.initializer.type = "zeros";
  COLONY_ASSERT_OK_AND_ASSIGN(auto emb, ConnectSparseTable(remote, table));

  std::vector<std::unique_ptr<rpc::ParameterServer::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    colony::rpc::ChannelOptions channel;
    channel.name = "load client " + std::to_string(i);
    COLONY_ASSERT_OK_AND_ASSIGN(auto c, colony::rpc::MakeChannel(address, channel));
    stubs.push_back(rpc::ParameterServer::NewStub(c));
  }

  std::atomic<bool> stop{false};
  std::atomic<int> checks{0}, serving{0};
  std::string health_failure;
  std::thread health([&] {
    colony::rpc::ChannelOptions o;
    auto channel = colony::rpc::MakeChannel(address, o).value();
    while (!stop) {
      StatusOr<colony::rpc::HealthState> state = colony::rpc::CheckHealth(channel, "", 5000);
      ++checks;
      if (state.ok() && *state == colony::rpc::HealthState::kServing) {
        ++serving;
      } else if (health_failure.empty()) {
        health_failure = state.ok() ? colony::rpc::HealthStateName(*state)
                                    : state.status().ToString();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  grpc::CompletionQueue cq;
  std::vector<Client> clients(kClients);
  auto start_call = [&](int i) {
    Client& c = clients[i];
    c.context = std::make_unique<grpc::ClientContext>();
    c.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    colony::rpc::AddToken(c.context.get(), "load");
    auto* stub = stubs[i % kChannels].get();
    c.pulling = !c.pulling;
    if (c.pulling) {
      c.pull_call = stub->AsyncPull(c.context.get(), c.pull, &cq);
      c.pull_call->Finish(&c.pulled, &c.status, reinterpret_cast<void*>(static_cast<intptr_t>(i)));
    } else {
      c.push_call = stub->AsyncPush(c.context.get(), c.push, &cq);
      c.push_call->Finish(&c.pushed, &c.status, reinterpret_cast<void*>(static_cast<intptr_t>(i)));
    }
  };
  for (int i = 0; i < kClients; ++i) {
    Client& c = clients[i];
    c.pull.set_table("emb");
    c.pull.set_create_missing(true);
    c.push.set_table("emb");
    for (int k = 0; k < kIdsPerCall; ++k) {
      c.pull.add_ids(static_cast<uint64_t>(i) * kIdsPerCall + k);
      c.push.add_ids(static_cast<uint64_t>(i) * kIdsPerCall + k);
    }
    std::vector<float> grads(kIdsPerCall * kDim, 1.0f);
    c.push.set_grads(std::string(reinterpret_cast<const char*>(grads.data()), 4 * grads.size()));
    start_call(i);  // All 1,000 in flight at once.
  }

  // Keep every client busy for a bounded time, then let the calls in flight finish.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int in_flight = kClients, failures = 0;
  std::string first_failure;
  while (in_flight > 0) {
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    const int i = static_cast<int>(reinterpret_cast<intptr_t>(tag));
    Client& c = clients[i];
    ++c.calls;
    if (!ok || !c.status.ok()) {
      if (failures++ == 0) first_failure = c.status.error_message();
    } else if (c.pulling && c.pulled.rows().size() != size_t{4} * kIdsPerCall * kDim) {
      if (failures++ == 0) first_failure = "a Pull answered the wrong number of bytes";
    }
    if (std::chrono::steady_clock::now() < end) {
      start_call(i);
    } else {
      --in_flight;
    }
  }
  stop = true;
  health.join();
  cq.Shutdown();

  EXPECT_EQ(failures, 0) << first_failure;
  int total = 0, least = 1 << 30;
  for (const Client& c : clients) {
    total += c.calls;
    least = std::min(least, c.calls);
  }
  EXPECT_GE(least, 1);  // Every client was served, none starved.
  EXPECT_GT(checks.load(), 0);
  EXPECT_EQ(serving.load(), checks.load()) << health_failure;
  // The server is still up and no push was lost: each moved its client's rows by -lr * 1
  // (sgd, from zeros), and only that client touched them.
  for (int i : {0, kClients / 2, kClients - 1}) {
    std::vector<float> row(kDim);
    COLONY_ASSERT_OK(emb->Pull({}, std::vector<uint64_t>{static_cast<uint64_t>(i) * kIdsPerCall},
                               row));
    const int pushes = clients[i].calls / 2;
    EXPECT_EQ(row[0], -0.125f * static_cast<float>(pushes)) << "client " << i;
  }
  COLONY_ASSERT_OK_AND_ASSIGN(ServerStats stats, QueryServerStats(address, "load"));
  EXPECT_GE(stats.requests, total);
  std::printf("load: %d clients, %d calls in 3 s, %d health checks all SERVING\n", kClients,
              total, checks.load());
}

}  // namespace
}  // namespace colony::ps
