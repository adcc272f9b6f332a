#include "colony/base/file_util.h"

#include <filesystem>

#include "testing/status_matchers.h"

namespace colony {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FileUtilTest, AtomicWriteReplacesAndLeavesNoTempFile) {
  const std::string dir = ::testing::TempDir() + "/colony_file_util";
  COLONY_ASSERT_OK(MakeDirs(dir));
  const std::string path = dir + "/a.txt";
  COLONY_ASSERT_OK(WriteFileAtomic(path, "one"));
  COLONY_ASSERT_OK(WriteFileAtomic(path, "two"));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string text, ReadFile(path));
  EXPECT_EQ(text, "two");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(FileUtilTest, ReadMissingFileIsNotFound) {
  EXPECT_THAT(ReadFile("/nonexistent/x"),
              StatusIs(StatusCode::kNotFound, HasSubstr("/nonexistent/x")));
}

TEST(FileUtilTest, WriteIntoMissingDirectoryFails) {
  EXPECT_THAT(WriteFileAtomic("/nonexistent/dir/x", "a"),
              StatusIs(StatusCode::kUnavailable, HasSubstr("/nonexistent/dir/x")));
}

}  // namespace
}  // namespace colony
