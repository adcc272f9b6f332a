#include "colony/ps/internal/row_arena.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace colony::ps::internal {
namespace {

TEST(RowArenaTest, RowsKeepTheirAddressesAndValuesAcrossBlocks) {
  RowArena arena(3);
  std::vector<float*> rows;
  for (uint32_t r = 0; r < 1000; ++r) {
    EXPECT_EQ(arena.Append(), r);
    float* row = arena.row(r);
    for (int j = 0; j < 3; ++j) row[j] = static_cast<float>(r * 3 + j);
    rows.push_back(row);
  }
  EXPECT_EQ(arena.size(), 1000u);
  // Rows 15/16, 47/48, ... sit at block boundaries; none overlaps another.
  std::set<float*> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), rows.size());
  for (uint32_t r = 0; r < 1000; ++r) {
    ASSERT_EQ(arena.row(r), rows[r]) << r;
    for (int j = 0; j < 3; ++j) ASSERT_EQ(rows[r][j], static_cast<float>(r * 3 + j));
  }
}

}  // namespace
}  // namespace colony::ps::internal
