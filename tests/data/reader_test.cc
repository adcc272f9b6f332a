#include "colony/data/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "colony/data/feature_hash.h"
#include "test_files.h"
#include "testing/status_matchers.h"

namespace colony::data {
namespace {

using ::colony::data::testing::TestDir;
using ::colony::data::testing::WriteTestFile;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

// A Criteo line: label, 13 integers (I1 = `i1`), 26 categorical values "c<slot>".
std::string CriteoLine(int label, int64_t i1) {
  std::string line = std::to_string(label) + "\t" + std::to_string(i1);
  for (int j = 1; j < 13; ++j) line += "\t" + std::to_string(j);
  for (int s = 0; s < 26; ++s) line += "\tc" + std::to_string(s);
  return line + "\n";
}

// Reads all batches of one epoch.
std::vector<Batch> ReadEpoch(Reader& reader) {
  std::vector<Batch> batches;
  while (true) {
    Batch batch;
    Status s = reader.Next(&batch);
    if (IsOutOfRange(s)) break;
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) break;
    batches.push_back(std::move(batch));
  }
  return batches;
}

ReaderOptions CriteoOptions(std::vector<std::string> files, int batch_size = 512) {
  ReaderOptions o;
  o.format = "criteo";
  o.files = std::move(files);
  o.batch_size = batch_size;
  return o;
}

TEST(FeatureHashTest, SlotsSeparateEqualValuesAndIdsAreStable) {
  EXPECT_NE(SlotValueId(0, "68fd1e64"), SlotValueId(1, "68fd1e64"));
  EXPECT_NE(SlotValueId(0, "68fd1e64"), SlotValueId(0, "68fd1e65"));
  EXPECT_NE(SlotValueId(3, ""), SlotValueId(4, ""));
  EXPECT_NE(HashBytes("abcdefgh"), HashBytes("abcdefgh0"));
  // Ids are part of the data format (checkpoints are keyed by them): pin two.
  EXPECT_EQ(Mix(0, 0), Mix(0, 0));
  EXPECT_EQ(SlotValueId(2, "05db9164"), SlotValueId(2, std::string("05db9164")));
}

TEST(CriteoReaderTest, ParsesLabelsTransformsIntegersAndHashesSlots) {
  const std::string dir = TestDir();
  std::string line = "1\t0\t3\t\t-5\t100";
  for (int j = 5; j < 13; ++j) line += "\t1";
  for (int s = 0; s < 26; ++s) line += s == 7 ? "\t" : "\t68fd1e64";
  const std::string file = WriteTestFile(dir, "a.txt", line + "\n" + CriteoLine(0, 7));
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(CriteoOptions({file})));
  Batch batch;
  COLONY_ASSERT_OK(reader->Next(&batch));
  ASSERT_EQ(batch.size, 2);
  EXPECT_EQ(batch.num_dense, 13);
  EXPECT_EQ(batch.num_slots, 26);
  EXPECT_EQ(batch.labels, (std::vector<float>{1, 0}));
  ASSERT_EQ(batch.dense.size(), 26u);
  EXPECT_FLOAT_EQ(batch.dense[0], 0.0f);                               // log1p(0)
  EXPECT_FLOAT_EQ(batch.dense[1], static_cast<float>(std::log(4.0)));  // log1p(3)
  EXPECT_FLOAT_EQ(batch.dense[2], 0.0f);                               // empty
  EXPECT_FLOAT_EQ(batch.dense[3], 0.0f);                               // negative
  EXPECT_FLOAT_EQ(batch.dense[4], static_cast<float>(std::log(101.0)));
  EXPECT_FLOAT_EQ(batch.dense[13], static_cast<float>(std::log(8.0)));  // 2nd row, I1 = 7
  ASSERT_EQ(batch.sparse_ids.size(), 52u);
  EXPECT_EQ(batch.sparse_ids[0], SlotValueId(0, "68fd1e64"));
  EXPECT_EQ(batch.sparse_ids[6], SlotValueId(6, "68fd1e64"));
  EXPECT_EQ(batch.sparse_ids[7], SlotValueId(7, ""));  // the slot's "missing" id
  EXPECT_EQ(batch.sparse_ids[26 + 25], SlotValueId(25, "c25"));
  EXPECT_TRUE(batch.feature_offsets.empty());
  EXPECT_THAT(reader->Next(&batch), StatusIs(StatusCode::kOutOfRange, HasSubstr("end")));
  EXPECT_EQ(reader->stats().samples, 2);
  EXPECT_EQ(reader->stats().bad_lines, 0);
}

struct BadLineCase {
  std::string line;
  std::string reason;
};

TEST(CriteoReaderTest, CountsAndReportsBadLinesWithFileAndLine) {
  std::string wrong_int = CriteoLine(1, 0);
  wrong_int.replace(wrong_int.find("\t1\t"), 3, "\tx1\t");
  std::string fractional = CriteoLine(1, 0);
  fractional.replace(fractional.find("\t1\t"), 3, "\t1.5\t");
  const std::vector<BadLineCase> cases = {
      {"1\t2\t3\n", "expected 40 fields, got 3"},
      {CriteoLine(2, 0), "label must be 0 or 1, got '2'"},
      {"x" + CriteoLine(1, 0), "label must be 0 or 1, got 'x1'"},
      {wrong_int, "integer feature I2 is not an integer: 'x1'"},
      {fractional, "integer feature I2 is not an integer: '1.5'"},
      {CriteoLine(1, 0).substr(0, CriteoLine(1, 0).size() - 1) + "\textra\n",
       "expected 40 fields, got 41"},
  };
  const std::string dir = TestDir();
  std::string contents = CriteoLine(1, 1);  // line 1 is good
  for (const BadLineCase& c : cases) contents += c.line + CriteoLine(0, 2);
  const std::string file = WriteTestFile(dir, "train.txt", contents);
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(CriteoOptions({file})));
  std::vector<Batch> batches = ReadEpoch(*reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size, 1 + static_cast<int64_t>(cases.size()));
  const ReaderStats stats = reader->stats();
  EXPECT_EQ(stats.bad_lines, static_cast<int64_t>(cases.size()));
  EXPECT_EQ(stats.lines, 1 + 2 * static_cast<int64_t>(cases.size()));
  ASSERT_EQ(stats.first_bad_lines.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(stats.first_bad_lines[i],
              file + ":" + std::to_string(2 + 2 * i) + ": " + cases[i].reason);
  }
}

TEST(CriteoReaderTest, KeepsOnlyTheFirstBadLineReports) {
  const std::string dir = TestDir();
  std::string contents;
  for (int i = 0; i < 5; ++i) contents += "bad\n";
  const std::string file = WriteTestFile(dir, "train.txt", contents + CriteoLine(1, 0));
  ReaderOptions o = CriteoOptions({file});
  o.max_bad_line_reports = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  ReadEpoch(*reader);
  EXPECT_EQ(reader->stats().bad_lines, 5);
  ASSERT_EQ(reader->stats().first_bad_lines.size(), 2u);
  EXPECT_EQ(reader->stats().first_bad_lines[1], file + ":2: expected 40 fields, got 1");
}

TEST(CriteoReaderTest, HandlesCrlfMissingFinalNewlineAndEmptyLines) {
  const std::string dir = TestDir();
  std::string crlf = CriteoLine(1, 3);
  crlf.insert(crlf.size() - 1, "\r");
  std::string last = CriteoLine(0, 4);
  last.pop_back();
  const std::string file = WriteTestFile(dir, "a.txt", crlf + "\n" + last);
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(CriteoOptions({file})));
  std::vector<Batch> batches = ReadEpoch(*reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size, 2);
  EXPECT_EQ(reader->stats().bad_lines, 0);
  EXPECT_EQ(batches[0].sparse_ids[25], SlotValueId(25, "c25"));  // no "\r" in the last field
}

TEST(ReaderTest, MissingFileIsNotFoundNamingIt) {
  const std::string dir = TestDir();
  const std::string good = WriteTestFile(dir, "a.txt", CriteoLine(1, 0));
  EXPECT_THAT(Reader::Create(CriteoOptions({good, dir + "/nope.txt"})),
              StatusIs(StatusCode::kNotFound, HasSubstr("nope.txt")));
}

TEST(ReaderTest, ResetAfterAFileVanishedIsNotFound) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(dir, "a.txt", CriteoLine(1, 0));
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(CriteoOptions({file})));
  std::filesystem::remove(file);
  EXPECT_THAT(reader->Reset(1), StatusIs(StatusCode::kNotFound, HasSubstr("a.txt")));
}

TEST(ReaderTest, BadOptionsAreInvalidArgument) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(dir, "a.txt", CriteoLine(1, 0));
  struct Case {
    std::function<void(ReaderOptions&)> edit;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {[](ReaderOptions& o) { o.format = "parquet"; }, "criteo, libsvm, csv"},
      {[](ReaderOptions& o) { o.files.clear(); }, "files"},
      {[](ReaderOptions& o) { o.batch_size = 0; }, "batch_size"},
      {[](ReaderOptions& o) { o.shuffle_buffer = -1; }, "shuffle_buffer"},
      {[](ReaderOptions& o) { o.prefetch_batches = -2; }, "prefetch_batches"},
      {[](ReaderOptions& o) { o.max_bad_line_reports = -1; }, "max_bad_line_reports"},
      {[](ReaderOptions& o) {
         o.format = "csv";
         o.csv.label_column = -1;
       },
       "csv.label"},
      {[](ReaderOptions& o) {
         o.format = "csv";
         o.csv.dense_columns = {-3};
       },
       "csv.dense"},
      {[](ReaderOptions& o) {
         o.format = "csv";
         o.csv.sparse_columns = {-3};
       },
       "csv.sparse"},
      {[](ReaderOptions& o) {
         o.format = "csv";
         o.csv.delimiter = '\n';
       },
       "delimiter"},
  };
  for (const Case& c : cases) {
    ReaderOptions o = CriteoOptions({file});
    c.edit(o);
    EXPECT_THAT(Reader::Create(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.fragment)))
        << c.fragment;
  }
}

TEST(ReaderTest, SplitsIntoBatchesAndRestartsOnReset) {
  const std::string dir = TestDir();
  std::string contents;
  for (int i = 0; i < 10; ++i) contents += CriteoLine(i % 2, i);
  const std::string file = WriteTestFile(dir, "a.txt", contents);
  for (int prefetch : {0, 2}) {
    ReaderOptions o = CriteoOptions({file}, 4);
    o.prefetch_batches = prefetch;
    COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
    for (int epoch = 0; epoch < 2; ++epoch) {
      COLONY_ASSERT_OK(reader->Reset(epoch));
      std::vector<int64_t> sizes;
      for (const Batch& b : ReadEpoch(*reader)) sizes.push_back(b.size);
      EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2})) << "prefetch " << prefetch;
      Batch batch;
      EXPECT_TRUE(IsOutOfRange(reader->Next(&batch)));  // stays at the end until Reset
    }
    EXPECT_EQ(reader->stats().samples, 20);
  }
}

TEST(ReaderTest, ReadsFilesInOrderWithLineNumbersPerFile) {
  const std::string dir = TestDir();
  const std::string a = WriteTestFile(dir, "a.txt", CriteoLine(1, 0) + CriteoLine(1, 1));
  const std::string b = WriteTestFile(dir, "b.txt", CriteoLine(0, 2) + "oops\n");
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(CriteoOptions({a, b})));
  std::vector<Batch> batches = ReadEpoch(*reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].labels, (std::vector<float>{1, 1, 0}));
  ASSERT_EQ(reader->stats().first_bad_lines.size(), 1u);
  EXPECT_EQ(reader->stats().first_bad_lines[0], b + ":2: expected 40 fields, got 1");
}

// I1 of line i is i, so dense[0] = log1p(i) identifies the line.
std::vector<int> LineOrder(const std::vector<Batch>& batches) {
  std::vector<int> order;
  for (const Batch& b : batches) {
    for (int64_t i = 0; i < b.size; ++i) {
      order.push_back(static_cast<int>(std::lround(std::expm1(b.dense[i * b.num_dense]))));
    }
  }
  return order;
}

TEST(ReaderTest, ShuffleChangesOrderButKeepsEverySample) {
  const std::string dir = TestDir();
  std::string contents;
  std::vector<float> labels;
  for (int i = 0; i < 500; ++i) {
    contents += CriteoLine(i % 3 == 0, i);
    labels.push_back(i % 3 == 0);
  }
  const std::string file = WriteTestFile(dir, "a.txt", contents);
  ReaderOptions o = CriteoOptions({file}, 64);
  o.shuffle_buffer = 100;
  o.seed = 42;
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  const std::vector<Batch> epoch0 = ReadEpoch(*reader);
  std::vector<int> order0 = LineOrder(epoch0);
  std::vector<int> in_file_order(500);
  for (int i = 0; i < 500; ++i) in_file_order[i] = i;
  EXPECT_NE(order0, in_file_order);
  std::vector<float> shuffled_labels;
  for (const Batch& b : epoch0) {
    shuffled_labels.insert(shuffled_labels.end(), b.labels.begin(), b.labels.end());
  }
  std::vector<int> sorted = order0;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, in_file_order);
  std::sort(shuffled_labels.begin(), shuffled_labels.end());
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(shuffled_labels, labels);
  // Labels still belong to their lines.
  for (const Batch& b : epoch0) {
    for (int64_t i = 0; i < b.size; ++i) {
      const int line = static_cast<int>(std::lround(std::expm1(b.dense[i * b.num_dense])));
      EXPECT_EQ(b.labels[i], line % 3 == 0 ? 1.0f : 0.0f);
    }
  }
  // Another epoch gives another order; the same epoch gives the same one.
  COLONY_ASSERT_OK(reader->Reset(1));
  const std::vector<int> order1 = LineOrder(ReadEpoch(*reader));
  EXPECT_NE(order1, order0);
  COLONY_ASSERT_OK(reader->Reset(0));
  EXPECT_EQ(LineOrder(ReadEpoch(*reader)), order0);
}

void ExpectSameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].size, b[i].size);
    EXPECT_EQ(a[i].labels, b[i].labels);
    EXPECT_EQ(a[i].dense, b[i].dense);
    EXPECT_EQ(a[i].sparse_ids, b[i].sparse_ids);
    EXPECT_EQ(a[i].feature_ids, b[i].feature_ids);
    EXPECT_EQ(a[i].feature_values, b[i].feature_values);
    EXPECT_EQ(a[i].feature_offsets, b[i].feature_offsets);
  }
}

TEST(ReaderTest, PrefetchGivesTheSameBatchesAsNoPrefetch) {
  const std::string dir = TestDir();
  std::string criteo, libsvm;
  for (int i = 0; i < 2000; ++i) {
    criteo += CriteoLine(i % 2, i);
    if (i % 97 == 0) criteo += "bad line\n";
    libsvm +=
        std::to_string(i % 2) + " " + std::to_string(i) + ":1 " + std::to_string(i + 7) + ":0.5\n";
  }
  const std::string criteo_file = WriteTestFile(dir, "a.txt", criteo);
  const std::string libsvm_file = WriteTestFile(dir, "a.svm", libsvm);
  for (const std::string format : {"criteo", "libsvm"}) {
    std::vector<std::vector<Batch>> runs;
    std::vector<int64_t> bad_lines;
    for (int prefetch : {0, 1, 4}) {
      ReaderOptions o = CriteoOptions({format == "criteo" ? criteo_file : libsvm_file}, 100);
      o.format = format;
      o.shuffle_buffer = 300;
      o.seed = 9;
      o.prefetch_batches = prefetch;
      COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
      std::vector<Batch> all;
      for (int epoch : {0, 1}) {
        COLONY_ASSERT_OK(reader->Reset(epoch));
        for (Batch& b : ReadEpoch(*reader)) all.push_back(std::move(b));
      }
      runs.push_back(std::move(all));
      bad_lines.push_back(reader->stats().bad_lines);
    }
    ExpectSameBatches(runs[0], runs[1]);
    ExpectSameBatches(runs[0], runs[2]);
    EXPECT_EQ(bad_lines[0], bad_lines[2]);
  }
}

TEST(ReaderTest, ResetInTheMiddleOfAnEpochWithPrefetch) {
  const std::string dir = TestDir();
  std::string contents;
  for (int i = 0; i < 300; ++i) contents += CriteoLine(1, i);
  const std::string file = WriteTestFile(dir, "a.txt", contents);
  ReaderOptions o = CriteoOptions({file}, 10);
  o.prefetch_batches = 2;
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  Batch batch;
  COLONY_ASSERT_OK(reader->Next(&batch));
  COLONY_ASSERT_OK(reader->Reset(0));
  const std::vector<Batch> batches = ReadEpoch(*reader);
  ASSERT_EQ(batches.size(), 30u);
  EXPECT_EQ(LineOrder(batches).front(), 0);
  EXPECT_EQ(LineOrder(batches).back(), 299);
}

TEST(LibsvmReaderTest, ParsesIntoCsrArrays) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(
      dir, "a.svm", "1 3:0.5 10:2\n-1 4:1\n0\n+1\t7:-1.5  \nbad\n2 1:1\n1 3\n1 x:1\n");
  ReaderOptions o = CriteoOptions({file});
  o.format = "libsvm";
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  Batch batch;
  COLONY_ASSERT_OK(reader->Next(&batch));
  ASSERT_EQ(batch.size, 4);
  EXPECT_EQ(batch.num_dense, 0);
  EXPECT_EQ(batch.num_slots, 0);
  EXPECT_EQ(batch.labels, (std::vector<float>{1, 0, 0, 1}));
  EXPECT_EQ(batch.feature_offsets, (std::vector<int64_t>{0, 2, 3, 3, 4}));
  EXPECT_EQ(batch.feature_ids,
            (std::vector<uint64_t>{Mix(0, 3), Mix(0, 10), Mix(0, 4), Mix(0, 7)}));
  EXPECT_EQ(batch.feature_values, (std::vector<float>{0.5f, 2.0f, 1.0f, -1.5f}));
  EXPECT_TRUE(batch.sparse_ids.empty());
  const ReaderStats stats = reader->stats();
  EXPECT_EQ(stats.bad_lines, 4);
  ASSERT_EQ(stats.first_bad_lines.size(), 4u);
  EXPECT_EQ(stats.first_bad_lines[0], file + ":5: label must be 1, 0 or -1, got 'bad'");
  EXPECT_EQ(stats.first_bad_lines[1], file + ":6: label must be 1, 0 or -1, got '2'");
  EXPECT_EQ(stats.first_bad_lines[2], file + ":7: expected index:value, got '3'");
  EXPECT_EQ(stats.first_bad_lines[3], file + ":8: expected index:value, got 'x:1'");
}

TEST(CsvReaderTest, ParsesColumnsBySchemaAndSkipsTheHeader) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(
      dir, "a.csv", "id;price;click;city;age\n7;2.5;1;paris;30\n8;;0;;41\n9;abc;1;rome;2\n");
  ReaderOptions o = CriteoOptions({file});
  o.format = "csv";
  o.csv = {.label_column = 2,
           .dense_columns = {1, 4},
           .sparse_columns = {3, 0},
           .delimiter = ';',
           .header = true};
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  Batch batch;
  COLONY_ASSERT_OK(reader->Next(&batch));
  ASSERT_EQ(batch.size, 2);
  EXPECT_EQ(batch.num_dense, 2);
  EXPECT_EQ(batch.num_slots, 2);
  EXPECT_EQ(batch.labels, (std::vector<float>{1, 0}));
  EXPECT_EQ(batch.dense, (std::vector<float>{2.5f, 30, 0, 41}));
  EXPECT_EQ(batch.sparse_ids, (std::vector<uint64_t>{SlotValueId(0, "paris"), SlotValueId(1, "7"),
                                                     SlotValueId(0, ""), SlotValueId(1, "8")}));
  ASSERT_EQ(reader->stats().first_bad_lines.size(), 1u);
  EXPECT_EQ(reader->stats().first_bad_lines[0], file + ":4: column 1 is not a number: 'abc'");
}

TEST(CsvReaderTest, WithoutHeaderTheFirstLineIsData) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(dir, "a.csv", "1,0.5\n0,2\n0.5\n3,1\n");
  ReaderOptions o = CriteoOptions({file});
  o.format = "csv";
  o.csv = {.label_column = 0,
           .dense_columns = {1},
           .sparse_columns = {},
           .delimiter = ',',
           .header = false};
  COLONY_ASSERT_OK_AND_ASSIGN(auto reader, Reader::Create(o));
  Batch batch;
  COLONY_ASSERT_OK(reader->Next(&batch));
  EXPECT_EQ(batch.labels, (std::vector<float>{1, 0}));
  EXPECT_EQ(batch.dense, (std::vector<float>{0.5f, 2}));
  const ReaderStats stats = reader->stats();
  ASSERT_EQ(stats.first_bad_lines.size(), 2u);
  EXPECT_EQ(stats.first_bad_lines[0], file + ":3: expected at least 2 fields, got 1");
  EXPECT_EQ(stats.first_bad_lines[1],
            file + ":4: label (column 0) must be a number in [0, 1], got '3'");
}

TEST(CsvReaderTest, SchemaBeyondTheHeaderIsInvalidArgument) {
  const std::string dir = TestDir();
  const std::string file = WriteTestFile(dir, "a.csv", "a,b,c\n1,2,3\n");
  ReaderOptions o = CriteoOptions({file});
  o.format = "csv";
  o.csv.label_column = 0;
  o.csv.sparse_columns = {1, 3};
  EXPECT_THAT(Reader::Create(o), StatusIs(StatusCode::kInvalidArgument,
                                          HasSubstr("column 3 but " + file + " has 3 columns")));
  o.csv.sparse_columns = {1, 2};
  COLONY_EXPECT_OK(Reader::Create(o));
}

}  // namespace
}  // namespace colony::data
