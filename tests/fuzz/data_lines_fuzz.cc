// Fuzzes the data-line parsers through their public readers: the CTR readers (Criteo TSV,
// libsvm, CSV), session files, multi-task sample files and raw click logs (diginetica and
// yoochoose). The first byte picks the reader and its options; the rest is the file.
// Properties: no crash, no error for any file content (bad lines are counted and skipped),
// and every batch has the sizes its counts promise.
#include <cstdint>
#include <string>

#include "colony/data/multitask_reader.h"
#include "colony/data/reader.h"
#include "colony/data/session_data.h"
#include "fuzz/fuzz_util.h"

namespace colony::fuzz {
namespace {

void ReadCtr(const std::string& path, uint8_t selector) {
  data::ReaderOptions o;
  const char* formats[] = {"criteo", "libsvm", "csv"};
  o.format = formats[selector % 3];
  o.files = {path};
  o.batch_size = 3;
  o.prefetch_batches = 0;
  o.shuffle_buffer = (selector & 0x10) ? 4 : 0;
  o.csv.dense_columns = {1, 2};
  o.csv.sparse_columns = {3};
  o.csv.header = (selector & 0x20) != 0;
  o.csv.delimiter = (selector & 0x40) ? ';' : ',';
  StatusOr<std::unique_ptr<data::Reader>> reader = data::Reader::Create(o);
  // The one refusal a file can cause: a CSV schema naming columns its first line lacks.
  if (!reader.ok()) {
    FUZZ_CHECK_STATUS(o.format == "csv" && reader.status().code() == StatusCode::kInvalidArgument,
                      reader.status());
    return;
  }
  data::Batch batch;
  int64_t samples = 0;
  for (Status s = (*reader)->Next(&batch); !IsOutOfRange(s); s = (*reader)->Next(&batch)) {
    FUZZ_CHECK_STATUS(s.ok(), s);
    FUZZ_CHECK(batch.size >= 1 && batch.size <= o.batch_size);
    FUZZ_CHECK(static_cast<int64_t>(batch.labels.size()) == batch.size);
    FUZZ_CHECK(static_cast<int64_t>(batch.dense.size()) == batch.size * batch.num_dense);
    if (o.format == "libsvm") {
      FUZZ_CHECK(static_cast<int64_t>(batch.feature_offsets.size()) == batch.size + 1);
      FUZZ_CHECK(batch.feature_offsets.back() ==
                 static_cast<int64_t>(batch.feature_ids.size()));
      FUZZ_CHECK(batch.feature_ids.size() == batch.feature_values.size());
    } else {
      FUZZ_CHECK(static_cast<int64_t>(batch.sparse_ids.size()) == batch.size * batch.num_slots);
    }
    for (float label : batch.labels) FUZZ_CHECK(label >= 0 && label <= 1);
    samples += batch.size;
  }
  const data::ReaderStats stats = (*reader)->stats();
  FUZZ_CHECK(stats.samples == samples);
  FUZZ_CHECK(stats.samples + stats.bad_lines <= stats.lines);
}

void ReadSessions(const std::string& path) {
  StatusOr<data::SessionFile> file = data::ReadSessionFile(path);
  FUZZ_CHECK(file.ok());
  for (const data::Session& session : file->sessions) {
    FUZZ_CHECK(session.size() >= 2);
    for (int64_t item : session) FUZZ_CHECK(item >= 1 && item <= file->max_item);
  }
}

void ReadMultitask(const std::string& path, uint8_t selector) {
  data::MultitaskReadOptions o;
  o.dim = selector & 0x10 ? 3 : 0;
  o.num_tasks = selector & 0x20 ? 2 : 0;
  o.binary_labels = (selector & 0x40) != 0;
  StatusOr<data::MultitaskFile> file = data::ReadMultitaskFile(path, o);
  if (!file.ok()) return;  // A file without one valid line is refused.
  FUZZ_CHECK(file->labels.size() == file->tasks.size());
  FUZZ_CHECK(static_cast<int64_t>(file->features.size()) == file->size() * file->dim);
  for (int32_t task : file->tasks) FUZZ_CHECK(task >= 0 && (o.num_tasks == 0 || task < 2));
}

void PreprocessLog(const std::string& path, uint8_t selector) {
  data::SessionLogOptions o;
  o.format = selector & 0x10 ? "yoochoose" : "diginetica";
  o.log_file = path;
  o.out_dir = ScratchDir() + "/sessions_out";
  o.min_item_count = 1;
  StatusOr<data::SessionLogStats> stats = data::PreprocessSessionLog(o);
  if (!stats.ok()) {  // Only "no valid line" (InvalidArgument) may stop it.
    FUZZ_CHECK_STATUS(stats.status().code() == StatusCode::kInvalidArgument, stats.status());
    return;
  }
  FUZZ_CHECK(stats->bad_lines <= stats->lines);
  StatusOr<data::SessionFile> train = data::ReadSessionFile(o.out_dir + "/train.txt");
  FUZZ_CHECK(train.ok() && train->bad_lines == 0);
  FUZZ_CHECK(static_cast<int64_t>(train->sessions.size()) == stats->train_sessions);
  FUZZ_CHECK(train->max_item <= stats->items);
}

}  // namespace
}  // namespace colony::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony::fuzz;
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string path = ScratchDir() + "/lines.txt";
  WriteBytes(path, AsText(data + 1, size - 1));
  switch (selector % 6) {
    case 0:
    case 1:
    case 2:
      ReadCtr(path, selector);
      break;
    case 3:
      ReadSessions(path);
      break;
    case 4:
      ReadMultitask(path, selector);
      break;
    case 5:
      PreprocessLog(path, selector);
      break;
  }
  return 0;
}
