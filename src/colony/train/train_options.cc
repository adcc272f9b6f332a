#include "colony/train/train_options.h"

#include <set>

namespace colony::train {
namespace {

Status ReadModel(const ConfigSection& s, models::CtrModelOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("name", &o->name));
  COLONY_RETURN_IF_ERROR(s.Read("embedding_dim", &o->embedding_dim));
  COLONY_RETURN_IF_ERROR(s.Read("hidden", &o->hidden));
  COLONY_RETURN_IF_ERROR(s.Read("dropout", &o->dropout));
  COLONY_RETURN_IF_ERROR(s.Read("init_scale", &o->init_scale));
  return OkStatus();
}

Status ReadData(const ConfigSection& s, DataOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("dir", &o->dir));
  COLONY_RETURN_IF_ERROR(s.Read("format", &o->format));
  COLONY_RETURN_IF_ERROR(s.Read("train", &o->train));
  COLONY_RETURN_IF_ERROR(s.Read("test", &o->test));
  COLONY_RETURN_IF_ERROR(s.Read("batch_size", &o->batch_size));
  COLONY_RETURN_IF_ERROR(s.Read("shuffle_buffer", &o->shuffle_buffer));
  COLONY_RETURN_IF_ERROR(s.Read("prefetch_batches", &o->prefetch_batches));
  const ConfigSection csv = s.Section("csv");
  COLONY_RETURN_IF_ERROR(csv.Read("label", &o->csv.label_column));
  COLONY_RETURN_IF_ERROR(csv.Read("dense", &o->csv.dense_columns));
  COLONY_RETURN_IF_ERROR(csv.Read("sparse", &o->csv.sparse_columns));
  COLONY_RETURN_IF_ERROR(csv.Read("header", &o->csv.header));
  std::string delimiter(1, o->csv.delimiter);
  COLONY_RETURN_IF_ERROR(csv.Read("delimiter", &delimiter));
  if (delimiter.size() != 1) {
    return InvalidArgumentError(csv.Where("delimiter") + " must be one character, got '" +
                                delimiter + "'");
  }
  o->csv.delimiter = delimiter[0];
  return OkStatus();
}

}  // namespace

CtrTaskOptions::CtrTaskOptions() {
  sparse_optimizer.name = "adagrad";
  sparse_optimizer.learning_rate = 0.05f;
  dense_optimizer.name = "adam";
  dense_optimizer.learning_rate = 0.001f;
}

Status CtrTaskOptions::Validate() const {
  static const std::set<std::string> kFormats = {"criteo", "csv", "libsvm"};
  if (!kFormats.count(data.format)) {
    return InvalidArgumentError("data.format must be 'criteo', 'csv' or 'libsvm', got '" +
                                data.format + "'");
  }
  if (data.batch_size <= 0) {
    return InvalidArgumentError("data.batch_size must be > 0, got " +
                                std::to_string(data.batch_size));
  }
  if (data.shuffle_buffer < 0 || data.prefetch_batches < 0) {
    return InvalidArgumentError("data.shuffle_buffer and data.prefetch_batches must be >= 0");
  }
  return model.Validate();
}

TaskTraits CtrTraits() {
  return {.strategies = {Strategy::kLocal, Strategy::kAsync, Strategy::kSync, Strategy::kGeo,
                         Strategy::kHeter},
          .models = "",
          .sparse_tables = true,
          .late_params = true};
}

Status TrainOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(JobOptions::Validate(CtrTraits()));
  return CtrTaskOptions::Validate();
}

StatusOr<TrainOptions> ParseTrainOptions(const Config& config) {
  TrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(ReadJobSections(config, CtrTraits(), &o));
  COLONY_RETURN_IF_ERROR(ReadModel(root.Section("model"), &o.model));
  COLONY_RETURN_IF_ERROR(ReadData(root.Section("data"), &o.data));
  const ConfigSection optimizer = root.Section("optimizer");
  COLONY_RETURN_IF_ERROR(ReadOptimizer(optimizer.Section("sparse"), &o.sparse_optimizer));
  COLONY_RETURN_IF_ERROR(ReadOptimizer(optimizer.Section("dense"), &o.dense_optimizer));
  // The model's input widths follow the data format.
  if (o.data.format == "csv") {
    o.model.num_dense = static_cast<int>(o.data.csv.dense_columns.size());
    o.model.num_slots = static_cast<int>(o.data.csv.sparse_columns.size());
  } else if (o.data.format == "libsvm") {
    o.model.input = "bag";
  }
  return FinishParse(config, std::move(o));
}

}  // namespace colony::train
