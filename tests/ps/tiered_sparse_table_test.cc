// The row policies: an SSD tier far smaller than the table, admission and ttl eviction.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "colony/base/file_util.h"
#include "colony/ps/sparse_table.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::Each;
using ::testing::HasSubstr;

std::string FreshDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/colony_tiered_" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

SparseTableOptions Options() {
  SparseTableOptions o;
  o.dim = 4;
  o.optimizer.name = "adam";
  o.optimizer.learning_rate = 0.1f;
  o.seed = 7;
  return o;
}

// Zipf-like ids over [0, 5000), with duplicates, in batches.
std::vector<std::vector<uint64_t>> Batches(int count, int size) {
  std::mt19937_64 rng(11);
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& batch : batches) {
    for (int i = 0; i < size; ++i) {
      const double u = std::uniform_real_distribution<double>(0, 1)(rng);
      batch.push_back(static_cast<uint64_t>(5000 * u * u * u) * 7919);
    }
  }
  return batches;
}

TEST(TieredSparseTableTest, TableFarBeyondTheMemoryCapTrainsLikeTheMemoryTable) {
  SparseTableOptions tiered_options = Options();
  tiered_options.memory_rows = 50;
  tiered_options.ssd_dir = FreshDir("ssd") + "/rows";
  COLONY_ASSERT_OK_AND_ASSIGN(auto tiered, SparseTable::Create(tiered_options));
  COLONY_ASSERT_OK_AND_ASSIGN(auto memory, SparseTable::Create(Options()));
  std::vector<float> a, b;
  for (const auto& ids : Batches(30, 300)) {
    a.resize(ids.size() * 4);
    b.resize(ids.size() * 4);
    COLONY_ASSERT_OK(tiered->Pull({}, ids, a));
    COLONY_ASSERT_OK(memory->Pull({}, ids, b));
    ASSERT_EQ(a, b);
    std::vector<float> grads(ids.size() * 4);
    for (size_t i = 0; i < grads.size(); ++i) grads[i] = a[i] - 0.3f * static_cast<float>(i % 5);
    COLONY_ASSERT_OK(tiered->Push(ids, grads));
    COLONY_ASSERT_OK(memory->Push(ids, grads));
  }
  EXPECT_EQ(tiered->size(), memory->size());
  EXPECT_GT(memory->size(), 1000);
  EXPECT_GE(tiered->ssd_rows(), tiered->size() - 50);  // All but the cap is on SSD.

  // Every row, read without creating, is bit-equal; checkpoints are interchangeable.
  std::vector<uint64_t> all;
  for (uint64_t i = 0; i < 5000; ++i) all.push_back(i * 7919);
  a.resize(all.size() * 4);
  b.resize(all.size() * 4);
  COLONY_ASSERT_OK(tiered->Pull({.create_missing = false}, all, a));
  COLONY_ASSERT_OK(memory->Pull({.create_missing = false}, all, b));
  EXPECT_EQ(a, b);
  const std::string saved = FreshDir("saved");
  COLONY_ASSERT_OK(tiered->Save(saved));
  COLONY_ASSERT_OK_AND_ASSIGN(auto reloaded, SparseTable::Create(Options()));
  COLONY_ASSERT_OK(reloaded->Load(saved));
  COLONY_ASSERT_OK(reloaded->Pull({.create_missing = false}, all, a));
  EXPECT_EQ(a, b);
  // The SSD rows streamed from RocksDB merge with the memory rows into the very file the
  // memory table writes.
  const std::string from_memory = FreshDir("saved_memory");
  COLONY_ASSERT_OK(memory->Save(from_memory));
  EXPECT_EQ(ReadFile(saved + "/table.bin").value_or("a"),
            ReadFile(from_memory + "/table.bin").value_or("b"));
  COLONY_ASSERT_OK(memory->Save(saved));
  COLONY_ASSERT_OK(tiered->Load(saved));
  EXPECT_EQ(tiered->size(), memory->size());
  EXPECT_GE(tiered->ssd_rows(), tiered->size() - 50);  // Loading keeps the cap too.
  COLONY_ASSERT_OK(tiered->Pull({.create_missing = false}, all, a));
  EXPECT_EQ(a, b);
}

TEST(TieredSparseTableTest, LoadFromTakesTheKeptRowsOfSeveralFilesOntoSsd) {
  // Two files of disjoint ids, as two servers save them; the table keeps the even ids.
  const std::string one = FreshDir("part_one"), two = FreshDir("part_two");
  std::vector<uint64_t> ids_one, ids_two;
  for (uint64_t id = 0; id < 400; ++id) (id % 3 == 0 ? ids_one : ids_two).push_back(id);
  COLONY_ASSERT_OK_AND_ASSIGN(auto a, SparseTable::Create(Options()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto b, SparseTable::Create(Options()));
  std::vector<float> rows_one(ids_one.size() * 4), rows_two(ids_two.size() * 4);
  COLONY_ASSERT_OK(a->Pull({}, ids_one, rows_one));
  COLONY_ASSERT_OK(b->Pull({}, ids_two, rows_two));
  COLONY_ASSERT_OK(a->Save(one));
  COLONY_ASSERT_OK(b->Save(two));
  SparseTableOptions tiered_options = Options();
  tiered_options.memory_rows = 20;
  tiered_options.ssd_dir = FreshDir("ssd_parts") + "/rows";
  COLONY_ASSERT_OK_AND_ASSIGN(auto tiered, SparseTable::Create(tiered_options));
  COLONY_ASSERT_OK(tiered->LoadFrom({one, two}, [](uint64_t id) { return id % 2 == 0; }));
  EXPECT_EQ(tiered->size(), 200);
  EXPECT_EQ(tiered->ssd_rows(), 180);
  std::vector<uint64_t> all(400);
  for (uint64_t id = 0; id < 400; ++id) all[id] = id;
  std::vector<float> got(all.size() * 4);
  COLONY_ASSERT_OK(tiered->Pull({.create_missing = false}, all, got));
  for (uint64_t id = 0; id < 400; ++id) {
    const bool first = id % 3 == 0;
    const auto& ids = first ? ids_one : ids_two;
    const auto& rows = first ? rows_one : rows_two;
    const size_t at = std::lower_bound(ids.begin(), ids.end(), id) - ids.begin();
    for (int j = 0; j < 4; ++j) {
      ASSERT_EQ(got[id * 4 + j], id % 2 == 0 ? rows[at * 4 + j] : 0.0f) << id;
    }
  }
  // A file that repeats another's ids is refused.
  SparseTableOptions memory_only = tiered_options;
  memory_only.memory_rows = 1000;
  memory_only.ssd_dir = FreshDir("ssd_parts2") + "/rows";
  COLONY_ASSERT_OK_AND_ASSIGN(auto twice, SparseTable::Create(memory_only));
  EXPECT_THAT(twice->LoadFrom({one, one}, nullptr),
              StatusIs(StatusCode::kDataLoss, HasSubstr("in another file too")));
}

TEST(TieredSparseTableTest, AnIdGetsARowAtItsAdmitCountthPull) {
  SparseTableOptions o = Options();
  o.admit_count = 3;
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, SparseTable::Create(o));
  COLONY_ASSERT_OK_AND_ASSIGN(auto plain, SparseTable::Create(Options()));
  const std::vector<uint64_t> id = {99};
  std::vector<float> row(4), fresh(4);
  const std::vector<float> grad = {1, 1, 1, 1};
  for (int pull = 1; pull <= 2; ++pull) {
    COLONY_ASSERT_OK(table->Pull({}, id, row));
    EXPECT_THAT(row, Each(0.0f)) << "pull " << pull;
    COLONY_ASSERT_OK(table->Push(id, grad));  // Dropped: no row yet.
    EXPECT_EQ(table->size(), 0);
  }
  COLONY_ASSERT_OK(table->Pull({}, id, row));
  COLONY_ASSERT_OK(plain->Pull({}, id, fresh));
  EXPECT_EQ(row, fresh) << "the third pull creates the row from the initializer";
  COLONY_ASSERT_OK(table->Push(id, grad));
  COLONY_ASSERT_OK(plain->Push(id, grad));
  COLONY_ASSERT_OK(table->Pull({}, id, row));
  COLONY_ASSERT_OK(plain->Pull({}, id, fresh));
  EXPECT_EQ(row, fresh);
  EXPECT_EQ(table->size(), 1);
}

TEST(TieredSparseTableTest, AdmissionByChanceIsReproducible) {
  SparseTableOptions o = Options();
  o.admit_probability = 0.25f;
  COLONY_ASSERT_OK_AND_ASSIGN(auto first, SparseTable::Create(o));
  COLONY_ASSERT_OK_AND_ASSIGN(auto second, SparseTable::Create(o));
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 4000; ++i) ids.push_back(i);
  std::vector<float> a(ids.size() * 4), b(ids.size() * 4);
  COLONY_ASSERT_OK(first->Pull({}, ids, a));
  COLONY_ASSERT_OK(second->Pull({}, ids, b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(first->size(), second->size());
  EXPECT_NEAR(static_cast<double>(first->size()) / 4000, 0.25, 0.03);
}

TEST(TieredSparseTableTest, RowsUnseenForTtlPassesAreEvictedFromMemoryAndSsd) {
  SparseTableOptions o = Options();
  o.ttl_passes = 1;
  o.memory_rows = 10;
  o.ssd_dir = FreshDir("ttl") + "/rows";
  COLONY_ASSERT_OK_AND_ASSIGN(auto table, SparseTable::Create(o));
  std::vector<uint64_t> old_ids, new_ids;
  for (uint64_t i = 0; i < 40; ++i) old_ids.push_back(i);
  for (uint64_t i = 100; i < 130; ++i) new_ids.push_back(i);
  std::vector<float> rows(40 * 4);
  COLONY_ASSERT_OK(table->Pull({}, old_ids, rows));
  EXPECT_GT(table->ssd_rows(), 0);
  EXPECT_EQ(*table->EndPass(), 0);  // Seen in the pass that ended.
  rows.resize(30 * 4);
  COLONY_ASSERT_OK(table->Pull({}, new_ids, rows));
  EXPECT_EQ(*table->EndPass(), 40);  // The old ids were not pulled in the last pass.
  EXPECT_EQ(table->size(), 30);
  rows.resize(40 * 4);
  COLONY_ASSERT_OK(table->Pull({.create_missing = false}, old_ids, rows));
  EXPECT_THAT(rows, Each(0.0f));
}

TEST(TieredSparseTableTest, AddCreatesRowsAndAddsWithoutAnOptimizerStep) {
  SparseTableOptions o = Options();
  o.admit_count = 5;  // Deltas come from workers where the ids were admitted.
  COLONY_ASSERT_OK_AND_ASSIGN(auto tiered, SparseTable::Create(o));
  COLONY_ASSERT_OK_AND_ASSIGN(auto memory, SparseTable::Create(Options()));
  const std::vector<uint64_t> ids = {3, 8};
  const std::vector<float> deltas = {1, 2, 3, 4, -1, -2, -3, -4};
  std::vector<float> a(8), b(8), init(8);
  COLONY_ASSERT_OK(memory->Pull({.create_missing = false}, ids, init));
  for (auto* table : {tiered.get(), memory.get()}) COLONY_ASSERT_OK(table->Add(ids, deltas));
  COLONY_ASSERT_OK(tiered->Pull({.create_missing = false}, ids, a));
  COLONY_ASSERT_OK(memory->Pull({.create_missing = false}, ids, b));
  EXPECT_EQ(a, b);
  EXPECT_EQ(tiered->size(), 2);
  EXPECT_THAT(tiered->Add(ids, std::vector<float>(3)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected ids * dim = 8")));
}

TEST(TieredSparseTableTest, BadPolicyOptionsNameTheField) {
  SparseTableOptions o = Options();
  o.memory_rows = 10;
  EXPECT_THAT(SparseTable::Create(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ssd_dir")));
  o = Options();
  o.admit_count = 0;
  EXPECT_THAT(SparseTable::Create(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("admit_count")));
  o = Options();
  o.admit_probability = 0;
  EXPECT_THAT(SparseTable::Create(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("admit_probability")));
  o = Options();
  o.ttl_passes = -1;
  EXPECT_THAT(SparseTable::Create(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ttl")));
  o = Options();
  o.memory_rows = 10;
  o.ssd_dir = "/proc/colony-cannot-write-here";
  EXPECT_THAT(SparseTable::Create(o),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("SSD tier")));
}

}  // namespace
}  // namespace colony::ps
