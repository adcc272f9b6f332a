#include "colony/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>

#include "colony/base/config.h"
#include "colony/base/file_util.h"
#include "colony/base/logging.h"
#include "colony/base/metrics.h"
#include "colony/exec/compute_threads.h"
#include "colony/graph/program.h"
#include "colony/ps/remote_table.h"
#include "colony/train/internal/batch_feeder.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/heter_trainer.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/internal/remote_options.h"

namespace colony::train {
namespace {

using internal::BatchFeeder;
using internal::CheckpointState;
using internal::Clock;
using internal::JoinPath;
using internal::ParameterSet;
using internal::SecondsSince;

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

data::ReaderOptions MakeReaderOptions(const TrainOptions& o, const std::string& file,
                                      bool shuffle) {
  data::ReaderOptions r;
  r.format = o.data.format;
  r.files = {file};
  r.batch_size = o.data.batch_size;
  r.shuffle_buffer = shuffle ? o.data.shuffle_buffer : 0;
  r.seed = o.loop.seed;
  r.prefetch_batches = o.data.prefetch_batches;
  r.csv = o.data.csv;
  return r;
}

ps::RemoteTableOptions MakeRemoteOptions(const TrainOptions& o) {
  return internal::MakeRemoteOptions(o.ps, o.strategy, o.worker.count);
}

// The optimizer and row policies of the job's sparse tables.
ps::SparseTableOptions SparseTableDefaults(const TrainOptions& o) {
  ps::SparseTableOptions t;
  t.optimizer = o.sparse_optimizer;
  t.admit_count = o.ps.admit_count;
  t.admit_probability = o.ps.admit_probability;
  t.ttl_passes = o.ps.ttl_passes;
  t.memory_rows = o.ps.memory_rows;
  t.ssd_dir = o.ps.ssd_dir;
  return t;
}

// Deals the batches of a pass to the workers: reads the next round of `worker.count` batches
// and keeps this worker's in `batch`. True when this worker has a batch to train; with
// `whole_rounds` (sync) only when the round is complete, so every worker runs as many steps.
StatusOr<bool> NextBatch(data::Reader& reader, const WorkerOptions& worker, bool whole_rounds,
                         data::Batch* batch, data::Batch* scratch) {
  int read = 0;
  for (; read < worker.count; ++read) {
    Status next = reader.Next(read == worker.rank ? batch : scratch);
    if (IsOutOfRange(next)) break;
    COLONY_RETURN_IF_ERROR(next);
  }
  return whole_rounds ? read == worker.count : read > worker.rank;
}

// A program, its executor and its parameters: everything one process needs to run a model.
struct Model {
  graph::ProgramDesc program;
  std::unique_ptr<exec::Executor> executor;
  std::unique_ptr<ParameterSet> parameters;
  std::string prob_var;
  BatchFeeder feeder;
};

StatusOr<std::unique_ptr<Model>> MakeModel(graph::ProgramDesc program, const TrainOptions& o) {
  auto model = std::make_unique<Model>();
  if (program.fetches_size() != 1 || program.loss().empty()) {
    return InvalidArgumentError("a CTR program needs one fetch (the probability) and a loss");
  }
  model->prob_var = program.fetches(0);
  exec::ExecutorOptions exec_options;
  exec_options.seed = o.loop.seed;
  COLONY_ASSIGN_OR_RETURN(model->executor, exec::Executor::Create(program, exec_options));
  const ps::RemoteTableOptions remote = MakeRemoteOptions(o);
  COLONY_ASSIGN_OR_RETURN(
      model->parameters,
      ParameterSet::Create(program, SparseTableDefaults(o), o.dense_optimizer, o.loop.seed, remote,
                           o.strategy == "geo" ? o.ps.geo_steps : 0,
                           o.ps.late_params == "candidate" ? o.ps.candidate_max_stale : 0));
  model->program = std::move(program);
  return model;
}

// Runs the model without gradients over a whole reader; optionally writes each probability.
StatusOr<EvalSummary> Infer(Model& model, const TrainOptions& o, data::Reader& reader,
                            std::ostream* predictions) {
  at::NoGradGuard no_grad;
  COLONY_RETURN_IF_ERROR(reader.Reset(0));
  std::vector<float> probs, labels;
  data::Batch batch;
  exec::Scope scope;
  while (true) {
    Status next = reader.Next(&batch);
    if (IsOutOfRange(next)) break;
    COLONY_RETURN_IF_ERROR(next);
    COLONY_RETURN_IF_ERROR(model.feeder.Feed(batch, o.model, scope));
    COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
    COLONY_RETURN_IF_ERROR(
        model.parameters->PullSparse(model.feeder.unique_ids(), scope, /*training=*/false));
    COLONY_RETURN_IF_ERROR(model.executor->Forward(scope, /*training=*/false, /*step=*/0));
    COLONY_ASSIGN_OR_RETURN(at::Tensor prob, scope.Get(model.prob_var));
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

void AddBadLines(const data::ReaderStats& stats, TrainSummary& summary) {
  summary.bad_lines += stats.bad_lines;
  for (const std::string& line : stats.first_bad_lines) {
    if (summary.first_bad_lines.size() < 10) summary.first_bad_lines.push_back(line);
  }
}

// Prints a progress line every `period` seconds.
class Progress {
 public:
  Progress(double period, int64_t total_samples)
      : period_(period), total_(total_samples), start_(Clock::now()), last_(start_) {}
  // `auc` is only called when a line is due: it scans the whole histogram.
  void Update(int64_t epoch, int64_t step, int64_t samples, double loss,
              const AucAccumulator& auc_so_far) {
    if (SecondsSince(last_) < period_) return;
    const double auc = auc_so_far.Auc();
    last_ = Clock::now();
    const double elapsed = SecondsSince(start_);
    const double rate = samples / std::max(elapsed, 1e-9);
    std::string eta = "?";
    if (total_ > 0) eta = fmt::format("{:.0f}s", std::max(0.0, (total_ - samples) / rate));
    COLONY_LOG_INFO(
        "train epoch {} step {} | {} samples ({:.0f}%) | {:.0f} samples/s | loss {:.4f} "
        "| auc {:.4f} | eta {}",
        epoch + 1, step, samples, total_ > 0 ? 100.0 * samples / total_ : 0.0, rate, loss, auc,
        eta);
  }

 private:
  double period_;
  int64_t total_;
  Clock::time_point start_, last_;
};

}  // namespace

StatusOr<TrainSummary> Train(const TrainOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  // Each worker of a job keeps its own data position: under <dir>/worker-<rank>.
  TrainOptions o = options;
  if (o.worker.count > 1) {
    const std::string sub = "/worker-" + std::to_string(o.worker.rank);
    if (!o.checkpoint.dir.empty()) o.checkpoint.dir += sub;
    if (!o.resume_dir.empty()) o.resume_dir += sub;
  }
  TrainSummary summary;
  const exec::ComputeSetup compute =
      exec::SetUpCompute(o.loop.threads, o.strategy == "heter" ? o.heter.compute_threads : 1);
  summary.torch_threads = compute.torch_threads;
  COLONY_LOG_INFO("compute: {} LibTorch threads; BLAS {} with {} threads", compute.torch_threads,
                  compute.blas, compute.blas_threads);

  COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, models::BuildCtrModel(o.model));
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, MakeModel(std::move(program), o));

  // Workers of a job meet at barriers on the first server: at the start (after the first
  // one initialized the dense tables), after each sync step, and at the end.
  std::unique_ptr<ps::WorkerBarrier> barrier;
  if (o.strategy != "local" && !o.ps.servers.empty()) {
    COLONY_ASSIGN_OR_RETURN(
        barrier,
        ps::WorkerBarrier::Connect(MakeRemoteOptions(o), o.worker.count, o.ps.barrier_timeout_ms));
    COLONY_RETURN_IF_ERROR(barrier->Wait("start"));
    COLONY_LOG_INFO("worker {} of {}: {} training on {} parameter servers", o.worker.rank,
                    o.worker.count, o.strategy, o.ps.servers.size());
  }
  const bool sync = o.strategy == "sync";
  const bool candidate = o.ps.late_params == "candidate";
  double step_micros = 0;  // Candidate: moving average of a step's training time.

  CheckpointState state;
  if (!o.resume_dir.empty()) {
    COLONY_ASSIGN_OR_RETURN(state,
                            internal::ResumeFrom(o.resume_dir, model->program, *model->parameters));
  }

  const std::string train_file = JoinPath(o.data.dir, o.data.train);
  if (!PathExists(train_file)) {
    return NotFoundError("training file '" + train_file + "' does not exist (data.dir '" +
                         o.data.dir + "', data.train '" + o.data.train +
                         "'); point data.dir at your data, or generate some with `colony gen "
                         "ctr --rows 200000 --out DIR`");
  }
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<data::Reader> reader,
                          data::Reader::Create(MakeReaderOptions(o, train_file, true)));
  const bool header = o.data.format == "csv" && o.data.csv.header;
  int64_t total = CountSamples(train_file, header) * o.loop.epochs / o.worker.count;
  if (o.loop.max_steps > 0) {
    total = std::min<int64_t>(total, o.loop.max_steps * int64_t{o.data.batch_size});
  }
  Progress progress(o.loop.log_every_seconds, total - state.samples);

  auto checkpoint = [&]() -> Status {
    COLONY_RETURN_IF_ERROR(model->parameters->Flush());  // Geo: local copies reach the servers.
    COLONY_ASSIGN_OR_RETURN(summary.checkpoint,
                            internal::WriteCheckpoint(o.checkpoint.dir, state, model->program,
                                                      o.config_text, *model->parameters));
    COLONY_LOG_INFO("checkpoint {} written", summary.checkpoint);
    return OkStatus();
  };
  if (!o.checkpoint.dir.empty()) COLONY_RETURN_IF_ERROR(MakeDirs(o.checkpoint.dir));

  AucAccumulator train_auc;
  double loss_sum = 0;
  std::deque<double> recent_losses;  // The last kTargetLossWindow, for train.target_loss.
  double recent_loss_sum = 0;
  data::Batch batch, others_batch;
  exec::Scope scope;
  const Clock::time_point start = Clock::now();
  bool stop = false;
  bool interrupted = false;
  // The reader's stats are cumulative over epochs; a bad line is reported once, from the
  // first complete pass over the file.
  std::optional<data::ReaderStats> one_pass;
  if (o.strategy == "heter") {  // Its own loop, from the same data position.
    const internal::HeterJob job{
        &o,
        &model->program,
        model->parameters.get(),
        reader.get(),
        [&](data::Batch* b) { return NextBatch(*reader, o.worker, false, b, &others_batch); },
        [&](int64_t epoch, int64_t step, int64_t samples, double loss, const AucAccumulator& auc) {
          progress.Update(epoch, step, samples, loss, auc);
        }};
    COLONY_ASSIGN_OR_RETURN(internal::HeterOutcome heter,
                            internal::TrainHeter(job, state, summary, train_auc));
    one_pass = heter.one_pass;
    loss_sum = heter.loss_sum;
    stop = true;
    interrupted = heter.interrupted;
  }
  while (state.epoch < o.loop.epochs && !stop) {
    COLONY_RETURN_IF_ERROR(reader->Reset(state.epoch));
    for (int64_t skipped = 0; skipped < state.batches_in_epoch; ++skipped) {
      // Replays the data position of a checkpoint.
      COLONY_ASSIGN_OR_RETURN(bool more, NextBatch(*reader, o.worker, sync, &batch, &others_batch));
      if (!more) break;
    }
    while (true) {
      if (o.loop.max_steps > 0 && state.global_step >= o.loop.max_steps) {
        stop = true;
        break;
      }
      if (o.stop_requested != nullptr && o.stop_requested->load()) {
        stop = interrupted = true;
        break;
      }
      COLONY_ASSIGN_OR_RETURN(bool more, NextBatch(*reader, o.worker, sync, &batch, &others_batch));
      if (!more) break;
      scope.Clear();
      COLONY_RETURN_IF_ERROR(model->feeder.Feed(batch, o.model, scope));
      const std::vector<uint64_t>& ids = model->feeder.unique_ids();
      if (candidate) {
        // The global parameters after this worker's last push; waits for them as long as a
        // step takes, else this step trains on the candidate model.
        COLONY_RETURN_IF_ERROR(model->parameters->StartPull(ids));
        const auto wait = o.ps.candidate_wait_ms > 0
                              ? std::chrono::microseconds(int64_t{o.ps.candidate_wait_ms} * 1000)
                              : std::chrono::microseconds(std::llround(step_micros));
        COLONY_ASSIGN_OR_RETURN(bool on_candidate, model->parameters->AwaitGlobal(ids, wait));
        if (on_candidate) ++summary.candidate_steps;
      }
      const Clock::time_point step_start = Clock::now();
      COLONY_RETURN_IF_ERROR(model->parameters->PullDense(scope, true));
      COLONY_RETURN_IF_ERROR(model->parameters->PullSparse(ids, scope, true));
      COLONY_RETURN_IF_ERROR(model->executor->Forward(scope, true, state.global_step));
      COLONY_RETURN_IF_ERROR(model->executor->Backward(scope));
      COLONY_RETURN_IF_ERROR(model->parameters->PushGradients(ids, scope));
      if (candidate) {
        const double micros = SecondsSince(step_start) * 1e6;
        step_micros = step_micros == 0 ? micros : 0.8 * step_micros + 0.2 * micros;
      }
      if (sync) COLONY_RETURN_IF_ERROR(barrier->Wait("step"));

      COLONY_ASSIGN_OR_RETURN(at::Tensor loss, scope.Get(model->program.loss()));
      COLONY_ASSIGN_OR_RETURN(at::Tensor prob, scope.Get(model->prob_var));
      const double step_loss = loss.item<double>();
      if (!std::isfinite(step_loss)) {
        return InvalidArgumentError(
            fmt::format("loss became {} at step {}; lower optimizer learning rates", step_loss,
                        state.global_step));
      }
      prob = prob.detach().contiguous();
      train_auc.Add(std::span<const float>(prob.data_ptr<float>(), batch.size), batch.labels);
      loss_sum += step_loss;
      if (o.loop.target_loss > 0) {
        recent_losses.push_back(step_loss);
        recent_loss_sum += step_loss;
        if (recent_losses.size() > LoopOptions::kTargetLossWindow) {
          recent_loss_sum -= recent_losses.front();
          recent_losses.pop_front();
        }
        summary.reached_target_loss =
            recent_losses.size() == LoopOptions::kTargetLossWindow &&
            recent_loss_sum / LoopOptions::kTargetLossWindow <= o.loop.target_loss;
      }
      ++summary.steps;
      summary.samples += batch.size;
      ++state.global_step;
      ++state.batches_in_epoch;
      state.samples += batch.size;
      progress.Update(state.epoch, state.global_step, summary.samples, loss_sum / summary.steps,
                      train_auc);
      if (o.checkpoint.every_steps > 0 && state.global_step % o.checkpoint.every_steps == 0) {
        COLONY_RETURN_IF_ERROR(checkpoint());
      }
      if (summary.reached_target_loss) {
        COLONY_LOG_INFO("train.target_loss {} reached at step {}", o.loop.target_loss,
                        state.global_step);
        stop = true;
        break;
      }
    }
    if (!stop) {
      if (!one_pass) one_pass = reader->stats();
      // One worker ends the pass on the shared tables: evictions, then the row counts.
      if (o.worker.rank == 0 && (o.ps.ttl_passes > 0 || o.ps.memory_rows > 0)) {
        COLONY_ASSIGN_OR_RETURN(int64_t evicted, model->parameters->EndPass());
        COLONY_LOG_INFO("pass {} ended: {} rows evicted, {} sparse rows ({} on SSD)",
                        state.epoch + 1, evicted, model->parameters->sparse_rows(),
                        model->parameters->sparse_ssd_rows());
      }
      ++state.epoch;
      state.batches_in_epoch = 0;
    }
  }
  summary.seconds = SecondsSince(start);
  summary.global_step = state.global_step;
  summary.samples_per_sec = summary.samples / std::max(summary.seconds, 1e-9);
  summary.train_loss = summary.steps > 0 ? loss_sum / summary.steps : 0;
  summary.train_auc = train_auc.Auc();
  summary.sparse_rows = model->parameters->sparse_rows();
  summary.ssd_rows = model->parameters->sparse_ssd_rows();
  AddBadLines(one_pass ? *one_pass : reader->stats(), summary);
  if (!o.checkpoint.dir.empty() && !(o.checkpoint.every_steps > 0 && summary.steps > 0 &&
                                     state.global_step % o.checkpoint.every_steps == 0)) {
    COLONY_RETURN_IF_ERROR(checkpoint());
  }
  if (interrupted) {
    return CancelledError(fmt::format(
        "interrupted at step {}; {}", state.global_step,
        o.checkpoint.dir.empty() ? std::string("no checkpoint.dir was set, so the progress is lost")
                                 : "checkpoint " + summary.checkpoint +
                                       " written; continue with --resume " + o.checkpoint.dir));
  }

  COLONY_RETURN_IF_ERROR(model->parameters->Flush());  // Geo: the last local steps.
  if (barrier != nullptr) COLONY_RETURN_IF_ERROR(barrier->Wait("end"));

  // In a job of several workers the first one tests the model all of them trained.
  if (!o.data.test.empty() && o.worker.rank == 0) {
    COLONY_ASSIGN_OR_RETURN(
        std::unique_ptr<data::Reader> test_reader,
        data::Reader::Create(MakeReaderOptions(o, JoinPath(o.data.dir, o.data.test), false)));
    COLONY_ASSIGN_OR_RETURN(EvalSummary test, Infer(*model, o, *test_reader, nullptr));
    summary.test_auc = test.auc;
    summary.test_logloss = test.logloss;
    summary.test_samples = test.samples;
    AddBadLines(test_reader->stats(), summary);
  }
  return summary;
}

namespace {

// The model and options of the latest checkpoint under `dir`.
StatusOr<std::pair<std::unique_ptr<Model>, TrainOptions>> LoadModel(const std::string& dir) {
  COLONY_ASSIGN_OR_RETURN(internal::CheckpointInfo info, internal::ReadCheckpoint(dir));
  COLONY_ASSIGN_OR_RETURN(Config config,
                          Config::Parse(info.config_text, info.path + "/config.yaml"));
  COLONY_ASSIGN_OR_RETURN(TrainOptions options, ParseTrainOptions(config));
  exec::SetUpCompute(options.loop.threads);
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, MakeModel(info.program, options));
  COLONY_RETURN_IF_ERROR(model->parameters->Load(info.path));
  return std::make_pair(std::move(model), std::move(options));
}

StatusOr<EvalSummary> InferFile(const std::string& checkpoint_dir, const std::string& data_file,
                                std::ostream* predictions) {
  COLONY_ASSIGN_OR_RETURN(auto loaded, LoadModel(checkpoint_dir));
  auto& [model, options] = loaded;
  const std::string file =
      data_file.empty() ? JoinPath(options.data.dir, options.data.test) : data_file;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<data::Reader> reader,
                          data::Reader::Create(MakeReaderOptions(options, file, false)));
  return Infer(*model, options, *reader, predictions);
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

std::string SummaryLine(const TrainSummary& s) {
  std::string line = fmt::format(
      "summary: {} steps, {} samples in {:.1f}s ({:.0f} samples/s) | train loss {:.4f} auc "
      "{:.4f} | test auc {:.4f} logloss {:.4f} on {} samples | bad lines {}",
      s.steps, s.samples, s.seconds, s.samples_per_sec, s.train_loss, s.train_auc, s.test_auc,
      s.test_logloss, s.test_samples, s.bad_lines);
  for (size_t i = 0; i < s.first_bad_lines.size() && i < 3; ++i) {
    line += (i == 0 ? " (first: " : "; ") + s.first_bad_lines[i];
  }
  if (!s.first_bad_lines.empty()) line += ")";
  if (s.candidate_steps > 0)
    line += fmt::format(" | {} steps on a candidate model", s.candidate_steps);
  if (s.reached_target_loss) line += " | stopped at train.target_loss";
  return line;
}

std::string SummaryJson(const TrainSummary& s) {
  std::string bad = "[";
  for (size_t i = 0; i < s.first_bad_lines.size(); ++i) {
    std::string escaped;
    for (char c : s.first_bad_lines[i]) {
      if (c == '"' || c == '\\') escaped += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
    }
    bad += (i ? ", \"" : "\"") + escaped + "\"";
  }
  bad += "]";
  return fmt::format(
      "{{\"samples_per_sec\": {:.3f}, \"train_loss\": {:.6f}, \"train_auc\": {:.6f}, "
      "\"test_auc\": {:.6f}, \"test_logloss\": {:.6f}, \"test_samples\": {}, \"bad_lines\": {}, "
      "\"first_bad_lines\": {}, \"steps\": {}, \"global_step\": {}, \"samples\": {}, "
      "\"seconds\": {:.3f}, \"torch_threads\": {}, \"sparse_rows\": {}, \"ssd_rows\": {}, "
      "\"candidate_steps\": {}, \"reached_target_loss\": {}{}}}\n",
      s.samples_per_sec, s.train_loss, s.train_auc, s.test_auc, s.test_logloss, s.test_samples,
      s.bad_lines, bad, s.steps, s.global_step, s.samples, s.seconds, s.torch_threads,
      s.sparse_rows, s.ssd_rows, s.candidate_steps, s.reached_target_loss, internal::HeterJson(s));
}

}  // namespace colony::train
