#include "colony/rpc/path.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/status_matchers.h"

namespace colony::rpc {
namespace {
namespace fs = std::filesystem;

class ConfinedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("colony_path_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "root";
    fs::create_directories(root_ / "inside");
    fs::create_directories(base_ / "victim");
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_, root_;
};

TEST_F(ConfinedPathTest, RelativePathsResolveUnderTheRoot) {
  COLONY_ASSERT_OK_AND_ASSIGN(std::string path, ConfinedPath(root_.string(), "ckpt/step-3", "--root"));
  EXPECT_EQ(path, (fs::canonical(root_) / "ckpt/step-3").string());
  COLONY_ASSERT_OK_AND_ASSIGN(path, ConfinedPath(root_.string(), "inside", "--root"));
  EXPECT_EQ(path, (fs::canonical(root_) / "inside").string());
}

TEST_F(ConfinedPathTest, AbsolutePathsInsideTheRootAreAccepted) {
  COLONY_ASSERT_OK_AND_ASSIGN(std::string path,
                       ConfinedPath(root_.string(), (root_ / "inside/x").string(), "--root"));
  EXPECT_EQ(path, (fs::canonical(root_) / "inside/x").string());
}

TEST_F(ConfinedPathTest, EscapesAreRefused) {
  for (const std::string& bad : {std::string("../victim"), std::string("inside/../../victim"),
                                 (base_ / "victim").string(), std::string("/etc")}) {
    StatusOr<std::string> path = ConfinedPath(root_.string(), bad, "--root");
    EXPECT_EQ(path.status().code(), StatusCode::kPermissionDenied) << bad;
    EXPECT_NE(path.status().message().find("--root"), std::string_view::npos) << bad;
  }
}

TEST_F(ConfinedPathTest, SymlinksOutOfTheRootAreRefused) {
  fs::create_directory_symlink(base_ / "victim", root_ / "link");
  EXPECT_EQ(ConfinedPath(root_.string(), "link", "--root").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ConfinedPath(root_.string(), "link/new/dir", "--root").status().code(),
            StatusCode::kPermissionDenied);
  // A symlink that stays inside the root is fine.
  fs::create_directory_symlink(root_ / "inside", root_ / "alias");
  COLONY_EXPECT_OK(ConfinedPath(root_.string(), "alias/x", "--root").status());
}

TEST_F(ConfinedPathTest, NoRootEmptyOrNulPathsAreErrors) {
  EXPECT_EQ(ConfinedPath("", "x", "--checkpoint-root").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_NE(ConfinedPath("", "x", "--checkpoint-root").status().message().find("--checkpoint-root"),
            std::string_view::npos);
  EXPECT_EQ(ConfinedPath(root_.string(), "", "--root").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfinedPath(root_.string(), std::string("a\0b", 3), "--root").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CheckPathComponentTest, AcceptsNamesAndRefusesPathsFromATable) {
  for (const char* good : {"emb", "dense_0", "fc-1.w", "a.b"}) {
    COLONY_EXPECT_OK(CheckPathComponent(good, "table name")) << good;
  }
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."),
                                 std::string("../victim"), std::string("a/b"), std::string("/x"),
                                 std::string("a b"), std::string(300, 'a')}) {
    Status s = CheckPathComponent(bad, "table name");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("table name"), std::string_view::npos);
  }
}

}  // namespace
}  // namespace colony::rpc
