// Parameter-server checkpoints attacked and re-sharded: Save/Load confined to the checkpoint
// root, names read from checkpoint files checked, every file checksummed, a checkpoint of N
// servers loaded into M. Real gRPC servers on 127.0.0.1 (free ports).
#include "colony/ps/internal/server_checkpoint.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "colony/base/file_util.h"
#include "colony/ps.grpc.pb.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/colony_ps_ckpt_" + name + "_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<PsServer> Start(PsServerOptions o) {
  auto server = PsServer::Start(o);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::string Address(const PsServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

std::unique_ptr<rpc::ParameterServer::Stub> Stub(const PsServer& server) {
  return rpc::ParameterServer::NewStub(
      grpc::CreateChannel(Address(server), grpc::InsecureChannelCredentials()));
}

Status CallSave(rpc::ParameterServer::Stub& stub, const std::string& dir) {
  grpc::ClientContext context;
  rpc::SaveRequest request;
  request.set_dir(dir);
  rpc::SaveResponse response;
  const grpc::Status s = stub.Save(&context, request, &response);
  return Status(static_cast<StatusCode>(s.error_code()), s.error_message());
}

Status CallLoad(rpc::ParameterServer::Stub& stub, const std::string& dir) {
  grpc::ClientContext context;
  rpc::LoadRequest request;
  request.set_dir(dir);
  rpc::LoadResponse response;
  const grpc::Status s = stub.Load(&context, request, &response);
  return Status(static_cast<StatusCode>(s.error_code()), s.error_message());
}

RemoteTableOptions Remote(const std::vector<std::unique_ptr<PsServer>>& servers,
                          const std::string& table) {
  RemoteTableOptions o;
  for (const auto& server : servers) o.servers.push_back(Address(*server));
  o.table = table;
  return o;
}

SparseTableOptions EmbOptions() {
  SparseTableOptions o;
  o.dim = 3;
  o.optimizer.name = "adagrad";
  o.optimizer.learning_rate = 0.1f;
  o.seed = 5;
  return o;
}

// One sparse table "emb" with a few trained rows on `servers`.
void TrainEmb(const std::vector<std::unique_ptr<PsServer>>& servers, int rows) {
  auto emb = ConnectSparseTable(Remote(servers, "emb"), EmbOptions());
  ASSERT_TRUE(emb.ok()) << emb.status();
  std::vector<uint64_t> ids;
  for (int i = 0; i < rows; ++i) ids.push_back(static_cast<uint64_t>(i) * 104729 + 3);
  std::vector<float> grads(ids.size() * 3);
  for (size_t i = 0; i < grads.size(); ++i) grads[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
  COLONY_ASSERT_OK((*emb)->Push(ids, grads));
}

TEST(PsCheckpointTest, SaveAndLoadRpcsStayUnderTheCheckpointRoot) {
  const std::string root = FreshDir("root");
  const std::string outside = FreshDir("outside");
  PsServerOptions o;
  o.checkpoint_root = root;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<PsServer>> one;
  one.push_back(std::move(server));
  TrainEmb(one, 10);
  auto stub = Stub(*one[0]);

  COLONY_EXPECT_OK(CallSave(*stub, "job/a"));
  EXPECT_TRUE(fs::exists(root + "/job/a/MANIFEST"));
  COLONY_EXPECT_OK(CallSave(*stub, root + "/b"));  // Absolute, under the root.
  COLONY_EXPECT_OK(CallLoad(*stub, "job/a"));
  fs::create_directory_symlink(outside, root + "/link");
  for (const std::string& dir : {outside + "/x", std::string("../x"), std::string("job/../../x"),
                                 std::string("link/x"), std::string("link")}) {
    EXPECT_THAT(CallSave(*stub, dir),
                StatusIs(StatusCode::kPermissionDenied, HasSubstr("--checkpoint-root")))
        << dir;
    EXPECT_THAT(CallLoad(*stub, dir), StatusIs(StatusCode::kPermissionDenied, HasSubstr(dir)))
        << dir;
  }
  EXPECT_TRUE(fs::is_empty(outside)) << "a refused Save wrote outside the root";
  EXPECT_FALSE(fs::exists(fs::path(root).parent_path() / "x"));

  // Without a root the RPCs are refused; the owner's own calls are not confined.
  auto plain = Start({});
  ASSERT_NE(plain, nullptr);
  auto plain_stub = Stub(*plain);
  EXPECT_THAT(CallSave(*plain_stub, outside + "/y"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("--checkpoint-root")));
  EXPECT_THAT(CallLoad(*plain_stub, root + "/job/a"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("--checkpoint-root")));
  EXPECT_TRUE(fs::is_empty(outside));
  COLONY_ASSERT_OK_AND_ASSIGN(int loaded, plain->LoadTables(root + "/job/a"));
  EXPECT_EQ(loaded, 1);
}

TEST(PsCheckpointTest, CraftedTableNamesInACheckpointCannotReachOutsideTheSsdFolder) {
  const std::string base = FreshDir("crafted");
  const std::string ssd = base + "/ssd", victim = base + "/victim", ckpt = base + "/ckpt";
  fs::create_directories(ssd);
  fs::create_directories(victim);
  COLONY_ASSERT_OK(WriteFileAtomic(victim + "/keep.txt", "precious"));
  PsServerOptions o;
  o.ssd_dir = ssd;
  o.checkpoint_root = ckpt;
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  auto stub = Stub(*server);

  // A spec naming '../victim' under an innocent MANIFEST name, both checksummed.
  rpc::CreateTableRequest spec;
  spec.set_table("../victim");
  spec.set_sparse(true);
  spec.set_dim(2);
  spec.set_memory_rows(10);
  fs::create_directories(ckpt + "/spec/emb");
  COLONY_ASSERT_OK(internal::WriteTableSpec(ckpt + "/spec/emb", spec));
  COLONY_ASSERT_OK(
      internal::WriteManifest(ckpt + "/spec", {.shard = 0, .num_shards = 1, .tables = {"emb"}}));
  EXPECT_THAT(CallLoad(*stub, "spec"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("names table '../victim'")));
  // The MANIFEST itself naming it, with a valid checksum (ckpt/manifest/../victim holds the
  // spec).
  fs::create_directories(ckpt + "/manifest");
  fs::create_directories(ckpt + "/victim");
  COLONY_ASSERT_OK(internal::WriteTableSpec(ckpt + "/victim", spec));
  COLONY_ASSERT_OK(internal::WriteManifest(ckpt + "/manifest",
                                           {.shard = 0, .num_shards = 1, .tables = {"../victim"}}));
  EXPECT_THAT(CallLoad(*stub, "manifest"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("table name '../victim'")));
  EXPECT_THAT(server->LoadTables(ckpt + "/manifest"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("MANIFEST")));
  EXPECT_EQ(ReadFile(victim + "/keep.txt").value_or("gone"), "precious");
}

TEST(PsCheckpointTest, LoadOverALiveSsdTableReplacesItInAFolderOfItsOwn) {
  const std::string base = FreshDir("live_ssd");
  PsServerOptions o;
  o.ssd_dir = base + "/ssd";
  auto server = Start(o);
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<PsServer>> one;
  one.push_back(std::move(server));
  SparseTableOptions capped = EmbOptions();
  capped.memory_rows = 20;
  COLONY_ASSERT_OK_AND_ASSIGN(auto emb, ConnectSparseTable(Remote(one, "emb"), capped));
  std::vector<uint64_t> ids(300);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i * 7 + 1;
  std::vector<float> saved(ids.size() * 3), after(ids.size() * 3);
  COLONY_ASSERT_OK(emb->Pull({}, ids, saved));
  COLONY_ASSERT_OK(one[0]->SaveTables(base + "/ckpt").status());
  COLONY_ASSERT_OK(emb->Push(ids, std::vector<float>(ids.size() * 3, 1.0f)));
  COLONY_ASSERT_OK(one[0]->LoadTables(base + "/ckpt").status());  // Twice: two replacements.
  COLONY_ASSERT_OK_AND_ASSIGN(int loaded, one[0]->LoadTables(base + "/ckpt"));
  EXPECT_EQ(loaded, 1);
  COLONY_ASSERT_OK(emb->Pull({.create_missing = false}, ids, after));
  EXPECT_EQ(after, saved);
  EXPECT_EQ(emb->ssd_rows(), 280);
  // The replaced tables' folders are gone, the live one's is there.
  EXPECT_FALSE(fs::exists(o.ssd_dir + "/emb"));
  EXPECT_FALSE(fs::exists(o.ssd_dir + "/emb@1"));
  EXPECT_TRUE(fs::exists(o.ssd_dir + "/emb@2/CURRENT"));
}

TEST(PsCheckpointTest, EveryCorruptOrTruncatedCheckpointFileIsDataLossNamingIt) {
  const std::string dir = FreshDir("corrupt");
  auto server = Start({});
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<PsServer>> one;
  one.push_back(std::move(server));
  TrainEmb(one, 20);
  DenseTableOptions dense;
  dense.size = 5;
  COLONY_ASSERT_OK(ConnectDenseTable(Remote(one, "w"), dense, {{1, 2, 3, 4, 5}}).status());
  COLONY_ASSERT_OK(one[0]->SaveTables(dir).status());
  const std::vector<std::string> files = {"MANIFEST", "emb/spec.bin", "emb/table.bin", "w/spec.bin",
                                          "w/dense.bin"};
  for (const std::string& file : files) {
    const std::string path = dir + "/" + file;
    COLONY_ASSERT_OK_AND_ASSIGN(const std::string good, ReadFile(path));
    for (const size_t at : {size_t{0}, good.size() / 2, good.size() - 1}) {
      std::string flipped = good;
      flipped[at] ^= 0x10;
      COLONY_ASSERT_OK(WriteFileAtomic(path, flipped));
      auto fresh = Start({});
      EXPECT_THAT(fresh->LoadTables(dir), StatusIs(StatusCode::kDataLoss, HasSubstr(path)))
          << file << " flipped at " << at;
    }
    for (const size_t keep : {size_t{0}, good.size() / 2, good.size() - 1}) {
      COLONY_ASSERT_OK(WriteFileAtomic(path, good.substr(0, keep)));
      auto fresh = Start({});
      EXPECT_THAT(fresh->LoadTables(dir), StatusIs(StatusCode::kDataLoss, HasSubstr(path)))
          << file << " truncated to " << keep;
    }
    COLONY_ASSERT_OK(WriteFileAtomic(path, good));
  }
  auto fresh = Start({});
  COLONY_ASSERT_OK_AND_ASSIGN(int loaded, fresh->LoadTables(dir));
  EXPECT_EQ(loaded, 2);
}

TEST(PsCheckpointTest, UnsetOptimizerFieldsOverGrpcTakeTheDocumentedDefaults) {
  auto server = Start({});
  ASSERT_NE(server, nullptr);
  auto stub = Stub(*server);
  auto create = [&](const rpc::CreateTableRequest& request) {
    grpc::ClientContext context;
    rpc::CreateTableResponse response;
    const grpc::Status s = stub->CreateTable(&context, request, &response);
    return Status(static_cast<StatusCode>(s.error_code()), s.error_message());
  };
  // sgd with a learning rate and nothing else: ftrl's lr_power is not its business.
  rpc::CreateTableRequest sgd;
  sgd.set_table("sgd_table");
  sgd.set_sparse(true);
  sgd.set_dim(2);
  sgd.mutable_optimizer()->set_name("sgd");
  sgd.mutable_optimizer()->set_learning_rate(0.5f);
  sgd.mutable_initializer()->set_type("zeros");
  COLONY_ASSERT_OK(create(sgd));
  // No optimizer or initializer at all: adagrad at 0.01, uniform +-0.01.
  rpc::CreateTableRequest bare;
  bare.set_table("bare");
  bare.set_sparse(true);
  bare.set_dim(2);
  COLONY_ASSERT_OK(create(bare));
  // ftrl still checks its own fields.
  rpc::CreateTableRequest ftrl = sgd;
  ftrl.set_table("ftrl_table");
  ftrl.mutable_optimizer()->set_name("ftrl");
  ftrl.mutable_optimizer()->set_lr_power(0.5f);
  EXPECT_THAT(create(ftrl), StatusIs(StatusCode::kInvalidArgument, HasSubstr("lr_power")));

  // The sgd table steps by 0.5 * grad from zeros.
  std::vector<std::unique_ptr<PsServer>> one;
  one.push_back(std::move(server));
  SparseTableOptions same;
  same.dim = 2;
  same.optimizer.name = "sgd";
  same.optimizer.learning_rate = 0.5f;
  same.initializer.type = "zeros";
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, ConnectSparseTable(Remote(one, "sgd_table"), same));
  const std::vector<uint64_t> ids = {7};
  COLONY_ASSERT_OK(table->Push(ids, std::vector<float>{1.0f, -2.0f}));
  std::vector<float> out(2);
  COLONY_ASSERT_OK(table->Pull({}, ids, out));
  EXPECT_EQ(out, (std::vector<float>{-0.5f, 1.0f}));
  // The bare table's rows start within the default uniform bounds, not at zero.
  SparseTableOptions defaults;
  defaults.dim = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto bare_table, ConnectSparseTable(Remote(one, "bare"), defaults));
  COLONY_ASSERT_OK(bare_table->Pull({}, ids, out));
  for (float v : out) {
    EXPECT_NE(v, 0.0f);
    EXPECT_LE(std::abs(v), 0.01f);
  }
}

// Servers `0..n-1` of n, as a job's.
std::vector<std::unique_ptr<PsServer>> StartShards(int n) {
  std::vector<std::unique_ptr<PsServer>> servers;
  for (int i = 0; i < n; ++i) {
    PsServerOptions o;
    o.shard = i;
    o.num_shards = n;
    servers.push_back(Start(o));
  }
  return servers;
}

// Everything a job's tables hold, read through the clients: sparse rows by id (pulled
// without creating) and dense values by name; plus the rows each server holds.
struct JobState {
  std::vector<float> rows;
  std::map<std::string, std::vector<float>> dense;
  int64_t server_rows = 0;  // Sum over servers of their sparse rows.
  int dense_copies = 0;     // Dense tables found on servers, counting copies.
};

constexpr int kRows = 600;
const char* const kDense[] = {"d0", "d1", "d2", "d3", "d4", "d5"};

std::vector<uint64_t> AllIds() {
  std::vector<uint64_t> ids;
  for (int i = 0; i < kRows; ++i) ids.push_back(static_cast<uint64_t>(i) * 104729 + 3);
  return ids;
}

JobState ReadJob(const std::vector<std::unique_ptr<PsServer>>& servers) {
  JobState state;
  auto emb = ConnectSparseTable(Remote(servers, "emb"), EmbOptions());
  EXPECT_TRUE(emb.ok()) << emb.status();
  if (!emb.ok()) return state;
  const std::vector<uint64_t> ids = AllIds();
  state.rows.resize(ids.size() * 3);
  EXPECT_TRUE((*emb)->Pull({.create_missing = false}, ids, state.rows).ok());
  for (const char* name : kDense) {
    DenseTableOptions o;
    o.size = 4;
    o.optimizer.name = "sgd";
    auto table = ConnectDenseTable(Remote(servers, name), o);
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) continue;
    std::vector<float> values(4);
    EXPECT_TRUE((*table)->Pull(values).ok());
    state.dense[name] = values;
  }
  for (const auto& server : servers) {
    auto stats = QueryServerStats(Address(*server), "");
    EXPECT_TRUE(stats.ok()) << stats.status();
    if (!stats.ok()) continue;
    for (const ServerStats::Table& t : stats->tables) {
      if (t.sparse) state.server_rows += t.rows;
      if (!t.sparse) ++state.dense_copies;
    }
  }
  return state;
}

TEST(PsCheckpointTest, ACheckpointOfNServersLoadsIntoMServers) {
  const std::string job = FreshDir("reshard"), job2 = FreshDir("reshard2");
  JobState before;
  {
    auto two = StartShards(2);
    TrainEmb(two, kRows);
    for (int k = 0; k < 6; ++k) {
      DenseTableOptions o;
      o.size = 4;
      o.optimizer.name = "sgd";
      const float v = static_cast<float>(k);
      auto d = ConnectDenseTable(Remote(two, kDense[k]), o, {{v, v + 1, v + 2, v + 3}});
      COLONY_ASSERT_OK(d.status());
      COLONY_ASSERT_OK((*d)->Push(std::vector<float>{1, 1, 1, 1}));
    }
    before = ReadJob(two);
    ASSERT_EQ(before.server_rows, kRows);
    ASSERT_EQ(before.dense_copies, 6);
    for (int i = 0; i < 2; ++i) {
      COLONY_ASSERT_OK(two[i]->SaveTables(ServerCheckpointDir(job, i)).status());
    }
  }
  // 2 -> 3: every row and dense table once, values equal.
  {
    auto three = StartShards(3);
    int tables = 0;
    for (const auto& server : three) {
      COLONY_ASSERT_OK_AND_ASSIGN(int n, server->LoadJobCheckpoint(job));
      tables += n;
    }
    EXPECT_EQ(tables, 3 + 6);  // emb on each server, each dense table once.
    const JobState after = ReadJob(three);
    EXPECT_EQ(after.rows, before.rows);
    EXPECT_EQ(after.dense, before.dense);
    EXPECT_EQ(after.server_rows, kRows);
    EXPECT_EQ(after.dense_copies, 6);
    for (int i = 0; i < 3; ++i) {
      COLONY_ASSERT_OK(three[i]->SaveTables(ServerCheckpointDir(job2, i)).status());
    }
  }
  // 3 -> 1.
  {
    auto one = StartShards(1);
    COLONY_ASSERT_OK_AND_ASSIGN(int tables, one[0]->LoadJobCheckpoint(job2));
    EXPECT_EQ(tables, 7);
    const JobState after = ReadJob(one);
    EXPECT_EQ(after.rows, before.rows);
    EXPECT_EQ(after.dense, before.dense);
    EXPECT_EQ(after.server_rows, kRows);
  }
  // The same count loads each server's own folder.
  {
    auto two = StartShards(2);
    for (const auto& server : two) COLONY_ASSERT_OK(server->LoadJobCheckpoint(job).status());
    const JobState after = ReadJob(two);
    EXPECT_EQ(after.rows, before.rows);
    EXPECT_EQ(after.server_rows, kRows);
  }
  // Folders from runs with different server counts are refused, not mixed.
  fs::remove_all(ServerCheckpointDir(job, 1));
  fs::copy(ServerCheckpointDir(job2, 1), ServerCheckpointDir(job, 1), fs::copy_options::recursive);
  auto again = StartShards(1);
  EXPECT_THAT(again[0]->LoadJobCheckpoint(job),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("shard 1 of 3")));
  EXPECT_THAT(again[0]->LoadJobCheckpoint(FreshDir("nothing")),
              StatusIs(StatusCode::kNotFound, HasSubstr("server-0/MANIFEST")));
  PsServerOptions outside;
  outside.shard = 2;
  outside.num_shards = 2;
  EXPECT_THAT(PsServer::Start(outside), StatusIs(StatusCode::kInvalidArgument,
                                                 HasSubstr("shard must be in [0, num_shards)")));
}

}  // namespace
}  // namespace colony::ps
