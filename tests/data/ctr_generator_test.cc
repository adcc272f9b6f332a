#include "colony/data/ctr_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "colony/base/file_util.h"
#include "colony/base/metrics.h"
#include "colony/data/reader.h"
#include "test_files.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony::data {
namespace {

using ::colony::data::testing::Lines;
using ::colony::data::testing::TestDir;
using ::colony::testing::JsonNumber;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

CtrGeneratorOptions SmallOptions(const std::string& dir) {
  CtrGeneratorOptions o;
  o.out_dir = dir;
  o.rows = 4000;
  o.test_fraction = 0.25;
  o.seed = 5;
  return o;
}

TEST(CtrGeneratorTest, WritesCriteoFilesWithTheRightFieldCounts) {
  const std::string dir = TestDir() + "/out";  // created by the generator
  COLONY_ASSERT_OK(GenerateCtr(SmallOptions(dir)));
  const std::vector<std::string> train = Lines(dir + "/train.txt");
  const std::vector<std::string> test = Lines(dir + "/test.txt");
  EXPECT_EQ(train.size(), 3000u);
  EXPECT_EQ(test.size(), 1000u);
  int empty_dense = 0, empty_sparse = 0;
  for (const std::string& line : train) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');) fields.push_back(f);
    if (line.back() == '\t') fields.push_back("");
    ASSERT_EQ(fields.size(), 40u) << line;
    ASSERT_TRUE(fields[0] == "0" || fields[0] == "1");
    for (int j = 1; j <= 13; ++j) empty_dense += fields[j].empty();
    for (int s = 14; s < 40; ++s) {
      if (fields[s].empty()) {
        ++empty_sparse;
      } else {
        ASSERT_EQ(fields[s].size(), 8u);
        ASSERT_EQ(fields[s].find_first_not_of("0123456789abcdef"), std::string::npos);
      }
    }
  }
  EXPECT_GT(empty_dense, 0);  // Some values are missing, as in Criteo.
  EXPECT_GT(empty_sparse, 0);
  // The reader takes every line.
  ReaderOptions r;
  r.files = {dir + "/train.txt", dir + "/test.txt"};
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(r));
  Batch batch;
  while (reader->Next(&batch).ok()) {
  }
  EXPECT_EQ(reader->stats().samples, 4000);
  EXPECT_EQ(reader->stats().bad_lines, 0);
}

TEST(CtrGeneratorTest, TruthJsonMatchesARecomputationFromTheTestFile) {
  const std::string dir = TestDir();
  CtrGeneratorOptions o = SmallOptions(dir);
  COLONY_ASSERT_OK(GenerateCtr(o));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string json, ReadFile(dir + "/truth.json"));
  COLONY_ASSERT_OK_AND_ASSIGN(auto truth, CtrTruth::Create(o));
  std::vector<float> probs, labels;
  double positives = 0;
  for (const std::string& line : Lines(dir + "/test.txt")) {
    COLONY_ASSERT_OK_AND_ASSIGN(double p, truth->Probability(line));
    probs.push_back(static_cast<float>(p));
    labels.push_back(line[0] == '1' ? 1.0f : 0.0f);
    positives += labels.back();
  }
  EXPECT_NEAR(JsonNumber(json, "bayes_auc"), Auc(probs, labels), 1e-6);
  EXPECT_NEAR(JsonNumber(json, "bayes_logloss"), LogLoss(probs, labels), 1e-6);
  EXPECT_NEAR(JsonNumber(json, "test_base_rate"), positives / 1000, 1e-6);
  EXPECT_EQ(JsonNumber(json, "rows"), 4000);
  EXPECT_EQ(JsonNumber(json, "test_rows"), 1000);
  EXPECT_EQ(JsonNumber(json, "seed"), 5);
  // The planted model is informative and calibrated to the base rate.
  EXPECT_GT(JsonNumber(json, "bayes_auc"), 0.75);
  EXPECT_NEAR(JsonNumber(json, "base_rate"), 0.25, 0.03);
  // A line the generator could not have written is rejected.
  EXPECT_THAT(truth->Probability("1\t2\t3"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected 40 fields, got 3")));
}

TEST(CtrGeneratorTest, SameSeedSameFilesOtherSeedOtherFiles) {
  const std::string dir = TestDir();
  CtrGeneratorOptions o = SmallOptions(dir + "/a");
  COLONY_ASSERT_OK(GenerateCtr(o));
  o.out_dir = dir + "/b";
  COLONY_ASSERT_OK(GenerateCtr(o));
  o.out_dir = dir + "/c";
  o.seed = 6;
  COLONY_ASSERT_OK(GenerateCtr(o));
  for (const std::string name : {"train.txt", "test.txt", "truth.json"}) {
    COLONY_ASSERT_OK_AND_ASSIGN(std::string a, ReadFile(dir + "/a/" + name));
    COLONY_ASSERT_OK_AND_ASSIGN(std::string b, ReadFile(dir + "/b/" + name));
    COLONY_ASSERT_OK_AND_ASSIGN(std::string c, ReadFile(dir + "/c/" + name));
    EXPECT_EQ(a, b) << name;
    EXPECT_NE(a, c) << name;
  }
}

TEST(CtrGeneratorTest, InteractionsRaiseTheBayesAuc) {
  const std::string dir = TestDir();
  CtrGeneratorOptions o = SmallOptions(dir + "/with");
  o.rows = 20000;
  COLONY_ASSERT_OK(GenerateCtr(o));
  o.out_dir = dir + "/without";
  o.interaction_scale = 0;
  COLONY_ASSERT_OK(GenerateCtr(o));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string with, ReadFile(dir + "/with/truth.json"));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string without, ReadFile(dir + "/without/truth.json"));
  EXPECT_GT(JsonNumber(with, "bayes_auc"), JsonNumber(without, "bayes_auc") + 0.02);
}

TEST(CtrGeneratorTest, BadOptionsAreInvalidArgument) {
  const std::string dir = TestDir();
  struct Case {
    std::function<void(CtrGeneratorOptions&)> edit;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {[](CtrGeneratorOptions& o) { o.out_dir.clear(); }, "out_dir"},
      {[](CtrGeneratorOptions& o) { o.rows = 1; }, "rows must be >= 2"},
      {[](CtrGeneratorOptions& o) { o.test_fraction = 0; }, "test_fraction"},
      {[](CtrGeneratorOptions& o) { o.test_fraction = 1; }, "test_fraction"},
      {[](CtrGeneratorOptions& o) {
         o.rows = 3;
         o.test_fraction = 0.01;
       },
       "empty train or test"},
      {[](CtrGeneratorOptions& o) { o.base_rate = 1.5; }, "base_rate"},
      {[](CtrGeneratorOptions& o) { o.interaction_scale = -1; }, "interaction_scale"},
      {[](CtrGeneratorOptions& o) { o.label_noise = 0.5; }, "label_noise"},
      {[](CtrGeneratorOptions& o) { o.label_noise = 0.3; }, "unreachable"},
      {[](CtrGeneratorOptions& o) { o.log_every_rows = 0; }, "log_every_rows"},
  };
  for (const Case& c : cases) {
    CtrGeneratorOptions o = SmallOptions(dir);
    c.edit(o);
    EXPECT_THAT(GenerateCtr(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.fragment)))
        << c.fragment;
  }
}

TEST(CtrGeneratorTest, LabelNoiseKeepsTheTruthExact) {
  const std::string dir = TestDir();
  CtrGeneratorOptions o = SmallOptions(dir);
  o.label_noise = 0.05;
  COLONY_ASSERT_OK(GenerateCtr(o));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string json, ReadFile(dir + "/truth.json"));
  COLONY_ASSERT_OK_AND_ASSIGN(auto truth, CtrTruth::Create(o));
  std::vector<float> probs, labels;
  for (const std::string& line : Lines(dir + "/test.txt")) {
    COLONY_ASSERT_OK_AND_ASSIGN(double p, truth->Probability(line));
    EXPECT_GE(p, 0.05 - 1e-12);
    probs.push_back(static_cast<float>(p));
    labels.push_back(line[0] == '1' ? 1.0f : 0.0f);
  }
  EXPECT_NEAR(JsonNumber(json, "bayes_logloss"), LogLoss(probs, labels), 1e-6);
}

}  // namespace
}  // namespace colony::data
