#include "colony/cluster/package_cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "colony/base/file_util.h"
#include "testing/status_matchers.h"

namespace colony::cluster {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

class PackageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            fmt::format("colony-pkgcache-{}-{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    job_ = (root_ / "job").string();
    Write("deps/model.py", "import torch\n");
    Write("deps/vocab/ids.txt", std::string(5000, 'x'));
    Write("other/model.py", "import torch\n");
    Write("other/vocab/ids.txt", std::string(5000, 'x'));
    Write("job.yaml", "job: {}\n");
    COLONY_ASSERT_OK_AND_ASSIGN(cache_, PackageCache::Open({.dir = (root_ / "cache").string()}));
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& contents) {
    const fs::path path = fs::path(job_) / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  }

  fs::path root_;
  std::string job_;
  std::unique_ptr<PackageCache> cache_;
};

TEST_F(PackageCacheTest, SameSubDirectoryAndContentIsAHit) {
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage first, cache_->Prepare(job_, "deps", "t1"));
  EXPECT_FALSE(first.hit);
  EXPECT_EQ(first.sub_directory, "deps");
  EXPECT_EQ(first.fingerprint.files, 2);
  EXPECT_EQ(first.fingerprint.bytes, 13u + 5000u);
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage second, cache_->Prepare(job_, "./deps/", "t2"));
  EXPECT_TRUE(second.hit);
  EXPECT_FALSE(second.rebuilt_corrupt);
  EXPECT_EQ(second.fingerprint.hex, first.fingerprint.hex);
  EXPECT_EQ(second.unpacked_dir, first.unpacked_dir);
  COLONY_ASSERT_OK_AND_ASSIGN(std::string vocab, ReadFile(second.unpacked_dir + "/vocab/ids.txt"));
  EXPECT_EQ(vocab, std::string(5000, 'x'));
  COLONY_ASSERT_OK_AND_ASSIGN(PackageFingerprint unpacked,
                              FingerprintDirectory(second.unpacked_dir));
  EXPECT_EQ(unpacked.hex, first.fingerprint.hex);
}

TEST_F(PackageCacheTest, ChangedContentOrAnotherSubDirectoryIsAMiss) {
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage first, cache_->Prepare(job_, "deps", "t1"));
  // Same names and sizes, one byte changed.
  Write("deps/vocab/ids.txt", std::string(4999, 'x') + "y");
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage changed, cache_->Prepare(job_, "deps", "t2"));
  EXPECT_FALSE(changed.hit);
  EXPECT_NE(changed.fingerprint.hex, first.fingerprint.hex);
  // Same content under another sub-directory.
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage other, cache_->Prepare(job_, "other", "t3"));
  EXPECT_FALSE(other.hit);
  EXPECT_NE(other.archive_path, first.archive_path);
  // A new file also changes the fingerprint.
  Write("deps/extra.cfg", "a");
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage added, cache_->Prepare(job_, "deps", "t4"));
  EXPECT_FALSE(added.hit);
  EXPECT_EQ(added.fingerprint.files, 3);
}

TEST_F(PackageCacheTest, CorruptEntryIsDetectedAndRebuilt) {
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage first, cache_->Prepare(job_, "deps", "t1"));
  {
    std::fstream f(first.archive_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('!');
  }
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage rebuilt, cache_->Prepare(job_, "deps", "t2"));
  EXPECT_FALSE(rebuilt.hit);
  EXPECT_TRUE(rebuilt.rebuilt_corrupt);
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage again, cache_->Prepare(job_, "deps", "t3"));
  EXPECT_TRUE(again.hit);

  // A truncated unpacked file is caught too.
  fs::resize_file(fs::path(again.unpacked_dir) / "model.py", 3);
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage fixed, cache_->Prepare(job_, "deps", "t4"));
  EXPECT_TRUE(fixed.rebuilt_corrupt);
  COLONY_ASSERT_OK_AND_ASSIGN(std::string model, ReadFile(fixed.unpacked_dir + "/model.py"));
  EXPECT_EQ(model, "import torch\n");
}

TEST_F(PackageCacheTest, BadInputNamesThePath) {
  EXPECT_THAT(cache_->Prepare(job_, "missing", "t").status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("missing")));
  EXPECT_THAT(cache_->Prepare(job_, "job.yaml", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is a file, not a directory")));
  EXPECT_THAT(cache_->Prepare(job_, "../job/deps", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("escapes the job root")));
  EXPECT_THAT(cache_->Prepare(job_, "deps/../../x", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("escapes the job root")));
  EXPECT_THAT(cache_->Prepare(job_, "/etc", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("relative to the job root")));
  fs::create_directories(root_ / "outside");
  fs::create_directory_symlink(root_ / "outside", fs::path(job_) / "link");
  EXPECT_THAT(cache_->Prepare(job_, "link", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("resolves outside the job root")));
  fs::create_symlink("model.py", fs::path(job_) / "deps" / "alias.py");
  EXPECT_THAT(cache_->Prepare(job_, "deps", "t").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("alias.py")));
  EXPECT_THAT(cache_->Prepare(job_, "other", "bad\tid").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("task id")));
  EXPECT_THAT(PackageCache::Open({}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("dir")));
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, cache_->ReadIndex());
  EXPECT_TRUE(index.empty());
}

TEST_F(PackageCacheTest, IndexRecordsEverySubmission) {
  COLONY_ASSERT_OK(cache_->Prepare(job_, "deps", "task-a").status());
  COLONY_ASSERT_OK(cache_->Prepare(job_, "deps", "task-b").status());
  COLONY_ASSERT_OK_AND_ASSIGN(PreparedPackage other, cache_->Prepare(job_, "other", "task-c"));
  // A second handle on the same folder (another process would do the same) sees them.
  COLONY_ASSERT_OK_AND_ASSIGN(auto reopened, PackageCache::Open({.dir = cache_->dir()}));
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, reopened->ReadIndex());
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index[0].task_id, "task-a");
  EXPECT_EQ(index[0].outcome, "miss");
  EXPECT_EQ(index[1].task_id, "task-b");
  EXPECT_EQ(index[1].outcome, "hit");
  EXPECT_EQ(index[2].sub_directory, "other");
  EXPECT_EQ(index[2].fingerprint, other.fingerprint.hex);
  EXPECT_EQ(index[2].outcome, "miss");

  std::ofstream(cache_->dir() + "/index.tsv", std::ios::app) << "broken line\n";
  EXPECT_THAT(cache_->ReadIndex().status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("index.tsv:4")));
}

TEST_F(PackageCacheTest, ConcurrentUsersKeepTheCacheWhole) {
  // Each thread has its own handle and its own open lock file, as separate processes would.
  constexpr int kThreads = 4, kRounds = 5;
  std::vector<std::thread> threads;
  std::vector<Status> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto cache = PackageCache::Open({.dir = cache_->dir()});
      if (!cache.ok()) {
        results[t] = cache.status();
        return;
      }
      for (int r = 0; r < kRounds && results[t].ok(); ++r) {
        results[t] =
            (*cache)
                ->Prepare(job_, (t + r) % 2 ? "deps" : "other", fmt::format("t{}-{}", t, r))
                .status();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : results) COLONY_EXPECT_OK(s);
  COLONY_ASSERT_OK_AND_ASSIGN(auto index, cache_->ReadIndex());
  EXPECT_EQ(index.size(), static_cast<size_t>(kThreads * kRounds));
  int misses = 0;
  for (const auto& s : index) misses += s.outcome == "miss";
  EXPECT_EQ(misses, 2);  // One per sub-directory; every other submission hit.
}

}  // namespace
}  // namespace colony::cluster
