#include "colony/ps/dense_table.h"

#include <filesystem>

#include "colony/base/file_util.h"
#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

DenseTableOptions Options(int64_t size, const std::string& optimizer) {
  DenseTableOptions o;
  o.size = size;
  o.optimizer.name = optimizer;
  o.optimizer.learning_rate = 0.1f;
  return o;
}

TEST(DenseTableTest, InitPullPush) {
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, DenseTable::Create(Options(3, "sgd")));
  COLONY_ASSERT_OK(t->Init(std::vector<float>{1, 2, 3}));
  COLONY_ASSERT_OK(t->Push(std::vector<float>{10, 0, -10}));
  std::vector<float> out(3);
  COLONY_ASSERT_OK(t->Pull(out));
  EXPECT_EQ(out, (std::vector<float>{0, 2, 4}));
}

TEST(DenseTableTest, SizeMismatchAndBadOptions) {
  COLONY_ASSERT_OK_AND_ASSIGN(auto t, DenseTable::Create(Options(3, "sgd")));
  EXPECT_THAT(t->Push(std::vector<float>{1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("push: got 1 floats")));
  EXPECT_THAT(
      DenseTable::Create(Options(0, "sgd")),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("size must be in [1, 2^31 - 1], got 0")));
  EXPECT_THAT(DenseTable::Create(Options(2, "nadam")),
              StatusIs(StatusCode::kNotFound, HasSubstr("nadam")));
}

TEST(DenseTableTest, SaveLoadKeepsOptimizerState) {
  const std::string dir = ::testing::TempDir() + "/colony_dense";
  std::filesystem::create_directories(dir);
  COLONY_ASSERT_OK_AND_ASSIGN(auto a, DenseTable::Create(Options(2, "adam")));
  COLONY_ASSERT_OK(a->Init(std::vector<float>{1, -1}));
  COLONY_ASSERT_OK(a->Push(std::vector<float>{0.3f, 0.7f}));
  COLONY_ASSERT_OK(a->Save(dir, "w"));
  COLONY_ASSERT_OK_AND_ASSIGN(auto b, DenseTable::Create(Options(2, "adam")));
  COLONY_ASSERT_OK(b->Load(dir, "w"));
  COLONY_ASSERT_OK(a->Push(std::vector<float>{-0.1f, 2.0f}));
  COLONY_ASSERT_OK(b->Push(std::vector<float>{-0.1f, 2.0f}));
  std::vector<float> va(2), vb(2);
  COLONY_ASSERT_OK(a->Pull(va));
  COLONY_ASSERT_OK(b->Pull(vb));
  EXPECT_EQ(va, vb);
  COLONY_ASSERT_OK_AND_ASSIGN(auto bigger, DenseTable::Create(Options(3, "adam")));
  EXPECT_THAT(bigger->Load(dir, "w"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("2 values")));
  std::string bytes = *ReadFile(dir + "/w.bin");
  bytes.resize(bytes.size() - 3);
  COLONY_ASSERT_OK(WriteFileAtomic(dir + "/w.bin", bytes));
  EXPECT_THAT(b->Load(dir, "w"), StatusIs(StatusCode::kDataLoss, HasSubstr("w.bin")));
}

}  // namespace
}  // namespace colony::ps
