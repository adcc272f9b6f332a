#include "colony/rpc/token.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/status_matchers.h"

namespace colony::rpc {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TokensEqualTest, AcceptsOnlyTheSameBytes) {
  EXPECT_TRUE(TokensEqual("s3cret", "s3cret"));
  EXPECT_TRUE(TokensEqual("", ""));
  EXPECT_FALSE(TokensEqual("s3cret", "s3creT"));
  EXPECT_FALSE(TokensEqual("s3cre", "s3cret"));   // A prefix.
  EXPECT_FALSE(TokensEqual("s3cret!", "s3cret"));  // A longer one.
  EXPECT_FALSE(TokensEqual("", "s3cret"));
  EXPECT_FALSE(TokensEqual(std::string("a\0b", 3), std::string("a\0c", 3)));
}

class ReadTokenFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = ::testing::TempDir() + "/colony_token_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

TEST_F(ReadTokenFileTest, TakesTheFirstLineTrimmed) {
  COLONY_ASSERT_OK_AND_ASSIGN(std::string token, ReadTokenFile(Write("  t0k3n \nrest\n"), "--f"));
  EXPECT_EQ(token, "t0k3n");
}

TEST_F(ReadTokenFileTest, EmptyAndMissingFilesAreNamed) {
  const std::string empty = Write("\n\n");
  EXPECT_THAT(ReadTokenFile(empty, "--token-file"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--token-file " + empty)));
  EXPECT_THAT(ReadTokenFile("no/such/token", "--token-file"),
              StatusIs(StatusCode::kNotFound, HasSubstr("--token-file: cannot open 'no/such")));
}

}  // namespace
}  // namespace colony::rpc
