#include "colony/data/session_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "colony/base/file_util.h"
#include "test_files.h"
#include "testing/status_matchers.h"

namespace colony::data {
namespace {

using ::colony::data::testing::Lines;
using ::colony::data::testing::TestDir;
using ::colony::data::testing::WriteTestFile;
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SessionFileTest, ReadsSessionsAndSkipsBadAndShortLines) {
  const std::string dir = TestDir();
  const std::string path = WriteTestFile(dir, "s.txt",
                                         "# comment\n"
                                         "1 2 3\n"
                                         "\n"
                                         "4,5\t6\r\n"
                                         "7\n"      // short
                                         "1 x 2\n"  // not an integer
                                         "3 0 4\n"  // padding id
                                         "2 -1\n"   // negative
                                         "9 8\n");
  COLONY_ASSERT_OK_AND_ASSIGN(SessionFile f, ReadSessionFile(path));
  ASSERT_EQ(f.sessions.size(), 3u);
  EXPECT_THAT(f.sessions[0], ElementsAre(1, 2, 3));
  EXPECT_THAT(f.sessions[1], ElementsAre(4, 5, 6));
  EXPECT_THAT(f.sessions[2], ElementsAre(9, 8));
  EXPECT_EQ(f.max_item, 9);
  EXPECT_EQ(f.short_lines, 1);
  EXPECT_EQ(f.bad_lines, 3);
  ASSERT_EQ(f.first_bad_lines.size(), 3u);
  EXPECT_THAT(f.first_bad_lines[0], HasSubstr("s.txt:6: item 'x' is not an integer"));
  EXPECT_THAT(f.first_bad_lines[1], HasSubstr("s.txt:7: item id 0 must be >= 1"));
  EXPECT_THAT(f.first_bad_lines[2], HasSubstr("s.txt:8: item id -1"));
}

TEST(SessionFileTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadSessionFile(TestDir() + "/none.txt"),
              StatusIs(StatusCode::kNotFound, HasSubstr("none.txt")));
}

TEST(SessionFileTest, PrefixSamplesCoverEveryNextClick) {
  const std::vector<SessionSample> s = PrefixSamples({{1, 2, 3}, {4, 5}});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].session, 0);
  EXPECT_EQ(s[0].prefix, 1);
  EXPECT_EQ(s[1].prefix, 2);
  EXPECT_EQ(s[2].session, 1);
  EXPECT_EQ(s[2].prefix, 1);
}

// Diginetica layout: items 10, 20 and 30 are clicked at least 5 times, 99 twice.
std::string DigineticaLog() {
  return "sessionId;userId;itemId;timeframe;eventdate\n"
         // Train days (2016-05-01..03).
         "1;;20;2000;2016-05-01\n"
         "1;;10;1000;2016-05-01\n"  // out of time order: sorted by timeframe
         "1;;99;3000;2016-05-01\n"  // rare item, dropped
         "2;;10;10;2016-05-02\n"
         "2;;30;20;2016-05-02\n"
         "3;;30;10;2016-05-03\n"
         "3;;20;20;2016-05-03\n"
         "3;;10;30;2016-05-03\n"
         "4;;20;10;2016-05-03\n"  // length 1 session, dropped
         "5;;99;10;2016-05-03\n"
         "5;;30;20;2016-05-03\n"  // only 30 left: dropped
         "bad line\n"
         "6;;x;1;2016-05-03\n"
         "7;;10;1;2016-13-03\n"
         // Test days (2016-05-11, more than 7 days after 05-03).
         "8;;10;10;2016-05-11\n"
         "8;;20;20;2016-05-11\n"
         "8;;30;30;2016-05-11\n"
         "9;;30;10;2016-05-11\n"
         "9;;20;20;2016-05-11\n"
         "9;;10;30;2016-05-11\n"
         "9;;20;40;2016-05-11\n";
}

TEST(SessionLogTest, DigineticaPreprocessing) {
  const std::string dir = TestDir();
  SessionLogOptions o;
  o.format = "diginetica";
  o.log_file = WriteTestFile(dir, "views.csv", DigineticaLog());
  o.out_dir = dir + "/out";
  COLONY_ASSERT_OK_AND_ASSIGN(SessionLogStats s, PreprocessSessionLog(o));
  EXPECT_EQ(s.bad_lines, 3);
  EXPECT_EQ(s.train_sessions, 3);
  EXPECT_EQ(s.test_sessions, 2);
  EXPECT_EQ(s.items, 3);
  // Items renumbered in order of first appearance in train: 10 -> 1, 20 -> 2, 30 -> 3.
  EXPECT_THAT(Lines(o.out_dir + "/train.txt"), ElementsAre("1 2", "1 3", "3 2 1"));
  EXPECT_THAT(Lines(o.out_dir + "/test.txt"), ElementsAre("1 2 3", "3 2 1 2"));
  EXPECT_THAT(Lines(o.out_dir + "/items.tsv"),
              ElementsAre("# item\traw_id", "1\t10", "2\t20", "3\t30"));
  ASSERT_GE(s.first_bad_lines.size(), 3u);
  EXPECT_THAT(s.first_bad_lines[0], HasSubstr("views.csv:13: 1 fields, expected 5"));
  EXPECT_THAT(s.first_bad_lines[1], HasSubstr("views.csv:14: item id 'x'"));
  EXPECT_THAT(s.first_bad_lines[2], HasSubstr("views.csv:15: eventdate '2016-13-03'"));
}

TEST(SessionLogTest, YoochooseLayoutAndOneDayTestSplit) {
  const std::string dir = TestDir();
  SessionLogOptions o;
  o.format = "yoochoose";
  o.min_item_count = 1;
  o.log_file = WriteTestFile(dir, "clicks.dat",
                             "1,2014-04-01T10:00:05.000Z,7,0\n"
                             "1,2014-04-01T10:00:01.000Z,8,0\n"
                             "2,2014-04-03T09:00:00.000Z,8,0\n"
                             "2,2014-04-03T09:01:00.000Z,7,0\n"
                             "2,2014-04-03T09:02:00.000Z,5,0\n"  // 5 unseen in train: dropped
                             "3,2014-04-03T10:00:00Z,9,0\n"      // 9 unseen in train
                             "3,2014-04-03T10:00:00.000Z,7,0\n");
  o.out_dir = dir + "/out";
  COLONY_ASSERT_OK_AND_ASSIGN(SessionLogStats s, PreprocessSessionLog(o));
  EXPECT_EQ(s.bad_lines, 0);  // "...00Z" parses: the fraction is optional.
  EXPECT_THAT(Lines(o.out_dir + "/train.txt"), ElementsAre("1 2"));
  EXPECT_THAT(Lines(o.out_dir + "/test.txt"), ElementsAre("1 2"));
}

TEST(SessionLogTest, BadOptionsAndInputs) {
  const std::string dir = TestDir();
  SessionLogOptions o;
  o.log_file = dir + "/missing.csv";
  o.out_dir = dir + "/out";
  EXPECT_THAT(PreprocessSessionLog(o), StatusIs(StatusCode::kNotFound, HasSubstr("missing.csv")));
  o.format = "criteo";
  EXPECT_THAT(PreprocessSessionLog(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'diginetica' or 'yoochoose'")));
  o.format = "diginetica";
  o.min_item_count = 0;
  EXPECT_THAT(PreprocessSessionLog(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("min_item_count")));
  o.min_item_count = 5;
  o.log_file = WriteTestFile(dir, "junk.csv", "a,b,c\n1;2\n");
  EXPECT_THAT(PreprocessSessionLog(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no valid diginetica line")));
  o.log_file = WriteTestFile(dir, "rare.csv", "1;;5;1;2016-01-01\n1;;6;2;2016-01-01\n");
  EXPECT_THAT(PreprocessSessionLog(o),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no training session")));
}

}  // namespace
}  // namespace colony::data
