#include "colony/ps/internal/id_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace colony::ps::internal {
namespace {

TEST(IdIndexTest, FindsEveryInsertedIdAfterGrowing) {
  IdIndex index;
  bool inserted = false;
  for (uint32_t r = 0; r < 5000; ++r) {
    // Ids sharing their low bits, as ids of one residue class do.
    EXPECT_EQ(index.FindOrInsert(uint64_t{r} << 20, r, &inserted), r);
    EXPECT_TRUE(inserted);
  }
  EXPECT_EQ(index.FindOrInsert(uint64_t{7} << 20, 12345, &inserted), 7u);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(index.size(), 5000u);
  for (uint32_t r = 0; r < 5000; ++r) ASSERT_EQ(index.Find(uint64_t{r} << 20), r);
  EXPECT_EQ(index.Find(1), IdIndex::kNone);
  size_t visited = 0;
  index.ForEach([&](uint64_t id, uint32_t row) {
    EXPECT_EQ(id, uint64_t{row} << 20);
    ++visited;
  });
  EXPECT_EQ(visited, 5000u);
}

TEST(IdIndexTest, StripesCoverAllShardsForOneResidueClass) {
  // Every id is 3 mod 16 (what one of 16 servers receives); 16 stripes still all get work.
  std::vector<int> count(16);
  for (uint64_t i = 0; i < 16000; ++i) ++count[StripeOf(i * 16 + 3, 16)];
  for (int c : count) {
    EXPECT_GT(c, 700);
    EXPECT_LT(c, 1300);
  }
}

}  // namespace
}  // namespace colony::ps::internal
