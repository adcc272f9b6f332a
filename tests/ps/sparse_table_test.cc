#include "colony/ps/sparse_table.h"

#include <cstring>
#include <filesystem>
#include <thread>

#include "colony/base/file_util.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/internal/table_file.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/colony_ps_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

SparseTableOptions Options(int dim, const std::string& optimizer = "sgd") {
  SparseTableOptions o;
  o.dim = dim;
  o.optimizer.name = optimizer;
  o.optimizer.learning_rate = 0.5f;
  o.seed = 42;
  return o;
}

TEST(SparseTableTest, BadOptionsNameTheField) {
  struct Case {
    SparseTableOptions options;
    StatusCode code;
    const char* fragment;
  };
  std::vector<Case> cases;
  cases.push_back({Options(0), StatusCode::kInvalidArgument, "dim must be in [1, 1048576], got 0"});
  // One pull of a 2^31 - 1 float row would allocate 8 GB.
  cases.push_back({Options(2147483647), StatusCode::kInvalidArgument,
                   "dim must be in [1, 1048576], got 2147483647"});
  cases.push_back(
      {Options(4, "rmsprop"), StatusCode::kNotFound, "known: adagrad, adam, ftrl, sgd"});
  SparseTableOptions lr = Options(4);
  lr.optimizer.learning_rate = 0;
  cases.push_back({lr, StatusCode::kInvalidArgument, "learning_rate must be > 0"});
  SparseTableOptions init = Options(4);
  init.initializer.type = "orthogonal";
  cases.push_back({init, StatusCode::kInvalidArgument, "initializer type 'orthogonal'"});
  SparseTableOptions range = Options(4);
  range.initializer.low = 1;
  range.initializer.high = 0;
  cases.push_back({range, StatusCode::kInvalidArgument, "low must be <= high"});
  SparseTableOptions shards = Options(4);
  shards.num_shards = 0;
  cases.push_back({shards, StatusCode::kInvalidArgument, "num_shards"});
  for (const Case& c : cases) {
    EXPECT_THAT(SparseTable::Create(c.options), StatusIs(c.code, HasSubstr(c.fragment)));
  }
}

TEST(SparseTableTest, RowsAreAPureFunctionOfSeedAndId) {
  COLONY_ASSERT_OK_AND_ASSIGN(auto a, SparseTable::Create(Options(3)));
  COLONY_ASSERT_OK_AND_ASSIGN(auto b, SparseTable::Create(Options(3)));
  const std::vector<uint64_t> forward = {1, 2, 3, 1000};
  const std::vector<uint64_t> backward = {1000, 3, 2, 1};
  std::vector<float> ra(12), rb(12);
  COLONY_ASSERT_OK(a->Pull({}, forward, ra));
  COLONY_ASSERT_OK(b->Pull({}, backward, rb));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(ra[i * 3 + j], rb[(3 - i) * 3 + j]);
  }
  EXPECT_NE(ra[0], ra[3]);  // Different ids, different rows.
  for (float v : ra) {
    EXPECT_GE(v, -0.01f);
    EXPECT_LE(v, 0.01f);
  }
  EXPECT_EQ(a->size(), 4);
}

TEST(SparseTableTest, PullWithoutCreateReturnsZerosForUnseenIds) {
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(2)));
  std::vector<float> out(4, 7.0f);
  COLONY_ASSERT_OK(t->Pull({.create_missing = false}, std::vector<uint64_t>{5, 6}, out));
  EXPECT_EQ(out, std::vector<float>(4, 0.0f));
  EXPECT_EQ(t->size(), 0);
}

TEST(SparseTableTest, PushSumsDuplicateIds) {
  SparseTableOptions o = Options(2);
  o.initializer.type = "zeros";
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(o));
  COLONY_ASSERT_OK(t->Push(std::vector<uint64_t>{9, 9, 4}, std::vector<float>{1, 2, 3, 4, 10, 20}));
  std::vector<float> out(4);
  COLONY_ASSERT_OK(t->Pull({}, std::vector<uint64_t>{9, 4}, out));
  // SGD with lr 0.5 on the summed gradient (4, 6) and on (10, 20).
  EXPECT_EQ(out, (std::vector<float>{-2, -3, -5, -10}));
}

TEST(SparseTableTest, SizeMismatchIsInvalidArgument) {
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(2)));
  std::vector<float> out(3);
  EXPECT_THAT(t->Pull({}, std::vector<uint64_t>{1, 2}, out),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected ids * dim = 4")));
  EXPECT_THAT(t->Push(std::vector<uint64_t>{1}, std::vector<float>{1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("push")));
}

TEST(SparseTableTest, SaveLoadRoundTripIsBitExactWithOptimizerState) {
  const std::string dir = FreshDir("roundtrip");
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(3, "adam")));
  const std::vector<uint64_t> ids = {3, 1, 4, 1, 5};
  const std::vector<float> grads = {0.1f, -0.2f, 0.3f, 1,    2, 3, -1, 0,
                                    1,    0.5f,  0.5f, 0.5f, 7, 8, 9};
  COLONY_ASSERT_OK(t->Push(ids, grads));
  COLONY_ASSERT_OK(t->Save(dir));
  COLONY_ASSERT_OK_AND_ASSIGN(auto loaded, SparseTable::Create(Options(3, "adam")));
  COLONY_ASSERT_OK(loaded->Load(dir));
  EXPECT_EQ(loaded->size(), 4);
  // One more identical step on both: equal only if the Adam moments were restored too.
  COLONY_ASSERT_OK(t->Push(ids, grads));
  COLONY_ASSERT_OK(loaded->Push(ids, grads));
  std::vector<float> a(12), b(12);
  const std::vector<uint64_t> all = {1, 3, 4, 5};
  COLONY_ASSERT_OK(t->Pull({}, all, a));
  COLONY_ASSERT_OK(loaded->Pull({}, all, b));
  EXPECT_EQ(a, b);
  // The file is the same whatever the insertion history.
  COLONY_ASSERT_OK(t->Save(dir));
  const std::string other = FreshDir("roundtrip2");
  COLONY_ASSERT_OK(loaded->Save(other));
  EXPECT_EQ(*ReadFile(dir + "/table.bin"), *ReadFile(other + "/table.bin"));
}

TEST(SparseTableTest, CorruptOrMismatchedFilesAreRefused) {
  const std::string dir = FreshDir("corrupt");
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(2)));
  std::vector<float> out(2);
  COLONY_ASSERT_OK(t->Pull({}, std::vector<uint64_t>{1}, out));
  COLONY_ASSERT_OK(t->Save(dir));
  COLONY_ASSERT_OK_AND_ASSIGN(auto wide, SparseTable::Create(Options(3)));
  EXPECT_THAT(wide->Load(dir), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("dim 2")));
  COLONY_ASSERT_OK_AND_ASSIGN(auto adagrad, SparseTable::Create(Options(2, "adagrad")));
  EXPECT_THAT(adagrad->Load(dir), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("sgd")));
  std::string bytes = *ReadFile(dir + "/table.bin");
  bytes[bytes.size() / 2] ^= 0x5A;
  COLONY_ASSERT_OK(WriteFileAtomic(dir + "/table.bin", bytes));
  EXPECT_THAT(t->Load(dir), StatusIs(StatusCode::kDataLoss, HasSubstr("checksum")));
  EXPECT_THAT(t->Load(FreshDir("empty")), StatusIs(StatusCode::kNotFound, HasSubstr("table.bin")));
}

TEST(SparseTableTest, ConcurrentPushesEqualSerialPushes) {
  SparseTableOptions o = Options(4);
  o.initializer.type = "zeros";
  o.optimizer.learning_rate = 1.0f;
  COLONY_ASSERT_OK_AND_ASSIGN(auto concurrent, SparseTable::Create(o));
  COLONY_ASSERT_OK_AND_ASSIGN(auto serial, SparseTable::Create(o));
  // Integer-valued gradients: float sums are exact, so the order of pushes cannot matter.
  auto batch = [](int thread, int round, std::vector<uint64_t>* ids, std::vector<float>* g) {
    ids->clear();
    g->clear();
    for (int i = 0; i < 200; ++i) {
      ids->push_back(static_cast<uint64_t>((i * 7 + round * 13 + thread) % 97));
      for (int j = 0; j < 4; ++j) g->push_back(static_cast<float>((i + j + thread) % 5 - 2));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint64_t> ids;
      std::vector<float> g;
      for (int round = 0; round < 50; ++round) {
        batch(t, round, &ids, &g);
        ASSERT_TRUE(concurrent->Push(ids, g).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> ids;
  std::vector<float> g;
  for (int t = 0; t < 4; ++t) {
    for (int round = 0; round < 50; ++round) {
      batch(t, round, &ids, &g);
      COLONY_ASSERT_OK(serial->Push(ids, g));
    }
  }
  std::vector<uint64_t> all(97);
  for (uint64_t i = 0; i < 97; ++i) all[i] = i;
  std::vector<float> a(97 * 4), b(97 * 4);
  COLONY_ASSERT_OK(concurrent->Pull({}, all, a));
  COLONY_ASSERT_OK(serial->Pull({}, all, b));
  EXPECT_EQ(a, b);
}

TEST(SparseTableTest, RowsDoNotDependOnThreadsOrShards) {
  SparseTableOptions o = Options(5);
  o.initializer.type = "normal";
  COLONY_ASSERT_OK_AND_ASSIGN(auto serial, SparseTable::Create(o));
  o.num_shards = 3;
  COLONY_ASSERT_OK_AND_ASSIGN(auto threaded, SparseTable::Create(o));
  std::vector<uint64_t> all(1000);
  for (uint64_t i = 0; i < all.size(); ++i) all[i] = i * 0x9E3779B97F4A7C15ull;
  // Four threads create the rows, each walking the ids from a different starting point.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint64_t> ids(all.begin() + t * 250, all.end());
      ids.insert(ids.end(), all.begin(), all.begin() + t * 250);
      std::vector<float> out(ids.size() * 5);
      ASSERT_TRUE(threaded->Pull({}, ids, out).ok());
    });
  }
  for (auto& th : threads) th.join();
  std::vector<float> a(all.size() * 5), b(all.size() * 5);
  COLONY_ASSERT_OK(serial->Pull({}, all, a));
  COLONY_ASSERT_OK(threaded->Pull({.create_missing = false}, all, b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(threaded->size(), 1000);
  // A different seed gives different rows.
  o.seed = 43;
  COLONY_ASSERT_OK_AND_ASSIGN(auto reseeded, SparseTable::Create(o));
  COLONY_ASSERT_OK(reseeded->Pull({}, all, b));
  EXPECT_NE(a, b);
}

TEST(SparseTableTest, LoadReplacesTheContents) {
  const std::string dir = FreshDir("replace");
  SparseTableOptions o = Options(2, "adagrad");
  COLONY_ASSERT_OK_AND_ASSIGN(auto saved, SparseTable::Create(o));
  std::vector<float> two(2);
  COLONY_ASSERT_OK(saved->Pull({}, std::vector<uint64_t>{1}, two));
  COLONY_ASSERT_OK(saved->Save(dir));
  // A table with other rows and another learning rate: the file's rows replace its own.
  o.optimizer.learning_rate = 0.1f;
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(o));
  std::vector<float> four(4);
  COLONY_ASSERT_OK(t->Pull({}, std::vector<uint64_t>{2, 3}, four));
  COLONY_ASSERT_OK(t->Load(dir));
  EXPECT_EQ(t->size(), 1);
  COLONY_ASSERT_OK(t->Pull({.create_missing = false}, std::vector<uint64_t>{1, 2}, four));
  EXPECT_EQ(four, (std::vector<float>{two[0], two[1], 0, 0}));
}

TEST(SparseTableTest, FileWithWrongRowCountIsDataLoss) {
  // A well-formed checksum around a payload shorter than its header says.
  const std::string dir = FreshDir("count");
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(2)));
  std::vector<float> out(4);
  COLONY_ASSERT_OK(t->Pull({}, std::vector<uint64_t>{1, 2}, out));
  COLONY_ASSERT_OK(t->Save(dir));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFile(dir + "/table.bin"));
  // Drop the CRC and the last row (8-byte id + 2 floats), then re-checksum.
  bytes.resize(bytes.size() - 4 - 16);
  internal::TableFileWriter rewritten(dir + "/table.bin", kSparseTableFormat);
  rewritten.PutBytes(std::string_view(bytes).substr(sizeof(kSparseTableFormat)));
  COLONY_ASSERT_OK(rewritten.Finish());
  EXPECT_THAT(t->Load(dir), StatusIs(StatusCode::kDataLoss, HasSubstr("header says 2 rows")));
  EXPECT_EQ(t->size(), 2);  // A failed load leaves the table as it was.
  // A file of the other format is refused too.
  internal::TableFileWriter dense(dir + "/table.bin", kDenseTableFormat);
  COLONY_ASSERT_OK(dense.Finish());
  EXPECT_THAT(t->Load(dir), StatusIs(StatusCode::kDataLoss, HasSubstr("colony-sparse-v1")));
}

TEST(SparseTableTest, RowCountThatOverflowsTheSizeCheckIsDataLoss) {
  // count x row bytes wraps past 2^64 to the payload's real size: 2 + 2^62 rows of 16 bytes
  // "fit" in 32 bytes when the product is taken mod 2^64.
  const std::string dir = FreshDir("wrap");
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, SparseTable::Create(Options(2, "sgd")));
  std::vector<float> out(4);
  COLONY_ASSERT_OK(t->Pull({}, std::vector<uint64_t>{1, 2}, out));
  COLONY_ASSERT_OK(t->Save(dir));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFile(dir + "/table.bin"));
  bytes.resize(bytes.size() - 4);            // The CRC.
  const size_t count_at = bytes.size() - 2 * 16 - 8;  // Two rows of id + 2 floats, after the count.
  int64_t count = 0;
  std::memcpy(&count, bytes.data() + count_at, 8);
  ASSERT_EQ(count, 2);
  count += int64_t{1} << 62;
  std::memcpy(bytes.data() + count_at, &count, 8);
  internal::TableFileWriter rewritten(dir + "/table.bin", kSparseTableFormat);
  rewritten.PutBytes(std::string_view(bytes).substr(sizeof(kSparseTableFormat)));
  COLONY_ASSERT_OK(rewritten.Finish());
  EXPECT_THAT(t->Load(dir),
              StatusIs(StatusCode::kDataLoss,
                       HasSubstr("table.bin: header says 4611686018427387906 rows of 16 bytes, "
                                 "the payload has 32 bytes")));
  EXPECT_EQ(t->size(), 2);
}

}  // namespace
}  // namespace colony::ps
