#include "colony/ps/internal/sparse_table_file.h"

#include "colony/ps/internal/table_file.h"

namespace colony::ps::internal {
namespace {

// The options stored in a table file, after the format line. Load checks the first three
// against the table; the rest describe how the rows were made and are kept for inspection
// (a resumed job may change its learning rate).
void PutHeader(TableFileWriter& file, const SparseTableOptions& o, int state_width,
               std::string_view optimizer) {
  file.Put(static_cast<int32_t>(o.dim));
  file.Put(static_cast<int32_t>(state_width));
  file.PutString(optimizer);
  const OptimizerOptions& p = o.optimizer;
  for (float v : {p.learning_rate, p.epsilon, p.initial_accumulator, p.beta1, p.beta2, p.l1, p.l2,
                  p.lr_power, p.beta}) {
    file.Put(v);
  }
  const InitializerOptions& i = o.initializer;
  file.PutString(i.type);
  for (float v : {i.value, i.low, i.high, i.mean, i.std}) file.Put(v);
  file.Put(o.seed);
}

// Reads what PutHeader wrote into `o` (the optimizer's name into *optimizer).
Status GetHeader(TableFileReader& file, SparseTableOptions* o, int32_t* state_width,
                 std::string* optimizer) {
  int32_t dim = 0;
  COLONY_RETURN_IF_ERROR(file.Get(&dim));
  o->dim = dim;
  COLONY_RETURN_IF_ERROR(file.Get(state_width));
  COLONY_RETURN_IF_ERROR(file.GetString(optimizer));
  OptimizerOptions& p = o->optimizer;
  p.name = *optimizer;
  for (float* v : {&p.learning_rate, &p.epsilon, &p.initial_accumulator, &p.beta1, &p.beta2, &p.l1,
                   &p.l2, &p.lr_power, &p.beta}) {
    COLONY_RETURN_IF_ERROR(file.Get(v));
  }
  InitializerOptions& i = o->initializer;
  COLONY_RETURN_IF_ERROR(file.GetString(&i.type));
  for (float* v : {&i.value, &i.low, &i.high, &i.mean, &i.std}) {
    COLONY_RETURN_IF_ERROR(file.Get(v));
  }
  return file.Get(&o->seed);
}

}  // namespace

SparseTableFileWriter::SparseTableFileWriter(const std::string& path,
                                             const SparseTableLayout& layout, int64_t rows)
    : file_(path, kSparseTableFormat), stride_(layout.stride()), rows_(rows) {
  PutHeader(file_, layout.options, layout.state_width, layout.optimizer);
  file_.Put(rows);
}

void SparseTableFileWriter::Add(uint64_t id, const float* row) {
  ordered_ = ordered_ && (added_ == 0 || id > last_id_);
  last_id_ = id;
  ++added_;
  file_.Put(id);
  file_.PutFloats(row, stride_);
}

Status SparseTableFileWriter::Finish() {
  if (added_ != rows_ || !ordered_) {
    return InternalError("table file: " + std::to_string(added_) + " rows written, " +
                         std::to_string(rows_) + " announced" +
                         (ordered_ ? "" : ", ids out of order") + "; the file was not written");
  }
  return file_.Finish();
}

StatusOr<SparseTableFileReader> SparseTableFileReader::Open(const std::string& path,
                                                            const SparseTableLayout& layout) {
  COLONY_ASSIGN_OR_RETURN(TableFileReader file, TableFileReader::Open(path, kSparseTableFormat));
  SparseTableOptions saved;
  int32_t state_width = 0;
  std::string optimizer;
  int64_t count = 0;
  COLONY_RETURN_IF_ERROR(GetHeader(file, &saved, &state_width, &optimizer));
  COLONY_RETURN_IF_ERROR(file.Get(&count));
  const SparseTableOptions& mine = layout.options;
  if (saved.dim != mine.dim || optimizer != layout.optimizer || state_width != layout.state_width) {
    return FailedPreconditionError(
        file.path() + ": holds dim " + std::to_string(saved.dim) + " with optimizer '" + optimizer +
        "' (state width " + std::to_string(state_width) + "), this table has dim " +
        std::to_string(mine.dim) + " with '" + std::string(layout.optimizer) +
        "'; load it into a table with the same dim and optimizer");
  }
  const size_t stride = layout.stride();
  const size_t row_bytes = sizeof(uint64_t) + stride * sizeof(float);
  // Divides rather than multiplies: a crafted count times row_bytes could wrap to the size.
  if (count < 0 || file.remaining() % row_bytes != 0 ||
      file.remaining() / row_bytes != static_cast<uint64_t>(count)) {
    return DataLossError(file.path() + ": header says " + std::to_string(count) + " rows of " +
                         std::to_string(row_bytes) + " bytes, the payload has " +
                         std::to_string(file.remaining()) + " bytes");
  }
  return SparseTableFileReader(std::move(file), stride, count);
}

Status SparseTableFileReader::ReadRows(
    const std::function<Status(uint64_t id, const float* row)>& add) {
  std::vector<float> row(stride_);
  uint64_t last = 0;
  for (int64_t r = 0; r < rows_; ++r) {
    uint64_t id = 0;
    COLONY_RETURN_IF_ERROR(file_.Get(&id));
    COLONY_RETURN_IF_ERROR(file_.GetFloats(row.data(), stride_));
    if (r > 0 && id <= last) {
      return DataLossError(file_.path() + ": id " + std::to_string(id) +
                           (id == last ? " twice" : " after " + std::to_string(last)) +
                           "; rows must be sorted by id");
    }
    last = id;
    Status added = add(id, row.data());
    if (added.code() == StatusCode::kAlreadyExists) {
      return DataLossError(file_.path() + ": id " + std::to_string(id) + " is in another file too");
    }
    COLONY_RETURN_IF_ERROR(added);
  }
  return OkStatus();
}

}  // namespace colony::ps::internal
