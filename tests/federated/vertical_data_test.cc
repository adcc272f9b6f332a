#include "colony/federated/vertical_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(VerticalDataTest, LoadsSklearnDiabetesColumnsAndTarget) {
  PartyDataOptions o;
  o.format = "sklearn_diabetes";
  o.columns = {2, 0};
  o.with_label = true;
  COLONY_ASSERT_OK_AND_ASSIGN(PartyTable t, LoadPartyTable(o));
  ASSERT_EQ(t.rows(), 442u);
  EXPECT_EQ(t.feature_names, (std::vector<std::string>{"bmi", "age"}));
  // First line of diabetes_data_raw: 59 2 32.1 101.0 ...; first target 151.
  EXPECT_DOUBLE_EQ(t.features[0], 32.1);
  EXPECT_DOUBLE_EQ(t.features[1], 59);
  EXPECT_DOUBLE_EQ(t.labels[0], 151);
  EXPECT_EQ(t.ids[441], 441u);
  EXPECT_EQ(t.skipped_lines, 0);
}

TEST(VerticalDataTest, LoadsSklearnBreastCancerWithoutLabel) {
  PartyDataOptions o;
  o.format = "sklearn_breast_cancer";
  o.columns = {29};
  COLONY_ASSERT_OK_AND_ASSIGN(PartyTable t, LoadPartyTable(o));
  ASSERT_EQ(t.rows(), 569u);
  EXPECT_EQ(t.feature_names[0], "worst fractal dimension");
  EXPECT_DOUBLE_EQ(t.features[0], 0.1189);
  EXPECT_TRUE(t.labels.empty());
}

TEST(VerticalDataTest, CsvCountsBadLinesAndKeepsIds) {
  PartyDataOptions o;
  o.format = "csv";
  o.with_label = true;
  o.label_column = "y";
  o.file = WriteTemp("ok.csv", "id,x1,y,x2\n7,1.5,1,2\n3,oops,0,1\n9,2.5,0,-1\n");
  COLONY_ASSERT_OK_AND_ASSIGN(PartyTable t, LoadPartyTable(o));
  EXPECT_EQ(t.ids, (std::vector<uint64_t>{7, 9}));
  EXPECT_EQ(t.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(t.features, (std::vector<double>{1.5, 2, 2.5, -1}));
  EXPECT_EQ(t.labels, (std::vector<double>{1, 0}));
  EXPECT_EQ(t.skipped_lines, 1);
  EXPECT_THAT(t.skipped_example, HasSubstr("ok.csv:3: field 2 'oops' is not a number"));
}

TEST(VerticalDataTest, SelectRowsFollowsTheGivenIds) {
  PartyTable t;
  t.ids = {5, 6, 7};
  t.feature_names = {"a"};
  t.features = {50, 60, 70};
  const std::vector<uint64_t> ids = {7, 5};
  COLONY_ASSERT_OK_AND_ASSIGN(PartyTable s, SelectRows(t, ids));
  EXPECT_EQ(s.features, (std::vector<double>{70, 50}));
  const std::vector<uint64_t> missing = {8};
  EXPECT_THAT(SelectRows(t, missing), StatusIs(StatusCode::kNotFound, HasSubstr("8")));
}

TEST(VerticalDataTest, ScalingStandardizesColumns) {
  std::vector<double> x = {1, 10, 3, 10};
  const ColumnScaling s = FitScaling(x, 2);
  EXPECT_EQ(s.mean, (std::vector<double>{2, 10}));
  EXPECT_EQ(s.std, (std::vector<double>{1, 1}));  // A constant column keeps std 1.
  ApplyScaling(s, x);
  EXPECT_EQ(x, (std::vector<double>{-1, 0, 1, 0}));
}

struct BadCase {
  std::string name;
  PartyDataOptions options;
  StatusCode code;
  std::string fragment;
};

TEST(VerticalDataTest, BadOptionsAndFilesGetClearErrors) {
  auto sk = [](std::string format, std::vector<int> columns) {
    PartyDataOptions o;
    o.format = std::move(format);
    o.columns = std::move(columns);
    return o;
  };
  auto csv = [](std::string name, std::string text, bool label = false) {
    PartyDataOptions o;
    o.format = "csv";
    o.with_label = label;
    o.file = text.empty() ? "" : WriteTemp(name, text);
    return o;
  };
  PartyDataOptions missing_dir = sk("sklearn_diabetes", {0});
  missing_dir.dir = ::testing::TempDir() + "/no_such_sklearn";
  PartyDataOptions missing_file = csv("x", "");
  missing_file.file = ::testing::TempDir() + "/no_such.csv";
  const std::vector<BadCase> cases = {
      {"format", sk("iris", {0}), StatusCode::kInvalidArgument, "data format 'iris' is unknown"},
      {"range", sk("sklearn_diabetes", {10}), StatusCode::kInvalidArgument,
       "column 10 is out of range: sklearn_diabetes has columns 0..9"},
      {"twice", sk("sklearn_breast_cancer", {1, 1}), StatusCode::kInvalidArgument,
       "column 1 is listed twice"},
      {"empty", sk("sklearn_diabetes", {}), StatusCode::kInvalidArgument, "columns is empty"},
      {"dir", missing_dir, StatusCode::kNotFound, "install Debian's python3-sklearn"},
      {"nofile", csv("x", ""), StatusCode::kInvalidArgument, "format csv needs the party's file"},
      {"missing", missing_file, StatusCode::kNotFound, "no_such.csv' not found"},
      {"noid", csv("noid.csv", "key,x\n1,2\n"), StatusCode::kInvalidArgument,
       "noid.csv':1: no column named 'id'"},
      {"nolabel", csv("nolabel.csv", "id,x\n1,2\n", true), StatusCode::kInvalidArgument,
       "no label column 'label'"},
      {"nofeature", csv("nofeature.csv", "id\n1\n"), StatusCode::kInvalidArgument,
       "no feature columns"},
      {"nolines", csv("nolines.csv", "id,x\n1,a\n2\n"), StatusCode::kFailedPrecondition,
       "no data line of"},
      {"dupid", csv("dupid.csv", "id,x\n1,2\n1,3\n"), StatusCode::kFailedPrecondition,
       "dupid.csv':3: id 1 appears twice"},
      {"badid", csv("badid.csv", "id,x\n-1,2\n"), StatusCode::kFailedPrecondition,
       "id is not an unsigned integer"},
  };
  for (const BadCase& c : cases) {
    EXPECT_THAT(LoadPartyTable(c.options), StatusIs(c.code, HasSubstr(c.fragment))) << c.name;
  }
}

}  // namespace
}  // namespace colony::fl
