#include "colony/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "colony/base/config.h"
#include "colony/base/file_util.h"
#include "colony/exec/executor.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/ctr_task.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/model.h"
#include "colony/exec/compute_threads.h"
#include "colony/train/task_registry.h"

namespace colony::train {
namespace internal {
namespace {

// Samples in a data file, for progress and ETA: its line count, less a CSV header.
int64_t CountSamples(const std::string& path, bool header) {
  std::ifstream in(path, std::ios::binary);
  int64_t lines = 0;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    lines += std::count(buffer, buffer + in.gcount(), '\n');
  }
  return std::max<int64_t>(0, lines - (header ? 1 : 0));
}

data::ReaderOptions MakeReaderOptions(const CtrTaskOptions& o, uint64_t seed,
                                      const std::string& file, bool shuffle) {
  data::ReaderOptions r;
  r.format = o.data.format;
  r.files = {file};
  r.batch_size = o.data.batch_size;
  r.shuffle_buffer = shuffle ? o.data.shuffle_buffer : 0;
  r.seed = seed;
  r.prefetch_batches = o.data.prefetch_batches;
  r.csv = o.data.csv;
  return r;
}

// Runs `model` without gradients over a whole reader; optionally writes each probability.
StatusOr<EvalSummary> Infer(Model& model, const graph::ProgramDesc& program,
                            const models::CtrModelOptions& options, data::Reader& reader,
                            std::ostream* predictions) {
  at::NoGradGuard no_grad;
  COLONY_RETURN_IF_ERROR(reader.Reset(0));
  std::vector<float> probs, labels;
  data::Batch batch;
  exec::Scope scope;
  BatchFeeder feeder;
  while (true) {
    Status next = reader.Next(&batch);
    if (IsOutOfRange(next)) break;
    COLONY_RETURN_IF_ERROR(next);
    COLONY_RETURN_IF_ERROR(feeder.Feed(batch, options, scope));
    COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
    COLONY_RETURN_IF_ERROR(
        model.parameters->PullSparse(feeder.unique_ids(), scope, /*training=*/false));
    COLONY_RETURN_IF_ERROR(model.executors[0]->Forward(scope, /*training=*/false, /*step=*/0));
    COLONY_ASSIGN_OR_RETURN(at::Tensor prob, scope.Get(program.fetches(0)));
    prob = prob.contiguous();
    const float* p = prob.data_ptr<float>();
    probs.insert(probs.end(), p, p + batch.size);
    labels.insert(labels.end(), batch.labels.begin(), batch.labels.end());
    if (predictions != nullptr) {
      for (int64_t i = 0; i < batch.size; ++i) *predictions << fmt::format("{:.6f}\n", p[i]);
    }
  }
  EvalSummary summary;
  summary.samples = static_cast<int64_t>(probs.size());
  summary.auc = Auc(probs, labels);
  summary.logloss = LogLoss(probs, labels);
  summary.bad_lines = reader.stats().bad_lines;
  return summary;
}

Status CheckCtrProgram(const graph::ProgramDesc& program) {
  if (program.fetches_size() != 1 || program.loss().empty()) {
    return InvalidArgumentError("a CTR program needs one fetch (the probability) and a loss");
  }
  return OkStatus();
}

}  // namespace

Status CtrTask::Prepare(const JobOptions& job) {
  job_ = job;
  COLONY_ASSIGN_OR_RETURN(program_, models::BuildCtrModel(o_.model));
  COLONY_RETURN_IF_ERROR(CheckCtrProgram(program_));
  const std::string train_file = JoinPath(o_.data.dir, o_.data.train);
  if (!PathExists(train_file)) {
    return NotFoundError("training file '" + train_file + "' does not exist (data.dir '" +
                         o_.data.dir + "', data.train '" + o_.data.train +
                         "'); point data.dir at your data, or generate some with `colony gen "
                         "ctr --rows 200000 --out DIR`");
  }
  COLONY_ASSIGN_OR_RETURN(reader_, data::Reader::Create(MakeReaderOptions(
                                       o_, job.loop.seed, train_file, /*shuffle=*/true)));
  const bool header = o_.data.format == "csv" && o_.data.csv.header;
  planned_samples_ = CountSamples(train_file, header) * job.loop.epochs / job.worker.count;
  if (job.loop.max_steps > 0) {
    planned_samples_ = std::min<int64_t>(planned_samples_, job.loop.max_steps * o_.data.batch_size);
  }
  return OkStatus();
}

TaskParameters CtrTask::parameters() const {
  return {.sparse_optimizer = o_.sparse_optimizer,
          .dense_optimizer = o_.dense_optimizer,
          .row_sharded = {}};
}

Status CtrTask::StartEpoch(int64_t epoch) { return reader_->Reset(epoch); }

StatusOr<bool> CtrTask::NextBatchInto(data::Batch* batch) {
  const WorkerOptions& worker = job_.worker;
  int read = 0;
  for (; read < worker.count; ++read) {
    Status next = reader_->Next(read == worker.rank ? batch : &others_);
    if (IsOutOfRange(next)) break;
    COLONY_RETURN_IF_ERROR(next);
  }
  // Sync: only whole rounds, so that every worker runs as many steps.
  const bool more = job_.strategy == Strategy::kSync ? read == worker.count : read > worker.rank;
  if (!more && !one_pass_) one_pass_ = reader_->stats();
  return more;
}

StatusOr<Fed> CtrTask::Feed(exec::Scope& scope) {
  COLONY_RETURN_IF_ERROR(feeder_.Feed(batch_, o_.model, scope));
  return Fed{.program = 0, .ids = feeder_.unique_ids(), .samples = batch_.size};
}

void CtrTask::RecordStep(const Fed& fed, const exec::Scope& scope, double loss) {
  StatusOr<at::Tensor> prob = scope.Get(program_.fetches(0));
  if (!prob.ok()) return;  // Checked by Prepare: the program fetches it.
  const at::Tensor p = prob->detach().contiguous();
  RecordPredictions(std::span<const float>(p.data_ptr<float>(), batch_.size), batch_.labels);
}

void CtrTask::RecordPredictions(std::span<const float> probs, std::span<const float> labels) {
  train_auc_.Add(probs, labels);
}

std::string CtrTask::Progress() const {
  // Only called when a line is due: it scans the whole histogram.
  return fmt::format(" | auc {:.4f}", train_auc_.Auc());
}

StatusOr<int64_t> CtrTask::Evaluate(Model& model) {
  if (o_.data.test.empty()) return 0;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<data::Reader> reader,
                          data::Reader::Create(MakeReaderOptions(
                              o_, job_.loop.seed, JoinPath(o_.data.dir, o_.data.test), false)));
  COLONY_ASSIGN_OR_RETURN(EvalSummary test, Infer(model, program_, o_.model, *reader, nullptr));
  metrics_.test_auc = test.auc;
  metrics_.test_logloss = test.logloss;
  test_bad_lines_ = {};
  test_bad_lines_.Add(reader->stats().bad_lines, reader->stats().first_bad_lines);
  test_samples_ = test.samples;
  return test.samples;
}

BadLines CtrTask::bad_lines() const {
  BadLines lines;
  if (reader_ != nullptr) {
    const data::ReaderStats& train = one_pass_ ? *one_pass_ : reader_->stats();
    lines.Add(train.bad_lines, train.first_bad_lines);
  }
  lines.Add(test_bad_lines_.count, test_bad_lines_.first);
  return lines;
}

CtrMetrics CtrTask::metrics() const {
  CtrMetrics m = metrics_;
  m.train_auc = train_auc_.Auc();
  return m;
}

void CtrTask::AddToJson(nlohmann::ordered_json& summary) const { metrics().AddToJson(summary); }

std::string CtrTask::SummaryLine() const { return metrics().Line(test_samples_); }

namespace {

// A CTR job from its config (the registry's entry).
StatusOr<Job> ParseCtrJob(const Config& config) {
  COLONY_ASSIGN_OR_RETURN(TrainOptions options, ParseTrainOptions(config));
  return Job{options, std::make_unique<CtrTask>(options)};
}

const TaskRegistration kCtrModels(models::CtrModelNames(), ParseCtrJob);

}  // namespace
}  // namespace internal

void CtrMetrics::AddToJson(nlohmann::ordered_json& summary) const {
  summary["train_auc"] = train_auc;
  summary["test_auc"] = test_auc;
  summary["test_logloss"] = test_logloss;
}

std::string CtrMetrics::Line(int64_t test_samples) const {
  return fmt::format(" | train auc {:.4f} | test auc {:.4f} logloss {:.4f} on {} samples",
                     train_auc, test_auc, test_logloss, test_samples);
}

StatusOr<TrainSummary> Train(const TrainOptions& options) {
  return RunTask<TrainSummary, internal::CtrTask>(options);
}

std::string SummaryLine(const TrainSummary& s) {
  return s.RunSummary::Line(s.CtrMetrics::Line(s.test_samples));
}

std::string SummaryJson(const TrainSummary& s) {
  nlohmann::ordered_json json = s.ToJson();
  s.CtrMetrics::AddToJson(json);
  return SummaryText(std::move(json));
}

namespace {

StatusOr<EvalSummary> InferFile(const std::string& checkpoint_dir, const std::string& data_file,
                                std::ostream* predictions) {
  COLONY_ASSIGN_OR_RETURN(internal::CheckpointInfo info, internal::ReadCheckpoint(checkpoint_dir));
  COLONY_ASSIGN_OR_RETURN(Config config,
                          Config::Parse(info.config_text, info.path + "/config.yaml"));
  COLONY_ASSIGN_OR_RETURN(TrainOptions options, ParseTrainOptions(config));
  COLONY_RETURN_IF_ERROR(internal::CheckCtrProgram(info.program));
  exec::SetUpCompute(options.loop.threads);
  // Tables on servers are read from the servers the checkpoint's job trained on.
  internal::CtrTask task(options);
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<Model> model,
      internal::LoadModel(info.path, info.program, {&info.program},
                          internal::MakeParameterSetOptions(options, task.parameters()),
                          options.loop.seed));
  const std::string file =
      data_file.empty() ? internal::JoinPath(options.data.dir, options.data.test) : data_file;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<data::Reader> reader,
                          data::Reader::Create(internal::MakeReaderOptions(
                              options, options.loop.seed, file, /*shuffle=*/false)));
  return internal::Infer(*model, info.program, options.model, *reader, predictions);
}

}  // namespace

StatusOr<EvalSummary> Evaluate(const std::string& checkpoint_dir, const std::string& data_file) {
  return InferFile(checkpoint_dir, data_file, nullptr);
}

StatusOr<EvalSummary> Predict(const std::string& checkpoint_dir, const std::string& data_file,
                              const std::string& out_file) {
  std::ofstream out(out_file);
  if (!out) return NotFoundError("cannot open '" + out_file + "' for writing");
  return InferFile(checkpoint_dir, data_file, &out);
}

}  // namespace colony::train
