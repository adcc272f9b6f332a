#include "colony/retrieval/tree_index.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "colony/base/file_util.h"
#include "colony/retrieval/internal/tree.h"
#include "retrieval/test_data.h"
#include "testing/status_matchers.h"

namespace colony::retrieval {
namespace {
using ::colony::testing::StatusIs;
using testing::ClusteredVectors;
using ::testing::HasSubstr;

std::span<const float> Row(const VectorSet& set, int64_t i) {
  return {set.row(i), static_cast<size_t>(set.dim)};
}

double Recall(const SearchResults& got, const SearchResults& truth) {
  int64_t hits = 0, total = 0;
  for (int64_t q = 0; q < got.num_queries; ++q) {
    std::set<uint64_t> want(truth.row(q).begin(), truth.row(q).end());
    for (uint64_t id : got.row(q)) hits += want.count(id);
    total += static_cast<int64_t>(want.size());
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

class TreeIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("colony_tree_index_test_" + std::to_string(getpid()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TreeIndexTest, TreesAreCompleteForAnyItemCount) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100, 257, 1000}) {
    const VectorSet items = ClusteredVectors(n, 4, 3, static_cast<uint64_t>(n));
    COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({.num_trees = 2}, items));
    COLONY_EXPECT_OK(index->CheckInvariantsForTesting());
    for (int t = 0; t < 2; ++t) {
      const int depth = index->tree_depth(t);
      EXPECT_GE(depth, 1) << "at least two layers, n=" << n;
      EXPECT_GE(int64_t{1} << depth, n) << "every item has a leaf, n=" << n;
      EXPECT_LT(int64_t{1} << (depth - 1), std::max<int64_t>(n, 2)) << "no empty half, n=" << n;
    }
    EXPECT_EQ(index->size(), n);
  }
  EXPECT_EQ(internal::DepthFor(1), 1);
  EXPECT_EQ(internal::DepthFor(2), 1);
  EXPECT_EQ(internal::DepthFor(3), 2);
  EXPECT_EQ(internal::DepthFor(1025), 11);
}

TEST_F(TreeIndexTest, BeamOverAllNodesIsExactForBothMetrics) {
  const VectorSet items = ClusteredVectors(1500, 12, 10, 1);
  const VectorSet queries = ClusteredVectors(40, 12, 10, 2);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    COLONY_ASSERT_OK_AND_ASSIGN(auto index,
                                TreeIndex::Build({.num_trees = 1, .metric = metric}, items));
    COLONY_ASSERT_OK_AND_ASSIGN(SearchResults exact, index->ExactSearch(10, queries.data));
    for (int scan : {1, 4}) {
      COLONY_ASSERT_OK_AND_ASSIGN(
          SearchResults all,
          index->Search(
              {.k = 10, .beam = 1 << index->tree_depth(0), .scan_leaves = scan, .rerank = 0},
              queries.data));
      EXPECT_EQ(all.ids, exact.ids) << MetricName(metric) << " scan " << scan;
      EXPECT_EQ(all.distances, exact.distances);
    }
  }
}

TEST_F(TreeIndexTest, RecallGrowsWithBeamAndTrees) {
  const VectorSet items = ClusteredVectors(4000, 16, 40, 3);
  const VectorSet queries = ClusteredVectors(100, 16, 40, 4);
  COLONY_ASSERT_OK_AND_ASSIGN(auto one, TreeIndex::Build({.num_trees = 1, .seed = 9}, items));
  COLONY_ASSERT_OK_AND_ASSIGN(auto four, TreeIndex::Build({.num_trees = 4, .seed = 9}, items));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults exact, one->ExactSearch(10, queries.data));
  auto recall = [&](const TreeIndex& index, int beam) {
    auto r = index.Search({.k = 10, .beam = beam}, queries.data);
    EXPECT_TRUE(r.ok());
    return Recall(*r, exact);
  };
  // Random items would hold 10 / 4000 = 0.0025 of the true top 10. Measured (seeded, so
  // the same every run): one path 0.037, beam 4 0.275 (four trees 0.673), beam 64 0.977.
  const double single_path = recall(*one, 1);
  EXPECT_GT(single_path, 0.025);
  EXPECT_GT(recall(*four, 4), 0.5);
  EXPECT_LT(single_path, recall(*one, 64));
  EXPECT_LT(recall(*one, 4), recall(*four, 4));
  EXPECT_GE(recall(*four, 64), 0.9);
}

TEST_F(TreeIndexTest, InsertAndRemoveWithoutRebuild) {
  const VectorSet items = ClusteredVectors(300, 8, 5, 5);
  const VectorSet extra = ClusteredVectors(700, 8, 5, 6);
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({.num_trees = 3}, items));
  const int depth_before = index->tree_depth(0);
  for (int64_t i = 0; i < extra.n; ++i) COLONY_ASSERT_OK(index->Insert(1000 + i, Row(extra, i)));
  EXPECT_EQ(index->size(), 1000);
  EXPECT_EQ(index->tree_depth(0), depth_before + 1);  // 300 -> 1000 items: 512 -> 1024 leaves.
  COLONY_ASSERT_OK(index->CheckInvariantsForTesting());
  // Each inserted item is its own nearest neighbor when the beam covers the tree.
  const QueryOptions all{.k = 1, .beam = 1 << 12, .rerank = 0};
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults self, index->Search(all, extra.data));
  for (int64_t i = 0; i < extra.n; ++i) EXPECT_EQ(self.ids[i], static_cast<uint64_t>(1000 + i));

  for (uint64_t id = 0; id < 300; id += 2) COLONY_ASSERT_OK(index->Remove(id));
  for (uint64_t id = 1000; id < 1300; ++id) COLONY_ASSERT_OK(index->Remove(id));
  EXPECT_EQ(index->size(), 1000 - 150 - 300);
  COLONY_ASSERT_OK(index->CheckInvariantsForTesting());
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults after,
                              index->Search({.k = 20, .beam = 1 << 12}, items.data));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults exact, index->ExactSearch(20, items.data));
  EXPECT_EQ(after.ids, exact.ids);
  for (uint64_t id : after.ids) {
    EXPECT_FALSE(id < 300 && id % 2 == 0) << "removed id " << id << " returned";
    EXPECT_FALSE(id >= 1000 && id < 1300) << "removed id " << id << " returned";
  }
  // Freed slots are reused.
  COLONY_ASSERT_OK(index->Insert(5000, Row(items, 0)));
  COLONY_ASSERT_OK(index->CheckInvariantsForTesting());

  EXPECT_THAT(index->Insert(5000, Row(items, 1)),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("id 5000")));
  EXPECT_THAT(index->Insert(6000, std::vector<float>(3)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("3 floats")));
  EXPECT_THAT(index->Remove(0), StatusIs(StatusCode::kNotFound, HasSubstr("id 0")));
}

TEST_F(TreeIndexTest, RemovingEverythingLeavesAnEmptyButUsableIndex) {
  const VectorSet items = ClusteredVectors(5, 3, 2, 8);
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({.num_trees = 2}, items));
  for (uint64_t id = 0; id < 5; ++id) COLONY_ASSERT_OK(index->Remove(id));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults none, index->Search({.k = 2}, Row(items, 0)));
  EXPECT_EQ(none.ids[0], SearchResults::kNoItem);
  COLONY_ASSERT_OK(index->Insert(42, Row(items, 3)));
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults one, index->Search({.k = 2}, Row(items, 0)));
  EXPECT_EQ(one.ids[0], 42u);
  EXPECT_EQ(one.ids[1], SearchResults::kNoItem);
  COLONY_EXPECT_OK(index->CheckInvariantsForTesting());
}

TEST_F(TreeIndexTest, SaveLoadRoundTripThenUpdate) {
  const VectorSet items = ClusteredVectors(1000, 10, 8, 10);
  const VectorSet queries = ClusteredVectors(50, 10, 8, 11);
  std::vector<uint64_t> ids(1000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = 7 * i + 3;
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto index, TreeIndex::Build({.num_trees = 3, .metric = Metric::kInnerProduct}, items, ids));
  COLONY_ASSERT_OK(index->Remove(10));
  const QueryOptions q{.k = 10, .beam = 8};
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults before, index->Search(q, queries.data));
  COLONY_ASSERT_OK(index->Save(dir_.string()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto loaded, TreeIndex::Load(dir_.string()));
  EXPECT_EQ(loaded->size(), 999);
  EXPECT_EQ(loaded->num_trees(), 3);
  EXPECT_EQ(loaded->metric(), Metric::kInnerProduct);
  EXPECT_EQ(loaded->build_seconds(), index->build_seconds());
  COLONY_ASSERT_OK_AND_ASSIGN(SearchResults after, loaded->Search(q, queries.data));
  EXPECT_EQ(after.ids, before.ids);
  EXPECT_EQ(after.distances, before.distances);
  // The mapped index takes updates (growing past its mapped arrays) and saves again.
  for (int64_t i = 0; i < 1100; ++i)
    COLONY_ASSERT_OK(loaded->Insert(100000 + i, Row(items, i % 1000)));
  COLONY_ASSERT_OK(loaded->Remove(3));
  COLONY_ASSERT_OK(loaded->CheckInvariantsForTesting());
  COLONY_ASSERT_OK(loaded->Save(dir_.string()));
  COLONY_ASSERT_OK_AND_ASSIGN(auto again, TreeIndex::Load(dir_.string()));
  EXPECT_EQ(again->size(), 999 + 1100 - 1);
  COLONY_EXPECT_OK(again->CheckInvariantsForTesting());
}

TEST_F(TreeIndexTest, LoadRejectsMissingTruncatedAndForeignFiles) {
  EXPECT_THAT(TreeIndex::Load((dir_ / "none").string()),
              StatusIs(StatusCode::kNotFound, HasSubstr("index.bin")));
  const VectorSet items = ClusteredVectors(100, 4, 3, 12);
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({.num_trees = 2}, items));
  COLONY_ASSERT_OK(index->Save(dir_.string()));
  const std::string path = (dir_ / "index.bin").string();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 64);
  EXPECT_THAT(TreeIndex::Load(dir_.string()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  std::ofstream(path, std::ios::binary) << std::string(200, 'x');
  EXPECT_THAT(TreeIndex::Load(dir_.string()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("bad magic")));
}

// Header counts whose byte sizes multiply past 2^64 (4 x slots x dim here) must be refused
// from overflow-safe arithmetic, not from a wrapped size that might match the file's.
TEST_F(TreeIndexTest, LoadRefusesHeaderCountsBeyondTheFile) {
  const VectorSet items = ClusteredVectors(100, 4, 3, 12);
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({.num_trees = 2}, items));
  COLONY_ASSERT_OK(index->Save(dir_.string()));
  const std::string path = (dir_ / "index.bin").string();
  const std::string good = ReadFile(path).value();
  auto patched = [&](size_t offset, const void* value, size_t size) {
    std::string bytes = good;
    bytes.replace(offset, size, static_cast<const char*>(value), size);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return TreeIndex::Load(dir_.string());
  };
  const uint32_t huge_dim = 0xffffffffu;
  const uint64_t huge_slots = (uint64_t{1} << 31) - 1;
  std::string header = good.substr(0, 64);
  std::memcpy(header.data() + 12, &huge_dim, 4);
  std::memcpy(header.data() + 24, &huge_slots, 8);
  EXPECT_THAT(patched(0, header.data(), 64),
              StatusIs(StatusCode::kDataLoss,
                       HasSubstr("index.bin: " + std::to_string(good.size()) +
                                 " bytes, too short for the 2147483647 items of dimension "
                                 "4294967295")));
  const uint32_t dim_4g = 0x40000000u;  // 2^30 slots of 2^30 floats: 4 EiB of vectors.
  const uint64_t slots_1g = uint64_t{1} << 30;
  std::memcpy(header.data() + 12, &dim_4g, 4);
  std::memcpy(header.data() + 24, &slots_1g, 8);
  EXPECT_THAT(patched(0, header.data(), 64),
              StatusIs(StatusCode::kDataLoss, HasSubstr("too short for the 1073741824 items")));
  const int32_t deep = 31;  // A tree of 2^31 leaves in a file of a few kilobytes.
  EXPECT_THAT(patched(64, &deep, 4), StatusIs(StatusCode::kDataLoss, HasSubstr("too short")));
  // Two live slots with one id (the ids section starts at 1728 for 100 items of dimension 4
  // and 2 trees): corruption, not a bad argument.
  uint64_t first_id = 0;
  std::memcpy(&first_id, good.data() + 1728, 8);
  EXPECT_THAT(patched(1736, &first_id, 8),
              StatusIs(StatusCode::kDataLoss,
                       HasSubstr("index.bin: id " + std::to_string(first_id) + " appears twice")));
  // A NaN coordinate in the vectors section (which starts at 128): found by index_file_fuzz,
  // it reached the 8-bit encoder as undefined behavior.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(patched(128 + 4 * 5, &nan, 4),
              StatusIs(StatusCode::kDataLoss, HasSubstr("index.bin: holds a value that is not "
                                                        "finite")));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
  COLONY_EXPECT_OK(TreeIndex::Load(dir_.string()).status());
}

TEST_F(TreeIndexTest, BadOptionsAndQueriesAreInvalidArguments) {
  const VectorSet items = ClusteredVectors(50, 4, 3, 13);
  EXPECT_THAT(TreeIndex::Build({.num_trees = 0}, items),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("num_trees")));
  EXPECT_THAT(TreeIndex::Build({}, VectorSet{}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no items")));
  std::vector<uint64_t> dup(50, 1);
  EXPECT_THAT(TreeIndex::Build({}, items, dup),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("appears twice")));
  EXPECT_THAT(TreeIndex::Build({}, items, std::vector<uint64_t>(3)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("3 ids for 50 items")));
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, TreeIndex::Build({}, items));
  const std::vector<float> q(4);
  EXPECT_THAT(index->Search({.k = 0}, q), StatusIs(StatusCode::kInvalidArgument, HasSubstr("k")));
  EXPECT_THAT(index->Search({.beam = 0}, q),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("beam")));
  EXPECT_THAT(index->Search({.scan_leaves = 3}, q),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("power of two")));
  EXPECT_THAT(index->Search({.rerank = -1}, q),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("rerank")));
  EXPECT_THAT(
      index->Search({}, std::vector<float>(6)),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("multiple of the index dimension 4")));
  EXPECT_THAT(ParseMetric("cosine"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'l2'")));
}

}  // namespace
}  // namespace colony::retrieval
