#include "colony/data/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>

#include "colony/data/ctr_generator.h"
#include "colony/data/feature_hash.h"
#include "colony/data/internal/random.h"

namespace colony::data {
namespace {

// ---- Lines ----

// Reads the lines of a list of files, one file after another, with large buffered reads.
class LineSource {
 public:
  explicit LineSource(const std::vector<std::string>& files) : files_(files) {}
  ~LineSource() { CloseFile(); }

  void Rewind() {
    CloseFile();
    file_index_ = 0;
  }
  // Sets `line` (without "\n" or "\r\n") and returns true, or returns false at the end of the
  // last file. `status` is set on a read error.
  bool Next(std::string_view* line, Status* status) {
    while (true) {
      if (file_ == nullptr) {
        if (file_index_ >= files_.size()) return false;
        file_ = std::fopen(files_[file_index_].c_str(), "rb");
        if (file_ == nullptr) {
          *status = NotFoundError(fmt::format("cannot open data file {}", files_[file_index_]));
          return false;
        }
        begin_ = end_ = 0;
        eof_ = false;
        line_number_ = 0;
      }
      const char* data = buffer_.data();
      const void* nl = std::memchr(data + begin_, '\n', end_ - begin_);
      if (nl != nullptr) {
        const size_t pos = static_cast<const char*>(nl) - data;
        *line = Trim(std::string_view(data + begin_, pos - begin_));
        begin_ = pos + 1;
        ++line_number_;
        return true;
      }
      if (eof_) {
        if (begin_ < end_) {  // A last line without "\n".
          *line = Trim(std::string_view(data + begin_, end_ - begin_));
          begin_ = end_;
          ++line_number_;
          return true;
        }
        CloseFile();
        ++file_index_;
        continue;
      }
      // Keep the partial line, grow the buffer if one line fills it, and read more.
      std::copy(buffer_.begin() + begin_, buffer_.begin() + end_, buffer_.begin());
      end_ -= begin_;
      begin_ = 0;
      if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
      end_ += got;
      if (got == 0) {
        if (std::ferror(file_)) {
          *status = UnavailableError(fmt::format("read error on {}", files_[file_index_]));
          return false;
        }
        eof_ = true;
      }
    }
  }
  const std::string& file() const { return files_[file_index_]; }
  int64_t line_number() const { return line_number_; }

 private:
  static std::string_view Trim(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }
  void CloseFile() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
  }

  std::vector<std::string> files_;
  size_t file_index_ = 0;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
};

// ---- Parsers ----

struct Sample {
  float label = 0;
  std::vector<float> dense;
  std::vector<uint64_t> ids;  // Fixed slots, or libsvm feature ids.
  std::vector<float> values;  // libsvm values.
};

// Splits `line` at `delimiter` into `fields`; returns the number of fields (it keeps counting
// past fields.size(), so callers can report the real count).
size_t Split(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  while (true) {
    const size_t pos = line.find(delimiter, start);
    if (pos == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields.size();
    }
    fields.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

class Parser {
 public:
  virtual ~Parser() = default;
  // Parses one non-empty line; on failure returns false with `reason` set.
  virtual bool Parse(std::string_view line, Sample& sample, std::string& reason) = 0;
  virtual int num_dense() const = 0;
  virtual int num_slots() const = 0;
  virtual bool variable_length() const { return false; }
  virtual bool has_header() const { return false; }
};

// Criteo: label \t I1..I13 \t C1..C26. Integers become log1p(max(x, 0)), empty -> 0.
class CriteoParser : public Parser {
 public:
  bool Parse(std::string_view line, Sample& sample, std::string& reason) override {
    constexpr size_t kFields = 1 + kCriteoNumDense + kCriteoNumSlots;
    const size_t n = Split(line, '\t', fields_);
    if (n != kFields) {
      reason = fmt::format("expected {} fields, got {}", kFields, n);
      return false;
    }
    if (fields_[0] == "0") {
      sample.label = 0;
    } else if (fields_[0] == "1") {
      sample.label = 1;
    } else {
      reason = fmt::format("label must be 0 or 1, got '{}'", fields_[0]);
      return false;
    }
    sample.dense.resize(kCriteoNumDense);
    for (int j = 0; j < kCriteoNumDense; ++j) {
      const std::string_view f = fields_[1 + j];
      if (f.empty()) {
        sample.dense[j] = 0;
        continue;
      }
      int64_t x = 0;
      if (!ParseNumber(f, &x)) {
        reason = fmt::format("integer feature I{} is not an integer: '{}'", j + 1, f);
        return false;
      }
      sample.dense[j] =
          static_cast<float>(std::log1p(static_cast<double>(std::max<int64_t>(x, 0))));
    }
    sample.ids.resize(kCriteoNumSlots);
    for (int s = 0; s < kCriteoNumSlots; ++s) {
      sample.ids[s] = SlotValueId(s, fields_[1 + kCriteoNumDense + s]);
    }
    return true;
  }
  int num_dense() const override { return kCriteoNumDense; }
  int num_slots() const override { return kCriteoNumSlots; }

 private:
  std::vector<std::string_view> fields_;
};

// libsvm: "label idx:val idx:val ...", label 1/+1 or 0/-1; ids are Mix(0, idx).
class LibsvmParser : public Parser {
 public:
  bool Parse(std::string_view line, Sample& sample, std::string& reason) override {
    sample.ids.clear();
    sample.values.clear();
    size_t pos = 0;
    bool first = true;
    while (true) {
      pos = line.find_first_not_of(" \t", pos);
      if (pos == std::string_view::npos) break;
      size_t end = line.find_first_of(" \t", pos);
      if (end == std::string_view::npos) end = line.size();
      const std::string_view token = line.substr(pos, end - pos);
      pos = end;
      if (first) {
        first = false;
        float label = 0;
        if (!ParseNumber(token, &label) || !(label == 1 || label == 0 || label == -1)) {
          reason = fmt::format("label must be 1, 0 or -1, got '{}'", token);
          return false;
        }
        sample.label = label == 1 ? 1.0f : 0.0f;
        continue;
      }
      const size_t colon = token.find(':');
      uint64_t index = 0;
      float value = 0;
      if (colon == std::string_view::npos || !ParseNumber(token.substr(0, colon), &index) ||
          !ParseNumber(token.substr(colon + 1), &value) || !std::isfinite(value)) {
        reason = fmt::format("expected index:value, got '{}'", token);
        return false;
      }
      sample.ids.push_back(Mix(0, index));
      sample.values.push_back(value);
    }
    if (first) {
      reason = "no label";
      return false;
    }
    return true;
  }
  int num_dense() const override { return 0; }
  int num_slots() const override { return 0; }
  bool variable_length() const override { return true; }
};

class CsvParser : public Parser {
 public:
  explicit CsvParser(const CsvSchema& schema) : schema_(schema) {
    min_fields_ = schema.label_column + 1;
    for (int c : schema.dense_columns) min_fields_ = std::max(min_fields_, c + 1);
    for (int c : schema.sparse_columns) min_fields_ = std::max(min_fields_, c + 1);
  }
  bool Parse(std::string_view line, Sample& sample, std::string& reason) override {
    const size_t n = Split(line, schema_.delimiter, fields_);
    if (n < static_cast<size_t>(min_fields_)) {
      reason = fmt::format("expected at least {} fields, got {}", min_fields_, n);
      return false;
    }
    const std::string_view label = fields_[schema_.label_column];
    if (!ParseNumber(label, &sample.label) || !(sample.label >= 0 && sample.label <= 1)) {
      reason = fmt::format("label (column {}) must be a number in [0, 1], got '{}'",
                           schema_.label_column, label);
      return false;
    }
    sample.dense.resize(schema_.dense_columns.size());
    for (size_t j = 0; j < schema_.dense_columns.size(); ++j) {
      const std::string_view f = fields_[schema_.dense_columns[j]];
      sample.dense[j] = 0;
      if (!f.empty() && (!ParseNumber(f, &sample.dense[j]) || !std::isfinite(sample.dense[j]))) {
        reason = fmt::format("column {} is not a number: '{}'", schema_.dense_columns[j], f);
        return false;
      }
    }
    sample.ids.resize(schema_.sparse_columns.size());
    for (size_t k = 0; k < schema_.sparse_columns.size(); ++k) {
      sample.ids[k] = SlotValueId(static_cast<int>(k), fields_[schema_.sparse_columns[k]]);
    }
    return true;
  }
  int num_dense() const override { return static_cast<int>(schema_.dense_columns.size()); }
  int num_slots() const override { return static_cast<int>(schema_.sparse_columns.size()); }
  bool has_header() const override { return schema_.header; }

 private:
  CsvSchema schema_;
  int min_fields_ = 1;
  std::vector<std::string_view> fields_;
};

std::unique_ptr<Parser> MakeParser(const ReaderOptions& o) {
  if (o.format == "criteo") return std::make_unique<CriteoParser>();
  if (o.format == "libsvm") return std::make_unique<LibsvmParser>();
  return std::make_unique<CsvParser>(o.csv);
}

// ---- Batches of one epoch ----

// Produces the batches of one epoch: lines -> samples -> (shuffle buffer) -> batches.
// Used by one thread at a time; stats are shared with the reader under a mutex.
class BatchSource {
 public:
  explicit BatchSource(const ReaderOptions& o)
      : options_(o), lines_(o.files), parser_(MakeParser(o)), rng_(0) {}

  void Reset(int64_t epoch) {
    lines_.Rewind();
    done_ = false;
    filled_ = 0;
    rng_ = internal::Random(Mix(options_.seed, static_cast<uint64_t>(epoch)));
  }

  // Fills `batch`; OutOfRange when the epoch has no samples left.
  Status Fill(Batch& batch) {
    batch.Clear();
    batch.num_dense = parser_->num_dense();
    batch.num_slots = parser_->num_slots();
    if (parser_->variable_length()) batch.feature_offsets.push_back(0);
    Status status;
    const size_t buffer_size = static_cast<size_t>(options_.shuffle_buffer);
    if (buffer_size > 0 && buffer_.size() < buffer_size) buffer_.resize(buffer_size);
    while (batch.size < options_.batch_size) {
      if (buffer_size == 0) {
        if (!NextSample(scratch_, status)) break;
        Append(scratch_, batch);
        continue;
      }
      while (filled_ < buffer_size && NextSample(buffer_[filled_], status)) ++filled_;
      if (!status.ok() || filled_ == 0) break;
      const size_t j = rng_.Below(filled_);
      Append(buffer_[j], batch);
      if (!NextSample(buffer_[j], status)) {
        if (!status.ok()) break;
        std::swap(buffer_[j], buffer_[filled_ - 1]);
        --filled_;
      }
    }
    FlushStats();
    COLONY_RETURN_IF_ERROR(status);
    if (batch.size == 0) {
      if (parser_->variable_length()) batch.feature_offsets.clear();
      return OutOfRangeError("end of epoch");
    }
    return OkStatus();
  }

  ReaderStats stats() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return stats_;
  }

 private:
  // Parses the next good line into `sample`; false at the end of the data or on an error.
  bool NextSample(Sample& sample, Status& status) {
    if (done_) return false;
    std::string_view line;
    while (true) {
      if (!lines_.Next(&line, &status)) {
        done_ = true;
        return false;
      }
      ++pending_.lines;
      if (lines_.line_number() == 1 && parser_->has_header()) continue;
      if (line.empty()) continue;
      if (parser_->Parse(line, sample, reason_)) {
        ++pending_.samples;
        return true;
      }
      ++pending_.bad_lines;
      if (static_cast<int>(stats_reports_ + pending_.first_bad_lines.size()) <
          options_.max_bad_line_reports) {
        pending_.first_bad_lines.push_back(
            fmt::format("{}:{}: {}", lines_.file(), lines_.line_number(), reason_));
      }
    }
  }

  static void Append(const Sample& s, Batch& batch) {
    ++batch.size;
    batch.labels.push_back(s.label);
    batch.dense.insert(batch.dense.end(), s.dense.begin(), s.dense.end());
    if (batch.feature_offsets.empty()) {
      batch.sparse_ids.insert(batch.sparse_ids.end(), s.ids.begin(), s.ids.end());
    } else {
      batch.feature_ids.insert(batch.feature_ids.end(), s.ids.begin(), s.ids.end());
      batch.feature_values.insert(batch.feature_values.end(), s.values.begin(), s.values.end());
      batch.feature_offsets.push_back(static_cast<int64_t>(batch.feature_ids.size()));
    }
  }

  void FlushStats() {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_.lines += pending_.lines;
    stats_.samples += pending_.samples;
    stats_.bad_lines += pending_.bad_lines;
    for (std::string& s : pending_.first_bad_lines) stats_.first_bad_lines.push_back(std::move(s));
    stats_reports_ = stats_.first_bad_lines.size();
    pending_ = ReaderStats();
  }

  const ReaderOptions options_;
  LineSource lines_;
  std::unique_ptr<Parser> parser_;
  internal::Random rng_;
  std::vector<Sample> buffer_;  // The shuffle buffer; [0, filled_) hold samples.
  size_t filled_ = 0;
  Sample scratch_;
  bool done_ = false;
  std::string reason_;
  ReaderStats pending_;  // Counted since the last FlushStats, by the producing thread only.
  size_t stats_reports_ = 0;
  mutable std::mutex stats_mutex_;
  ReaderStats stats_;
};

// ---- The reader, with or without a prefetch thread ----

class ReaderImpl : public Reader {
 public:
  // Nothing is read before the first Next() or Reset(): a prefetch thread started here and
  // restarted by the caller's Reset(0) would count its lines twice in stats().
  explicit ReaderImpl(const ReaderOptions& o) : options_(o), source_(o) {}
  ~ReaderImpl() override { Stop(); }

  Status Reset(int64_t epoch) override {
    Stop();
    for (const std::string& file : options_.files) {
      std::FILE* f = std::fopen(file.c_str(), "rb");
      if (f == nullptr) return NotFoundError(fmt::format("cannot open data file {}", file));
      std::fclose(f);
    }
    Start(epoch);
    return OkStatus();
  }

  Status Next(Batch* batch) override {
    if (!started_) Start(0);
    if (options_.prefetch_batches == 0) {
      if (!end_.ok()) return end_;
      Status s = source_.Fill(*batch);
      if (!s.ok()) end_ = s;
      return s;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    consumer_cv_.wait(lock, [&] { return !queue_.empty() || !end_.ok(); });
    if (queue_.empty()) return end_;
    std::swap(*batch, queue_.front());
    free_.push_back(std::move(queue_.front()));  // Recycled by the producer.
    queue_.pop_front();
    producer_cv_.notify_one();
    return OkStatus();
  }

  ReaderStats stats() const override { return source_.stats(); }

 private:
  void Start(int64_t epoch) {
    started_ = true;
    source_.Reset(epoch);
    end_ = OkStatus();
    if (options_.prefetch_batches == 0) return;
    stop_ = false;
    thread_ = std::thread([this] { Produce(); });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    producer_cv_.notify_all();
    thread_.join();
    for (Batch& b : queue_) free_.push_back(std::move(b));
    queue_.clear();
  }

  void Produce() {
    while (true) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        producer_cv_.wait(lock, [&] {
          return stop_ || queue_.size() < static_cast<size_t>(options_.prefetch_batches);
        });
        if (stop_) return;
        if (!free_.empty()) {
          batch = std::move(free_.back());
          free_.pop_back();
        }
      }
      Status s = source_.Fill(batch);
      std::lock_guard<std::mutex> lock(mutex_);
      if (!s.ok()) {
        end_ = s;
        consumer_cv_.notify_all();
        return;
      }
      queue_.push_back(std::move(batch));
      consumer_cv_.notify_all();
    }
  }

  const ReaderOptions options_;
  BatchSource source_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable producer_cv_, consumer_cv_;
  std::deque<Batch> queue_;  // Filled batches, oldest first.
  std::vector<Batch> free_;  // Spent batches whose buffers the producer reuses.
  bool started_ = false;     // Set by the first Start().
  bool stop_ = false;
  Status end_;  // OutOfRange or an error once the producer has finished.
};

// Reads the first line of `path`; empty if the file is empty.
StatusOr<std::string> FirstLine(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return NotFoundError(fmt::format("cannot open data file {}", path));
  std::string line;
  int c;
  while ((c = std::fgetc(f)) != EOF && c != '\n') line.push_back(static_cast<char>(c));
  std::fclose(f);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

Status ReaderOptions::Validate() const {
  if (format != "criteo" && format != "libsvm" && format != "csv") {
    return InvalidArgumentError(fmt::format(
        "data.format '{}' is not a reader format; use one of criteo, libsvm, csv", format));
  }
  if (files.empty()) return InvalidArgumentError("data files: none given; name at least one");
  if (batch_size <= 0) {
    return InvalidArgumentError(fmt::format("data.batch_size must be > 0, got {}", batch_size));
  }
  if (shuffle_buffer < 0) {
    return InvalidArgumentError(
        fmt::format("data.shuffle_buffer must be >= 0 (0 = no shuffle), got {}", shuffle_buffer));
  }
  if (prefetch_batches < 0) {
    return InvalidArgumentError(fmt::format(
        "data.prefetch_batches must be >= 0 (0 = no thread), got {}", prefetch_batches));
  }
  if (max_bad_line_reports < 0) {
    return InvalidArgumentError(
        fmt::format("max_bad_line_reports must be >= 0, got {}", max_bad_line_reports));
  }
  if (format == "csv") {
    if (csv.label_column < 0) {
      return InvalidArgumentError(
          fmt::format("data.csv.label must be >= 0, got {}", csv.label_column));
    }
    for (int c : csv.dense_columns) {
      if (c < 0) return InvalidArgumentError(fmt::format("data.csv.dense: negative column {}", c));
    }
    for (int c : csv.sparse_columns) {
      if (c < 0) return InvalidArgumentError(fmt::format("data.csv.sparse: negative column {}", c));
    }
    if (csv.delimiter == '\n' || csv.delimiter == '\r') {
      return InvalidArgumentError("data.csv.delimiter cannot be a line break");
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Reader>> Reader::Create(const ReaderOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  for (const std::string& file : options.files) {
    COLONY_ASSIGN_OR_RETURN(std::string first, FirstLine(file));
    if (options.format != "csv" || first.empty()) continue;
    int max_column = options.csv.label_column;
    for (int c : options.csv.dense_columns) max_column = std::max(max_column, c);
    for (int c : options.csv.sparse_columns) max_column = std::max(max_column, c);
    std::vector<std::string_view> fields;
    const size_t columns = Split(first, options.csv.delimiter, fields);
    if (static_cast<size_t>(max_column) >= columns) {
      return InvalidArgumentError(fmt::format(
          "data.csv schema names column {} but {} has {} columns in its first line{}; columns "
          "are 0-based",
          max_column, file, columns, options.csv.header ? " (header)" : ""));
    }
  }
  return std::unique_ptr<Reader>(new ReaderImpl(options));
}

}  // namespace colony::data
