// Options of a CTR training job (models lr, dnn, deepfm, wide_deep), parsed from its YAML
// config. Each YAML key path equals a field path: `data.batch_size` ->
// TrainOptions::data.batch_size. See docs/config.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/data/reader.h"
#include "colony/models/ctr_models.h"
#include "colony/ps/optimizer.h"
#include "colony/train/job_options.h"

namespace colony::train {

struct DataOptions {
  std::string dir = "data/ctr";     // Folder holding the files below. Default: "data/ctr".
  std::string format = "criteo";    // "criteo", "csv" or "libsvm". Default: "criteo".
  std::string train = "train.txt";  // Training file inside dir. Default: "train.txt".
  std::string test = "test.txt";    // Test file inside dir; "" skips the test. Default: "test.txt".
  int batch_size = 512;             // Samples per step. Default: 512.
  int shuffle_buffer = 0;           // Shuffle window in samples; 0 keeps file order. Default: 0.
  int prefetch_batches = 4;         // Batches parsed ahead by a thread; 0: none. Default: 4.
  data::CsvSchema csv;              // Columns for format "csv".
};

// The CTR task's own sections: model, data and optimizer.
struct CtrTaskOptions {
  models::CtrModelOptions model;
  DataOptions data;
  ps::OptimizerOptions sparse_optimizer;  // Key optimizer.sparse. Default: adagrad, lr 0.05.
  ps::OptimizerOptions dense_optimizer;   // Key optimizer.dense. Default: adam, lr 0.001.
  CtrTaskOptions();
  Status Validate() const;  // InvalidArgument naming the key.
};

// What the CTR task supports: every strategy, sparse tables with row policies, the candidate
// model of ps.late_params.
TaskTraits CtrTraits();

// A CTR job: the shared sections and the CTR task's.
struct TrainOptions : JobOptions, CtrTaskOptions {
  Status Validate() const;
};

// Reads every section; an unknown key, a wrong type or a bad value is InvalidArgument naming
// the file, line and key.
StatusOr<TrainOptions> ParseTrainOptions(const Config& config);

}  // namespace colony::train
