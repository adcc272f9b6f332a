// Real gRPC parameter servers on 127.0.0.1 (free ports), driven through the remote tables
// and, for malformed requests, through the raw generated stub.
#include "colony/ps/server.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "colony/ps.grpc.pb.h"
#include "colony/ps/internal/barrier.h"
#include "colony/ps/remote_table.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

std::unique_ptr<PsServer> StartServer(const std::string& token = "") {
  PsServerOptions o;
  o.token = token;
  auto server = PsServer::Start(o);
  EXPECT_TRUE(server.ok()) << server.status();
  return std::move(server).value();
}

std::string Address(const PsServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

RemoteTableOptions Remote(std::vector<std::string> servers, const std::string& token = "",
                          int deadline_ms = 10000) {
  RemoteTableOptions o;
  o.servers = std::move(servers);
  o.table = "emb";
  o.token = token;
  o.deadline_ms = deadline_ms;
  return o;
}

SparseTableOptions TableOptions() {
  SparseTableOptions o;
  o.dim = 3;
  o.optimizer.name = "adagrad";
  o.optimizer.learning_rate = 0.1f;
  o.seed = 5;
  return o;
}

TEST(PsServerTest, RemoteSparseTableOverTwoServersEqualsALocalTable) {
  auto a = StartServer();
  auto b = StartServer();
  RemoteTableOptions remote = Remote({Address(*a), Address(*b)});
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, ConnectSparseTable(remote, TableOptions()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto local, SparseTable::Create(TableOptions()));
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 200; ++i) ids.push_back(i * 7919 % 97);  // With duplicates.
  std::vector<float> grads(ids.size() * 3);
  for (size_t i = 0; i < grads.size(); ++i) grads[i] = static_cast<float>(i % 11) - 5.0f;
  for (int step = 0; step < 3; ++step) {
    COLONY_ASSERT_OK(table->Push(ids, grads));
    COLONY_ASSERT_OK(local->Push(ids, grads));
  }
  std::vector<float> remote_rows(ids.size() * 3), local_rows(ids.size() * 3);
  COLONY_ASSERT_OK(table->Pull({}, ids, remote_rows));
  COLONY_ASSERT_OK(local->Pull({}, ids, local_rows));
  EXPECT_EQ(remote_rows, local_rows);
  EXPECT_EQ(table->size(), local->size());
  // Both servers hold part of the rows.
  RemoteTableOptions only_a = remote;
  only_a.servers = {Address(*a)};
  COLONY_ASSERT_OK_AND_ASSIGN(auto part, ConnectSparseTable(only_a, TableOptions()));
  EXPECT_GT(part->size(), 0);
  EXPECT_LT(part->size(), local->size());
}

TEST(PsServerTest, RemoteDenseTableInitPullPush) {
  auto server = StartServer();
  RemoteTableOptions remote = Remote({Address(*server)});
  remote.table = "w";
  DenseTableOptions o;
  o.size = 3;
  o.optimizer.name = "sgd";
  o.optimizer.learning_rate = 0.5f;
  COLONY_ASSERT_OK_AND_ASSIGN(auto w, ConnectDenseTable(remote, o));
  COLONY_ASSERT_OK(w->Init(std::vector<float>{1, 2, 3}));
  COLONY_ASSERT_OK(w->Push(std::vector<float>{2, 0, -2}));
  std::vector<float> out(3);
  COLONY_ASSERT_OK(w->Pull(out));
  EXPECT_EQ(out, (std::vector<float>{0, 2, 4}));
  EXPECT_THAT(w->Push(std::vector<float>{1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("push: got 1 floats")));
  // Re-creating with another shape is refused.
  o.size = 4;
  EXPECT_THAT(ConnectDenseTable(remote, o),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("'w' exists")));
}

TEST(PsServerTest, WrongTokenIsRefused) {
  auto server = StartServer("s3cret");
  RemoteTableOptions remote = Remote({Address(*server)}, "guess");
  EXPECT_THAT(ConnectSparseTable(remote, TableOptions()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong token")));
  remote.token = "s3cret";
  COLONY_EXPECT_OK(ConnectSparseTable(remote, TableOptions()));
}

// Calls the raw stub, so requests the clients never send reach the server.
class RawStub {
 public:
  explicit RawStub(const PsServer& server)
      : stub_(rpc::ParameterServer::NewStub(
            grpc::CreateChannel(Address(server), grpc::InsecureChannelCredentials()))) {}
  grpc::Status Push(const rpc::PushRequest& request) {
    grpc::ClientContext context;
    rpc::PushResponse response;
    return stub_->Push(&context, request, &response);
  }
  grpc::Status Pull(const rpc::PullRequest& request) {
    grpc::ClientContext context;
    rpc::PullResponse response;
    return stub_->Pull(&context, request, &response);
  }
  grpc::Status PullMany(const rpc::PullManyRequest& request, rpc::PullManyResponse* response) {
    grpc::ClientContext context;
    return stub_->PullMany(&context, request, response);
  }
  grpc::Status PushMany(const rpc::PushManyRequest& request, rpc::PushManyResponse* response) {
    grpc::ClientContext context;
    return stub_->PushMany(&context, request, response);
  }

 private:
  std::unique_ptr<rpc::ParameterServer::Stub> stub_;
};

TEST(PsServerTest, MalformedRequestsGetErrorsNotCrashes) {
  auto server = StartServer();
  RemoteTableOptions remote = Remote({Address(*server)});
  COLONY_ASSERT_OK(ConnectSparseTable(remote, TableOptions()));
  RawStub raw(*server);
  rpc::PushRequest push;
  push.set_table("emb");
  push.add_ids(1);
  push.set_grads(std::string(7, 'x'));  // Not whole floats.
  grpc::Status s = raw.Push(push);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("7 bytes"));
  push.set_grads(std::string(8, '\0'));  // 2 floats for 1 id of dim 3.
  s = raw.Push(push);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("expected ids * dim = 3"));
  push.set_assign(true);
  EXPECT_EQ(raw.Push(push).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  rpc::PullRequest pull;
  pull.set_table("nope");
  s = raw.Pull(pull);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("'nope'"));
  // The server still serves.
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, ConnectSparseTable(remote, TableOptions()));
  std::vector<float> row(3);
  COLONY_EXPECT_OK(table->Pull({}, std::vector<uint64_t>{1}, row));
}

TEST(PsServerTest, UnreachableServerIsUnavailableNamingIt) {
  int port = 0;
  {
    auto server = StartServer();
    port = server->port();
  }  // Shut down: nothing listens there now.
  RemoteTableOptions remote = Remote({"127.0.0.1:" + std::to_string(port)}, "", 300);
  auto s = ConnectSparseTable(remote, TableOptions());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().code() == StatusCode::kUnavailable ||
              s.status().code() == StatusCode::kDeadlineExceeded)
      << s.status();
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(ConnectSparseTable(Remote({}), TableOptions()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no servers")));
}

TEST(PsServerTest, SavedTablesRestoreIntoANewServer) {
  const std::string dir =
      ::testing::TempDir() + "/colony_ps_server_save_" + std::to_string(::getpid());
  std::vector<uint64_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
  std::vector<float> grads(ids.size() * 3, 0.25f);
  std::vector<float> before(ids.size() * 3), after(ids.size() * 3);
  {
    auto a = StartServer();
    COLONY_ASSERT_OK_AND_ASSIGN(auto table,
                                ConnectSparseTable(Remote({Address(*a)}), TableOptions()));
    COLONY_ASSERT_OK(table->Push(ids, grads));
    COLONY_ASSERT_OK(table->Push(ids, grads));  // Rows and adagrad state differ from new rows.
    COLONY_ASSERT_OK_AND_ASSIGN(int saved, a->SaveTables(dir));
    EXPECT_EQ(saved, 1);
    COLONY_ASSERT_OK(table->Push(ids, grads));
    COLONY_ASSERT_OK(table->Pull({}, ids, before));
  }
  auto b = StartServer();
  COLONY_ASSERT_OK_AND_ASSIGN(int loaded, b->LoadTables(dir));
  EXPECT_EQ(loaded, 1);
  COLONY_ASSERT_OK_AND_ASSIGN(auto table,
                              ConnectSparseTable(Remote({Address(*b)}), TableOptions()));
  EXPECT_EQ(table->size(), 7);
  COLONY_ASSERT_OK(table->Push(ids, grads));  // The same third step as before the save.
  COLONY_ASSERT_OK(table->Pull({}, ids, after));
  EXPECT_EQ(before, after);
  EXPECT_THAT(b->LoadTables(dir + "/nothing"),
              StatusIs(StatusCode::kNotFound, HasSubstr("MANIFEST")));
}

TEST(PsServerTest, TableNamesMustBeSafeFolderNames) {
  auto server = StartServer();
  for (const char* name : {"", "..", "a/b", "x y"}) {
    RemoteTableOptions remote = Remote({Address(*server)});
    remote.table = name;
    auto s = ConnectSparseTable(remote, TableOptions());
    EXPECT_FALSE(s.ok()) << name;
  }
  RemoteTableOptions remote = Remote({Address(*server)});
  remote.table = "../escape";
  EXPECT_THAT(ConnectSparseTable(remote, TableOptions()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("letters, digits")));
}

TEST(PsServerTest, TlsServerTalksOnlyToClientsTrustingItsCa) {
  // Certificates from the project's own script (tests run from the repository root).
  const std::string dir = ::testing::TempDir() + "/colony_ps_tls_" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("bash scripts/make-certs.sh " + dir + "/a >/dev/null").c_str()), 0);
  ASSERT_EQ(std::system(("bash scripts/make-certs.sh " + dir + "/b >/dev/null").c_str()), 0);
  PsServerOptions o;
  o.tls_cert_file = dir + "/a/server.pem";
  o.tls_key_file = dir + "/a/server.key";
  COLONY_ASSERT_OK_AND_ASSIGN(auto server, PsServer::Start(o));
  RemoteTableOptions remote = Remote({Address(*server)}, "", 2000);
  remote.tls_ca_file = dir + "/a/ca.pem";
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, ConnectSparseTable(remote, TableOptions()));
  std::vector<float> row(3);
  COLONY_EXPECT_OK(table->Pull({}, std::vector<uint64_t>{42}, row));
  remote.deadline_ms = 500;
  remote.tls_ca_file = dir + "/b/ca.pem";  // Another CA: the server is not trusted.
  EXPECT_FALSE(ConnectSparseTable(remote, TableOptions()).ok());
  remote.tls_ca_file = "";  // Plaintext to a TLS server.
  EXPECT_FALSE(ConnectSparseTable(remote, TableOptions()).ok());
  remote.tls_ca_file = dir + "/missing.pem";
  EXPECT_THAT(ConnectSparseTable(remote, TableOptions()),
              StatusIs(StatusCode::kNotFound, HasSubstr("missing.pem")));
  o.tls_key_file = "";
  EXPECT_THAT(PsServer::Start(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("both")));
}

TEST(PsServerTest, ShardOfIdIsStableAndSpreads) {
  EXPECT_EQ(ShardOfId(12345, 7), ShardOfId(12345, 7));
  std::vector<int> counts(4, 0);
  for (uint64_t id = 0; id < 4000; ++id) ++counts[ShardOfId(id, 4)];
  for (int c : counts) EXPECT_NEAR(c, 1000, 150);
}

TEST(PsServerTest, SyncPushesOfTwoWorkersApplyTheirMeanOnce) {
  // Two workers push halves of a step; the servers must apply what one push of the mean
  // gradient does to a local table.
  auto a = StartServer();
  auto b = StartServer();
  RemoteTableOptions remote = Remote({Address(*a), Address(*b)});
  remote.sync_workers = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto worker0, ConnectSparseTable(remote, TableOptions()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto worker1, ConnectSparseTable(remote, TableOptions()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto local, SparseTable::Create(TableOptions()));
  const std::vector<uint64_t> ids0 = {1, 2, 3}, ids1 = {3, 4};
  const std::vector<float> g0 = {1, 1, 1, 2, 2, 2, 3, 3, 3}, g1 = {5, 5, 5, 7, 7, 7};
  std::vector<uint64_t> all_ids = ids0;
  all_ids.insert(all_ids.end(), ids1.begin(), ids1.end());
  std::vector<float> mean;
  for (float g : g0) mean.push_back(g / 2);
  for (float g : g1) mean.push_back(g / 2);
  for (int step = 0; step < 2; ++step) {
    COLONY_ASSERT_OK(worker0->Push(ids0, g0));
    std::vector<float> rows(all_ids.size() * 3), expected(all_ids.size() * 3);
    COLONY_ASSERT_OK(local->Pull({}, all_ids, expected));
    COLONY_ASSERT_OK(worker0->Pull({}, all_ids, rows));
    EXPECT_EQ(rows, expected) << "applied before the second worker pushed";
    COLONY_ASSERT_OK(worker1->Push(ids1, g1));
    COLONY_ASSERT_OK(local->Push(all_ids, mean));
    COLONY_ASSERT_OK(local->Pull({}, all_ids, expected));
    COLONY_ASSERT_OK(worker1->Pull({}, all_ids, rows));
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_FLOAT_EQ(rows[i], expected[i]) << i;
  }
  // A worker that pushes the next step before the others pushed this one is refused.
  COLONY_ASSERT_OK(worker0->Push(ids0, g0));
  EXPECT_THAT(worker0->Push(ids0, g0),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("while step 2")));
}

TEST(PsServerTest, BarrierReleasesAllWorkersTogetherAndTimesOutNamingTheCount) {
  auto server = StartServer();
  RemoteTableOptions remote = Remote({Address(*server)});
  COLONY_ASSERT_OK_AND_ASSIGN(auto b0, WorkerBarrier::Connect(remote, 3, 10000));
  COLONY_ASSERT_OK_AND_ASSIGN(auto b1, WorkerBarrier::Connect(remote, 3, 10000));
  COLONY_ASSERT_OK_AND_ASSIGN(auto b2, WorkerBarrier::Connect(remote, 3, 10000));
  for (int round = 0; round < 3; ++round) {
    auto f0 = std::async(std::launch::async, [&] { return b0->Wait("step"); });
    auto f1 = std::async(std::launch::async, [&] { return b1->Wait("step"); });
    EXPECT_EQ(f0.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
        << "released with 2 of 3 workers";
    COLONY_EXPECT_OK(b2->Wait("step"));
    COLONY_EXPECT_OK(f0.get());
    COLONY_EXPECT_OK(f1.get());
  }
  COLONY_ASSERT_OK_AND_ASSIGN(auto impatient, WorkerBarrier::Connect(remote, 3, 300));
  EXPECT_THAT(impatient->Wait("end"),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr(Address(*server))));
  EXPECT_THAT(WorkerBarrier::Connect(remote, 0, 1000),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("workers")));
}

TEST(BarrierSetTest, CallersWithAnotherWorkerCountAreRefused) {
  internal::BarrierSet barriers;
  const auto in = [](int ms) {
    return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
  };
  const auto never = [] { return false; };
  // Whichever caller arrives first owns the round and the other is refused; both retry
  // (bounded) until the 3-worker caller owns it and the 2-worker one is refused.
  auto first = std::async(std::launch::async, [&] {
    Status s = barriers.Arrive("x", 3, in(20000), never);
    for (int i = 0; i < 200 && IsInvalidArgument(s); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      s = barriers.Arrive("x", 3, in(20000), never);
    }
    return s;
  });
  Status mixed;
  for (int i = 0; i < 200 && !IsInvalidArgument(mixed); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    mixed = barriers.Arrive("x", 2, in(10), never);
  }
  EXPECT_THAT(mixed, StatusIs(StatusCode::kInvalidArgument, HasSubstr("same worker count")));
  auto second =
      std::async(std::launch::async, [&] { return barriers.Arrive("x", 3, in(20000), never); });
  COLONY_EXPECT_OK(barriers.Arrive("x", 3, in(20000), never));
  COLONY_EXPECT_OK(first.get());
  COLONY_EXPECT_OK(second.get());
  EXPECT_THAT(barriers.Arrive("y", 2, in(0), [] { return true; }),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("1 of 2")));
  EXPECT_THAT(barriers.Arrive("y", 2, in(1000), [] { return true; }),
              StatusIs(StatusCode::kCancelled, HasSubstr("1 of 2")));
}

TEST(PsServerTest, ClientWaitsForARestartedServer) {
  const std::string dir =
      ::testing::TempDir() + "/colony_ps_server_restart_" + std::to_string(::getpid());
  auto server = StartServer();
  const int port = server->port();
  RemoteTableOptions remote = Remote({Address(*server)});
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, ConnectSparseTable(remote, TableOptions()));
  const std::vector<uint64_t> ids = {1, 2};
  std::vector<float> before(6), after(6);
  COLONY_ASSERT_OK(table->Pull({}, ids, before));
  COLONY_ASSERT_OK(server->SaveTables(dir).status());
  server.reset();  // Down: the next pull waits for a server on the same port.
  auto pull = std::async(std::launch::async, [&] { return table->Pull({}, ids, after); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  PsServerOptions o;
  o.address = "127.0.0.1:" + std::to_string(port);
  COLONY_ASSERT_OK_AND_ASSIGN(auto restarted, PsServer::Start(o));
  COLONY_ASSERT_OK(restarted->LoadTables(dir).status());
  COLONY_ASSERT_OK(pull.get());
  EXPECT_EQ(after, before);
  std::filesystem::remove_all(dir);
}

// A checkpoint from before dense tables were placed by name holds them all on server 0; a
// table whose name now maps to server 1 takes its values from there instead of starting anew.
TEST(PsServerTest, DenseTableOnAnotherServerMovesToTheServerOfItsName) {
  auto a = StartServer();
  auto b = StartServer();
  const RemoteTableOptions both = Remote({Address(*a), Address(*b)});
  std::vector<std::string> names;  // Two names that map to server 1 of 2.
  for (const char* name : {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9"}) {
    if (ShardOfName(name, 2) == 1 && names.size() < 2) names.emplace_back(name);
  }
  ASSERT_EQ(names.size(), 2u);
  DenseTableOptions o;
  o.size = 3;
  o.optimizer.name = "sgd";
  o.optimizer.learning_rate = 0.5f;
  RemoteTableOptions old_placement = Remote({Address(*a)});
  old_placement.table = names[0];
  COLONY_ASSERT_OK_AND_ASSIGN(auto old, ConnectDenseTable(old_placement, o, {{1, 2, 3}}));
  COLONY_ASSERT_OK(old->Push(std::vector<float>{2, 0, -2}));  // Trained: {0, 2, 4}.

  RemoteTableOptions remote = both;
  remote.table = names[0];
  COLONY_ASSERT_OK_AND_ASSIGN(auto moved, ConnectDenseTable(remote, o, {{9, 9, 9}}));
  std::vector<float> out(3);
  COLONY_ASSERT_OK(moved->Pull(out));
  EXPECT_EQ(out, (std::vector<float>{0, 2, 4}));
  RemoteTableOptions only_b = Remote({Address(*b)});
  only_b.table = names[0];
  COLONY_ASSERT_OK_AND_ASSIGN(auto on_b, ConnectDenseTable(only_b, o));
  COLONY_ASSERT_OK(on_b->Pull(out));
  EXPECT_EQ(out, (std::vector<float>{0, 2, 4}));
  // Another size there is an error naming the table, not a silent fresh start.
  old_placement.table = remote.table = names[1];
  COLONY_ASSERT_OK(ConnectDenseTable(old_placement, o).status());
  o.size = 4;
  std::string expected = "'";
  expected.append(names[1]).append("' is on server ").append(Address(*a));
  expected.append(" with 3 values, this job's has 4");
  EXPECT_THAT(ConnectDenseTable(remote, o),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr(expected)));
}

// Dense tables d0..d{n-1} of sizes 3, 4, ... with alternating optimizers, on `servers`.
std::vector<std::unique_ptr<DenseTable>> ConnectDenseTables(const RemoteTableOptions& servers,
                                                            int n) {
  std::vector<std::unique_ptr<DenseTable>> tables;
  for (int i = 0; i < n; ++i) {
    RemoteTableOptions remote = servers;
    remote.table = std::string("d").append(std::to_string(i));
    DenseTableOptions o;
    o.size = 3 + i;
    o.optimizer.name = i % 3 == 0 ? "adam" : i % 3 == 1 ? "adagrad" : "sgd";
    o.optimizer.learning_rate = 0.1f;
    std::vector<float> init(o.size);
    for (int j = 0; j < o.size; ++j) init[j] = 0.1f * static_cast<float>(i - j);
    auto table = ConnectDenseTable(remote, o, init);
    EXPECT_TRUE(table.ok()) << table.status();
    tables.push_back(std::move(table).value());
  }
  return tables;
}

std::vector<DenseTable*> Pointers(const std::vector<std::unique_ptr<DenseTable>>& tables) {
  std::vector<DenseTable*> out;
  for (const auto& t : tables) out.push_back(t.get());
  return out;
}

// Gradients for the tables of ConnectDenseTables at `step`; table `skip` gets none.
std::vector<std::vector<float>> StepGrads(int n, int step, int skip = -1) {
  std::vector<std::vector<float>> grads(n);
  for (int i = 0; i < n; ++i) {
    if (i == skip) continue;
    for (int j = 0; j < 3 + i; ++j) grads[i].push_back(0.5f * static_cast<float>(step + i - j));
  }
  return grads;
}

template <typename T>
std::vector<std::span<const T>> ConstSpans(const std::vector<std::vector<T>>& v) {
  return std::vector<std::span<const T>>(v.begin(), v.end());
}

// Requests each server served so far.
int64_t Requests(const PsServer& server) {
  auto stats = QueryServerStats(Address(server), "");
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? stats->requests : -1;
}

TEST(PsServerTest, DenseTablesSpreadOverTheServersByName) {
  EXPECT_EQ(ShardOfName("dense_w", 5), ShardOfName("dense_w", 5));
  EXPECT_EQ(ShardOfName("anything", 1), 0);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 400; ++i) ++counts[ShardOfName("fc" + std::to_string(i) + ".w", 4)];
  for (int c : counts) EXPECT_NEAR(c, 100, 40);
}

TEST(PsServerTest, BatchedDensePullPushEqualsPerTableCalls) {
  // The same tables on two pairs of servers: one pair driven by a batch, one table by table.
  constexpr int kTables = 6;
  auto a = StartServer(), b = StartServer(), c = StartServer(), d = StartServer();
  const RemoteTableOptions batched_servers = Remote({Address(*a), Address(*b)});
  auto batched = ConnectDenseTables(batched_servers, kTables);
  auto single = ConnectDenseTables(Remote({Address(*c), Address(*d)}), kTables);
  COLONY_ASSERT_OK_AND_ASSIGN(auto batch,
                              DenseTableBatch::Create(batched_servers, Pointers(batched)));
  // Each server holds some of the tables.
  COLONY_ASSERT_OK_AND_ASSIGN(ServerStats on_a, QueryServerStats(Address(*a), ""));
  EXPECT_GT(on_a.tables.size(), 0u);
  EXPECT_LT(on_a.tables.size(), size_t{kTables});
  for (int step = 0; step < 4; ++step) {
    const auto grads = StepGrads(kTables, step, /*skip=*/step == 2 ? 1 : -1);
    const int64_t before_a = Requests(*a), before_b = Requests(*b);
    COLONY_ASSERT_OK(batch->Push(ConstSpans(grads)));
    // One call per server (the Stats call that reads the count adds one).
    EXPECT_EQ(Requests(*a) - before_a, 2);
    EXPECT_EQ(Requests(*b) - before_b, 2);
    for (int i = 0; i < kTables; ++i) {
      if (!grads[i].empty()) COLONY_ASSERT_OK(single[i]->Push(grads[i]));
    }
  }
  std::vector<std::vector<float>> got(kTables), want(kTables);
  std::vector<std::span<float>> outs;
  for (int i = 0; i < kTables; ++i) {
    got[i].resize(3 + i);
    want[i].resize(3 + i);
    outs.emplace_back(got[i]);
    COLONY_ASSERT_OK(single[i]->Pull(want[i]));
  }
  const int64_t before_a = Requests(*a);
  COLONY_ASSERT_OK(batch->Pull(outs));
  EXPECT_EQ(Requests(*a) - before_a, 2);
  EXPECT_EQ(got, want);
  EXPECT_NE(got[0], std::vector<float>({0.0f, -0.1f, -0.2f})) << "the pushes changed nothing";
  // A table's own calls see what the batch did, and the batch sees theirs.
  std::vector<float> own(3);
  COLONY_ASSERT_OK(batched[0]->Pull(own));
  EXPECT_EQ(own, got[0]);
  // Geo deltas: the batch adds like Add on each table.
  const auto deltas = StepGrads(kTables, 7);
  COLONY_ASSERT_OK(batch->Add(ConstSpans(deltas)));
  for (int i = 0; i < kTables; ++i) COLONY_ASSERT_OK(single[i]->Add(deltas[i]));
  COLONY_ASSERT_OK(batch->Pull(outs));
  for (int i = 0; i < kTables; ++i) COLONY_ASSERT_OK(single[i]->Pull(want[i]));
  EXPECT_EQ(got, want);
}

TEST(PsServerTest, BatchedSyncPushesOfTwoWorkersApplyTheirMeanOnce) {
  constexpr int kTables = 4;
  auto a = StartServer(), b = StartServer(), c = StartServer();
  RemoteTableOptions sync = Remote({Address(*a), Address(*b)});
  sync.sync_workers = 2;
  auto worker0 = ConnectDenseTables(sync, kTables);
  auto worker1 = ConnectDenseTables(sync, kTables);
  auto reference = ConnectDenseTables(Remote({Address(*c)}), kTables);  // Pushed the mean.
  COLONY_ASSERT_OK_AND_ASSIGN(auto batch0, DenseTableBatch::Create(sync, Pointers(worker0)));
  COLONY_ASSERT_OK_AND_ASSIGN(auto batch1, DenseTableBatch::Create(sync, Pointers(worker1)));
  for (int step = 0; step < 3; ++step) {
    const auto g0 = StepGrads(kTables, step), g1 = StepGrads(kTables, step + 5);
    if (step == 1) {  // A table's own push and the batch number the steps together.
      for (int i = 0; i < kTables; ++i) COLONY_ASSERT_OK(worker0[i]->Push(g0[i]));
    } else {
      COLONY_ASSERT_OK(batch0->Push(ConstSpans(g0)));
    }
    COLONY_ASSERT_OK(batch1->Push(ConstSpans(g1)));
    for (int i = 0; i < kTables; ++i) {
      std::vector<float> mean(g0[i].size());
      for (size_t j = 0; j < mean.size(); ++j) mean[j] = (g0[i][j] + g1[i][j]) / 2;
      COLONY_ASSERT_OK(reference[i]->Push(mean));
    }
  }
  for (int i = 0; i < kTables; ++i) {
    std::vector<float> got(3 + i), want(3 + i);
    COLONY_ASSERT_OK(worker1[i]->Pull(got));
    COLONY_ASSERT_OK(reference[i]->Pull(want));
    for (size_t j = 0; j < got.size(); ++j) EXPECT_FLOAT_EQ(got[j], want[j]) << i << " " << j;
  }
  // A worker running a step ahead is refused, naming the table.
  COLONY_ASSERT_OK(batch0->Push(ConstSpans(StepGrads(kTables, 0))));
  EXPECT_THAT(batch0->Push(ConstSpans(StepGrads(kTables, 0))),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("table 'd")));
}

TEST(PsServerTest, BatchedDenseCallsAnswerBadTablesOneByOne) {
  auto server = StartServer();
  const RemoteTableOptions remote = Remote({Address(*server)});
  COLONY_ASSERT_OK(ConnectSparseTable(remote, TableOptions()));  // "emb", sparse.
  auto dense = ConnectDenseTables(remote, 1);                    // "d0", 3 floats.
  RawStub raw(*server);
  rpc::PullManyRequest pull;
  for (const char* name : {"nope", "emb", "d0"}) pull.add_tables()->set_table(name);
  rpc::PullManyResponse pulled;
  ASSERT_TRUE(raw.PullMany(pull, &pulled).ok());
  ASSERT_EQ(pulled.tables_size(), 3);
  EXPECT_EQ(pulled.tables(0).code(), static_cast<int>(StatusCode::kNotFound));
  EXPECT_THAT(pulled.tables(0).message(), HasSubstr("'nope' does not exist"));
  EXPECT_EQ(pulled.tables(1).code(), static_cast<int>(StatusCode::kInvalidArgument));
  EXPECT_THAT(pulled.tables(1).message(), HasSubstr("'emb' is sparse"));
  EXPECT_EQ(pulled.tables(2).code(), 0);  // The good table is served all the same.
  EXPECT_EQ(pulled.tables(2).rows().size(), 3 * sizeof(float));

  rpc::PushManyRequest push;
  for (const char* name : {"d0", "emb", "d0"}) {
    rpc::PushRequest* one = push.add_tables();
    one->set_table(name);
    one->set_grads(std::string(3 * sizeof(float), '\0'));
  }
  push.mutable_tables(0)->set_grads(std::string(2 * sizeof(float), '\0'));  // Wrong length.
  rpc::PushManyResponse pushed;
  ASSERT_TRUE(raw.PushMany(push, &pushed).ok());
  ASSERT_EQ(pushed.tables_size(), 3);
  EXPECT_EQ(pushed.tables(0).code(), static_cast<int>(StatusCode::kInvalidArgument));
  EXPECT_THAT(pushed.tables(0).message(), HasSubstr("table 'd0'"));
  EXPECT_THAT(pushed.tables(0).message(), HasSubstr("got 2"));
  EXPECT_THAT(pushed.tables(1).message(), HasSubstr("'emb' is sparse"));
  EXPECT_EQ(pushed.tables(2).code(), 0);

  // Through the client: the error names the table and its server.
  COLONY_ASSERT_OK_AND_ASSIGN(auto batch, DenseTableBatch::Create(remote, Pointers(dense)));
  std::vector<float> short_out(2);
  std::vector<std::span<float>> outs = {short_out};
  EXPECT_THAT(batch->Pull(outs),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("table 'd0' holds 3")));
  EXPECT_THAT(batch->Push({}), StatusIs(StatusCode::kInvalidArgument, HasSubstr("0 spans")));
  RemoteTableOptions other = remote;
  other.servers.push_back("127.0.0.1:1");
  EXPECT_THAT(DenseTableBatch::Create(other, Pointers(dense)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("other servers")));
  COLONY_ASSERT_OK_AND_ASSIGN(auto local, DenseTable::Create({.size = 3, .optimizer = {}}));
  EXPECT_THAT(DenseTableBatch::Create(remote, {local.get()}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not on parameter servers")));
}

}  // namespace
}  // namespace colony::ps
