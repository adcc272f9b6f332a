#include "colony/base/status.h"

#include "testing/status_matchers.h"

namespace colony {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(StatusTest, OkStatusHasNoMessage) {
  Status s = OkStatus();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgumentError("dim must be > 0");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(IsInvalidArgument(s));
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: dim must be > 0");
  EXPECT_EQ(s.WithContext("table 'emb'").message(), "table 'emb': dim must be > 0");
}

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  COLONY_ASSIGN_OR_RETURN(int h, Half(x));
  COLONY_ASSIGN_OR_RETURN(*out, Half(h));
  return OkStatus();
}

TEST(StatusTest, MacrosPropagateErrors) {
  int q = 0;
  COLONY_ASSERT_OK(Quarter(8, &q));
  EXPECT_EQ(q, 2);
  EXPECT_THAT(Quarter(6, &q), StatusIs(StatusCode::kInvalidArgument, HasSubstr("odd")));
}

TEST(StatusTest, StatusOrValueOr) {
  EXPECT_EQ(Half(3).value_or(-1), -1);
  EXPECT_EQ(Half(4).value_or(-1), 2);
}

TEST(StatusDeathTest, ValueOnErrorAborts) {
  EXPECT_DEATH({ (void)Half(3).value(); }, "odd");
}

}  // namespace
}  // namespace colony
