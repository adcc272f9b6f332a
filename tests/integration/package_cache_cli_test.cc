// colony launch with a job's job.dependencies: the package cache packs the folder on the
// first submission, reuses it on a repeated one, and hands every worker the unpacked files.
#include <unistd.h>

#include <filesystem>

#include "integration/run_colony.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class PackageCacheCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/colony_pkgcache_" + std::to_string(getpid());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(PackageCacheCliTest, LaunchPacksOnceThenReusesAndHandsWorkersTheFiles) {
  const Result gen = RunColony("gen ctr --rows 1000 --out " + root_ + "/data --seed 3");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string launch =
      "launch --servers 1 --workers 2 examples/package_cache/job.yaml --set data.dir=" + root_ +
      "/data --set model.hidden=[8] --set train.epochs=1 --set data.batch_size=256" +
      " --package-cache " + root_ + "/cache --run-dir " + root_ + "/run";
  const Result first = RunColony(launch);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("dependencies: cache miss (sub-directory deps, 3 files, "));
  EXPECT_THAT(first.output, HasSubstr("packed in"));
  EXPECT_THAT(first.output, HasSubstr("[worker 1] worker 1: dependencies in "));
  EXPECT_THAT(first.output, HasSubstr("(3 files)"));
  const Result second = RunColony(launch);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_THAT(second.output, HasSubstr("dependencies: cache hit (sub-directory deps, 3 files, "));
  EXPECT_THAT(second.output, HasSubstr("[worker 0] worker 0: dependencies in "));

  const Result prepared = RunColony("package prepare examples/package_cache/job.yaml --cache " +
                                    root_ + "/cache --task-id again");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.output;
  EXPECT_THAT(prepared.output, HasSubstr("dependencies: cache hit"));
  EXPECT_THAT(prepared.output, HasSubstr("COLONY_DEPS_DIR=/"));
  const std::string index = ReadFile(root_ + "/cache/index.tsv").value_or("");
  EXPECT_THAT(index, HasSubstr("\tdeps\t"));
  EXPECT_THAT(index, HasSubstr("again\tdeps\t"));
}

TEST_F(PackageCacheCliTest, BadDependenciesStopTheLaunchNamingThem) {
  const std::string cache = " --package-cache " + root_ + "/cache";
  const Result escapes = RunColony("launch examples/package_cache/job.yaml" + cache +
                                   " --set job.dependencies=../ctr");
  EXPECT_EQ(escapes.exit_code, 2) << escapes.output;
  EXPECT_THAT(escapes.output, HasSubstr("job.yaml: job.dependencies"));
  EXPECT_THAT(escapes.output, HasSubstr("'../ctr': escapes the job root"));
  EXPECT_THAT(escapes.output, Not(HasSubstr("[worker")));
  const Result missing = RunColony("package prepare examples/package_cache/job.yaml --cache " +
                                   root_ + "/cache --set job.dependencies=nope");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.output, HasSubstr("dependencies 'nope'"));
  EXPECT_THAT(missing.output, HasSubstr("does not exist"));
  const Result file = RunColony("package prepare examples/package_cache/job.yaml --cache " + root_ +
                                "/cache --set job.dependencies=job.yaml");
  EXPECT_THAT(file.output, HasSubstr("is a file, not a directory"));
  const Result none =
      RunColony("package prepare examples/ctr/config.yaml --cache " + root_ + "/cache");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_THAT(none.output, HasSubstr("the job has no job.dependencies"));
  const Result no_config = RunColony("package prepare nowhere.yaml --cache " + root_ + "/cache");
  EXPECT_EQ(no_config.exit_code, 2) << no_config.output;
  EXPECT_THAT(no_config.output, HasSubstr("config 'nowhere.yaml' not found"));
}

}  // namespace
}  // namespace colony
