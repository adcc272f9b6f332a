// The CTR task behind Train() and the registry's lr, dnn, deepfm and wide_deep: batches from a
// data::Reader dealt to the workers, fed by a BatchFeeder. Private to train; strategy heter's
// runner reads batches ahead through NextBatchInto.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "colony/base/metrics.h"
#include "colony/data/reader.h"
#include "colony/train/internal/batch_feeder.h"
#include "colony/train/loop.h"
#include "colony/train/trainer.h"

namespace colony::train::internal {

class CtrTask : public Task {
 public:
  explicit CtrTask(const CtrTaskOptions& options) : o_(options) {}

  TaskTraits traits() const override { return CtrTraits(); }
  std::string model_name() const override { return o_.model.name; }
  Status Prepare(const JobOptions& job) override;
  const graph::ProgramDesc& program() const override { return program_; }
  TaskParameters parameters() const override;
  int64_t planned_samples() const override { return planned_samples_; }
  Status StartEpoch(int64_t epoch) override;
  StatusOr<bool> NextBatch() override { return NextBatchInto(&batch_); }
  StatusOr<Fed> Feed(exec::Scope& scope) override;
  void RecordStep(const Fed& fed, const exec::Scope& scope, double loss) override;
  std::string Progress() const override;
  StatusOr<int64_t> Evaluate(Model& model) override;
  BadLines bad_lines() const override;
  void AddToJson(nlohmann::ordered_json& summary) const override;
  std::string SummaryLine() const override;

  CtrMetrics metrics() const;  // With the train AUC so far.
  const models::CtrModelOptions& model_options() const { return o_.model; }
  // Reads this worker's next batch of the epoch into `batch`: of each round of worker.count
  // batches, the rank-th. False at the epoch's end (sync: at its last whole round).
  StatusOr<bool> NextBatchInto(data::Batch* batch);
  // The training predictions of a batch, for the train AUC.
  void RecordPredictions(std::span<const float> probs, std::span<const float> labels);

 private:
  CtrTaskOptions o_;
  JobOptions job_;
  graph::ProgramDesc program_;
  std::unique_ptr<data::Reader> reader_;
  int64_t planned_samples_ = 0;
  data::Batch batch_, others_;
  BatchFeeder feeder_;
  AucAccumulator train_auc_;
  // The reader's stats are cumulative over epochs; a bad line is reported once, from the
  // first complete pass over the file.
  std::optional<data::ReaderStats> one_pass_;
  BadLines test_bad_lines_;
  CtrMetrics metrics_;
  int64_t test_samples_ = 0;
};

}  // namespace colony::train::internal
