#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "colony/base/file_util.h"
#include "colony/data/multitask_generator.h"
#include "colony/data/multitask_reader.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony::data {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempDir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/colony_multitask_" + name + "_" + std::to_string(getpid());
  fs::remove_all(dir);
  return dir;
}

MultitaskGeneratorOptions Small(const std::string& dir) {
  MultitaskGeneratorOptions o;
  o.out_dir = dir;
  o.rows = 4000;
  o.dim = 10;
  return o;
}

TEST(MultitaskGeneratorTest, WeightCosineIsTheCorrelationAndLabelsFollowIt) {
  double previous = 2;
  for (double p : {1.0, 0.5, 0.0, -0.5}) {
    MultitaskGeneratorOptions o = Small(TempDir("corr"));
    o.correlation = p;
    COLONY_ASSERT_OK(GenerateMultitask(o));
    COLONY_ASSERT_OK_AND_ASSIGN(std::string truth, ReadFile(o.out_dir + "/truth.json"));
    EXPECT_NEAR(JsonNumber(truth, "weight_cosine"), p, 1e-6);
    const double label_corr = JsonNumber(truth, "label_correlation");
    EXPECT_LT(label_corr, previous) << p;  // Falls with the weights' cosine.
    previous = label_corr;
    if (p == 1.0) {
      EXPECT_GT(label_corr, 0.99);  // Same labels up to the noise.
    }
    EXPECT_EQ(JsonNumber(truth, "train_rows") + JsonNumber(truth, "test_rows"), 4000);
  }
}

TEST(MultitaskGeneratorTest, TaskMixAndFilesReadBack) {
  MultitaskGeneratorOptions o = Small(TempDir("mix"));
  o.task_mix = {0.9, 0.1};
  COLONY_ASSERT_OK(GenerateMultitask(o));
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskFile train, ReadMultitaskFile(o.out_dir + "/train.txt", {}));
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskFile test,
                              ReadMultitaskFile(o.out_dir + "/test.txt", {.dim = 10}));
  EXPECT_EQ(train.size(), 3600);
  EXPECT_EQ(test.size(), 400);
  EXPECT_EQ(train.dim, 10);
  EXPECT_EQ(train.bad_lines, 0);
  int64_t rare = 0, rare_test = 0;
  for (int32_t t : train.tasks) rare += t == 1;
  for (int32_t t : test.tasks) rare_test += t == 1;
  EXPECT_NEAR(rare / 3600.0, 0.1, 0.02);
  EXPECT_NEAR(rare_test / 400.0, 0.5, 0.1);  // The test split mixes tasks evenly.
  // Features are N(0, 1).
  double sum = 0, sq = 0;
  for (float x : train.features) {
    sum += x;
    sq += x * x;
  }
  const double n = static_cast<double>(train.features.size());
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}

TEST(MultitaskGeneratorTest, ClassificationLabelsSplitAtTheMedian) {
  MultitaskGeneratorOptions o = Small(TempDir("class"));
  o.labels = "classification";
  COLONY_ASSERT_OK(GenerateMultitask(o));
  COLONY_ASSERT_OK_AND_ASSIGN(
      MultitaskFile train,
      ReadMultitaskFile(o.out_dir + "/train.txt", {.num_tasks = 2, .binary_labels = true}));
  EXPECT_EQ(train.bad_lines, 0);
  double positives = 0;
  for (float y : train.labels) positives += y;
  EXPECT_NEAR(positives / train.size(), 0.5, 0.05);
}

TEST(MultitaskGeneratorTest, BadOptionsNameTheFlag) {
  const std::vector<std::pair<std::function<void(MultitaskGeneratorOptions&)>, std::string>> cases =
      {
          {[](auto& o) { o.out_dir = ""; }, "--out"},
          {[](auto& o) { o.rows = 1; }, "--rows"},
          {[](auto& o) { o.test_fraction = 1; }, "--test-fraction"},
          {[](auto& o) { o.dim = 1; }, "--dim"},
          {[](auto& o) { o.correlation = 1.5; }, "--correlation"},
          {[](auto& o) { o.correlation = std::nan(""); }, "--correlation"},
          {[](auto& o) { o.task_mix = {1.0}; }, "--task-mix needs 2 shares"},
          {[](auto& o) {
             o.task_mix = {0.7, 0.7};
           },
           "--task-mix shares must sum to 1"},
          {[](auto& o) {
             o.task_mix = {1.5, -0.5};
           },
           "--task-mix shares must be in [0, 1]"},
          {[](auto& o) { o.labels = "ranking"; }, "--labels"},
          {[](auto& o) { o.sin_terms = -1; }, "--sin-terms"},
          {[](auto& o) { o.scale = 0; }, "--scale"},
          {[](auto& o) { o.noise = -1; }, "--noise"},
      };
  for (const auto& [mutate, message] : cases) {
    MultitaskGeneratorOptions o = Small("unused");
    mutate(o);
    EXPECT_THAT(GenerateMultitask(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)))
        << message;
  }
}

TEST(MultitaskGeneratorTest, ParseTaskMix) {
  COLONY_ASSERT_OK_AND_ASSIGN(std::vector<double> mix, ParseTaskMix("0.95,0.05", "--task-mix"));
  EXPECT_EQ(mix, (std::vector<double>{0.95, 0.05}));
  EXPECT_THAT(ParseTaskMix("0.9,x", "--task-mix"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--task-mix: share 2 'x'")));
  EXPECT_THAT(ParseTaskMix("0.5,", "--task-mix"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("share 2 ''")));
  EXPECT_THAT(ParseTaskMix("0.5,0.4", "--task-mix"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("sum to 1, got 0.9")));
  EXPECT_THAT(ParseTaskMix("0.2,0.3,0.5", "--task-mix"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs 2 shares")));
}

TEST(MultitaskReaderTest, SkipsAndNamesBadLines) {
  const std::string dir = TempDir("reader");
  fs::create_directories(dir);
  const std::string path = dir + "/f.txt";
  COLONY_ASSERT_OK(WriteFileAtomic(path,
                                   "0\t1.5\t0.1\t0.2\n"  // ok
                                   "1\t0\t0.3\t0.4\n"    // ok
                                   "\n"                  // blank: ignored
                                   "2\t1\t0.1\t0.2\n"    // task out of range
                                   "x\t1\t0.1\t0.2\n"    // task not a number
                                   "0\tabc\t0.1\t0.2\n"  // label not a number
                                   "0\t1\t0.1\n"         // one feature
                                   "0\t1\t0.1\tnan?\n"   // feature not a number
                                   "1\t1\n"              // no features
                                   "1\tnan\t0.1\t0.2\n"  // label not finite
                                   "1\t1\t-inf\t0.2\n"));  // feature not finite
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskFile f, ReadMultitaskFile(path, {.num_tasks = 2}));
  EXPECT_EQ(f.size(), 2);
  EXPECT_EQ(f.dim, 2);
  EXPECT_EQ(f.labels, (std::vector<float>{1.5f, 0.0f}));
  EXPECT_EQ(f.features, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
  EXPECT_EQ(f.bad_lines, 8);
  ASSERT_EQ(f.first_bad_lines.size(), 8u);
  EXPECT_THAT(f.first_bad_lines[0], HasSubstr("f.txt:4: task id '2' is not an integer in [0, 2)"));
  EXPECT_THAT(f.first_bad_lines[1], HasSubstr(":5: task id 'x'"));
  EXPECT_THAT(f.first_bad_lines[2], HasSubstr(":6: label 'abc' is not a number"));
  EXPECT_THAT(f.first_bad_lines[3], HasSubstr(":7: 1 features, want 2"));
  EXPECT_THAT(f.first_bad_lines[4], HasSubstr(":8: feature 2 'nan?' is not a number"));
  EXPECT_THAT(f.first_bad_lines[5], HasSubstr(":9: 2 fields"));
  EXPECT_THAT(f.first_bad_lines[6], HasSubstr(":10: label 'nan' is not a number"));
  EXPECT_THAT(f.first_bad_lines[7], HasSubstr(":11: feature 1 '-inf' is not a number"));

  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskFile binary,
                              ReadMultitaskFile(path, {.num_tasks = 2, .binary_labels = true}));
  EXPECT_EQ(binary.size(), 1);
  EXPECT_THAT(binary.first_bad_lines[0], HasSubstr(":1: label '1.5' is not 0 or 1"));
  EXPECT_THAT(ReadMultitaskFile(dir + "/missing.txt", {}),
              StatusIs(StatusCode::kNotFound, HasSubstr("colony gen multitask")));
}

}  // namespace
}  // namespace colony::data
