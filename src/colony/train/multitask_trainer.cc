#include "colony/train/multitask_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "colony/base/logging.h"
#include "colony/base/metrics.h"
#include "colony/data/multitask_reader.h"
#include "colony/exec/compute_threads.h"
#include "colony/exec/executor.h"
#include "colony/ps/remote_table.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/internal/task_queues.h"

namespace colony::train {
namespace {

using internal::Clock;
using internal::JoinPath;
using internal::ParameterSet;
using internal::SecondsSince;

ps::RemoteTableOptions RemoteOptions(const MultitaskTrainOptions& o) {
  ps::RemoteTableOptions remote;
  remote.servers = o.ps.servers;
  remote.token = o.ps.token;
  remote.tls_ca_file = o.ps.tls_ca;
  remote.deadline_ms = o.ps.deadline_ms;
  remote.batch_dense = o.ps.batch_dense;
  return remote;
}

// The programs of a multi-task model, an executor per task and the shared parameters.
struct MultitaskModel {
  models::MultitaskPrograms programs;
  std::vector<std::unique_ptr<exec::Executor>> executors;  // One per task.
  std::unique_ptr<ParameterSet> parameters;
};

StatusOr<std::unique_ptr<MultitaskModel>> MakeModel(const models::MultitaskModelOptions& m,
                                                    const MultitaskTrainOptions& o) {
  auto model = std::make_unique<MultitaskModel>();
  COLONY_ASSIGN_OR_RETURN(model->programs, models::BuildMultitaskModel(m));
  for (const graph::ProgramDesc& task : model->programs.tasks) {
    COLONY_ASSIGN_OR_RETURN(std::unique_ptr<exec::Executor> executor,
                            exec::Executor::Create(task, {.seed = o.loop.seed}));
    model->executors.push_back(std::move(executor));
  }
  ps::SparseTableOptions unused_sparse;  // Multi-task programs have dense parameters only.
  COLONY_ASSIGN_OR_RETURN(model->parameters,
                          ParameterSet::Create(model->programs.all, unused_sparse, o.optimizer,
                                               o.loop.seed, RemoteOptions(o)));
  return model;
}

// Puts the samples' features and labels into `scope` as the feeds "x" and "label".
void FeedSamples(const data::MultitaskFile& f, std::span<const int64_t> samples,
                 exec::Scope& scope) {
  const int64_t n = static_cast<int64_t>(samples.size());
  at::Tensor x = at::empty({n, f.dim}, at::kFloat);
  at::Tensor label = at::empty({n, 1}, at::kFloat);
  float* xp = x.data_ptr<float>();
  float* lp = label.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = f.features.data() + samples[i] * f.dim;
    std::copy_n(row, f.dim, xp + i * f.dim);
    lp[i] = f.labels[samples[i]];
  }
  scope.Set(models::kMultitaskFeaturesFeed, std::move(x));
  scope.Set(models::kMultitaskLabelFeed, std::move(label));
}

// Each task's test metric, on the test samples of that task.
Status Evaluate(MultitaskModel& model, const data::MultitaskFile& test, bool classification,
                std::vector<TaskSummary>& tasks) {
  at::NoGradGuard no_grad;
  exec::Scope scope;
  for (size_t k = 0; k < tasks.size(); ++k) {
    std::vector<int64_t> samples;
    for (int64_t i = 0; i < test.size(); ++i) {
      if (test.tasks[i] == static_cast<int32_t>(k)) samples.push_back(i);
    }
    std::vector<float> predictions, labels;
    for (size_t begin = 0; begin < samples.size(); begin += 1024) {
      const size_t end = std::min(samples.size(), begin + 1024);
      const std::span<const int64_t> part(samples.data() + begin, end - begin);
      scope.Clear();
      FeedSamples(test, part, scope);
      COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
      COLONY_RETURN_IF_ERROR(model.executors[k]->Forward(scope, /*training=*/false, 0));
      COLONY_ASSIGN_OR_RETURN(at::Tensor out, scope.Get(model.programs.tasks[k].fetches(0)));
      out = out.contiguous();
      predictions.insert(predictions.end(), out.data_ptr<float>(),
                         out.data_ptr<float>() + part.size());
      for (int64_t i : part) labels.push_back(test.labels[i]);
    }
    TaskSummary& t = tasks[k];
    t.test_samples = static_cast<int64_t>(predictions.size());
    if (predictions.empty()) continue;
    if (classification) {
      t.test_auc = Auc(predictions, labels);
      t.test_logloss = LogLoss(predictions, labels);
    } else {
      double sum = 0;
      for (size_t i = 0; i < predictions.size(); ++i) {
        const double d = predictions[i] - labels[i];
        sum += d * d;
      }
      t.test_mse = sum / static_cast<double>(predictions.size());
    }
  }
  return OkStatus();
}

void AddBadLines(const data::MultitaskFile& f, MultitaskTrainSummary& s) {
  s.bad_lines += f.bad_lines;
  for (const std::string& line : f.first_bad_lines) {
    if (s.first_bad_lines.size() < 10) s.first_bad_lines.push_back(line);
  }
}

// "task 0: 1200 samples, depth 31 (max 127), stale 2.1 | task 1: ..."
std::string TasksProgress(const internal::TaskQueues& queues) {
  std::string line;
  const auto& stats = queues.stats();
  for (size_t k = 0; k < stats.size(); ++k) {
    line += fmt::format(
        "{}task {}: {} samples {} batches, depth {} (mean {:.1f} max {}), "
        "stale {:.1f} (max {})",
        k ? " | " : "", k, stats[k].samples, stats[k].batches, queues.depth(static_cast<int>(k)),
        stats[k].mean_depth(), stats[k].depth_max, stats[k].mean_staleness(),
        stats[k].staleness_max);
  }
  return line;
}

}  // namespace

MultitaskTrainOptions::MultitaskTrainOptions() {
  optimizer.name = "adam";
  optimizer.learning_rate = 0.001f;
  loop.epochs = 10;
  model.input_dim = 0;
}

Status MultitaskTrainOptions::Validate() const {
  // sync, geo, heter and the candidate model are not built for multi-task models.
  COLONY_RETURN_IF_ERROR(
      ValidateJobPlacement(strategy, {"local", "async"}, ps, worker, "multi-task models"));
  if (data.batch_size <= 0) {
    return InvalidArgumentError(
        fmt::format("data.batch_size must be > 0, got {}", data.batch_size));
  }
  if (queues.max_wait_steps < 0) {
    return InvalidArgumentError(
        fmt::format("queues.max_wait_steps must be >= 0 (0: wait for the end of the data), got {}",
                    queues.max_wait_steps));
  }
  COLONY_RETURN_IF_ERROR(ValidateLoop(loop));
  if (model.input_dim < 0) {
    return InvalidArgumentError(
        fmt::format("model.input_dim must be >= 0 (0: from the data), got {}", model.input_dim));
  }
  models::MultitaskModelOptions m = model;
  if (m.input_dim == 0) m.input_dim = 1;  // Filled from the data later.
  return m.Validate();
}

bool IsMultitaskConfig(const Config& config) { return models::IsMultitaskModel(ModelName(config)); }

StatusOr<MultitaskTrainOptions> ParseMultitaskTrainOptions(const Config& config) {
  MultitaskTrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(root.Read("strategy", &o.strategy));
  const ConfigSection model = root.Section("model");
  COLONY_RETURN_IF_ERROR(model.Read("name", &o.model.name));
  COLONY_RETURN_IF_ERROR(model.Read("num_tasks", &o.model.num_tasks));
  COLONY_RETURN_IF_ERROR(model.Read("input_dim", &o.model.input_dim));
  COLONY_RETURN_IF_ERROR(model.Read("task_type", &o.model.task_type));
  COLONY_RETURN_IF_ERROR(model.Read("bottom_hidden", &o.model.bottom_hidden));
  COLONY_RETURN_IF_ERROR(model.Read("experts", &o.model.experts));
  COLONY_RETURN_IF_ERROR(model.Read("expert_hidden", &o.model.expert_hidden));
  COLONY_RETURN_IF_ERROR(model.Read("tower_hidden", &o.model.tower_hidden));
  const ConfigSection data = root.Section("data");
  COLONY_RETURN_IF_ERROR(data.Read("dir", &o.data.dir));
  COLONY_RETURN_IF_ERROR(data.Read("train", &o.data.train));
  COLONY_RETURN_IF_ERROR(data.Read("test", &o.data.test));
  COLONY_RETURN_IF_ERROR(data.Read("batch_size", &o.data.batch_size));
  COLONY_RETURN_IF_ERROR(root.Section("queues").Read("max_wait_steps", &o.queues.max_wait_steps));
  COLONY_RETURN_IF_ERROR(ReadOptimizer(root.Section("optimizer"), &o.optimizer));
  COLONY_RETURN_IF_ERROR(ReadLoop(root.Section("train"), &o.loop));
  const ConfigSection ps = root.Section("ps");
  COLONY_RETURN_IF_ERROR(ReadPsConnection(ps, &o.ps));
  std::string dependencies;
  COLONY_RETURN_IF_ERROR(ReadJobSection(root.Section("job"), &dependencies));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  Status valid = o.Validate();
  if (!valid.ok()) return valid.WithContext(config.source());
  return o;
}

StatusOr<MultitaskTrainSummary> TrainMultitask(const MultitaskTrainOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  MultitaskTrainSummary summary;
  const exec::ComputeSetup compute = exec::SetUpCompute(o.loop.threads);
  summary.torch_threads = compute.torch_threads;
  const bool classification = o.model.task_type == "classification";
  summary.task_type = o.model.task_type;

  data::MultitaskReadOptions read{
      .dim = o.model.input_dim, .num_tasks = o.model.num_tasks, .binary_labels = classification};
  const std::string train_path = JoinPath(o.data.dir, o.data.train);
  COLONY_ASSIGN_OR_RETURN(data::MultitaskFile train, data::ReadMultitaskFile(train_path, read));
  AddBadLines(train, summary);
  if (train.size() == 0) {
    return InvalidArgumentError(fmt::format(
        "training file '{}' holds no valid sample{}", train_path,
        train.first_bad_lines.empty() ? ""
                                      : " (first bad line: " + train.first_bad_lines[0] + ")"));
  }
  data::MultitaskFile test;
  if (!o.data.test.empty() && o.worker.rank == 0) {
    read.dim = train.dim;
    COLONY_ASSIGN_OR_RETURN(test, data::ReadMultitaskFile(JoinPath(o.data.dir, o.data.test), read));
    AddBadLines(test, summary);
  }
  models::MultitaskModelOptions model_options = o.model;
  model_options.input_dim = train.dim;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<MultitaskModel> model, MakeModel(model_options, o));

  std::unique_ptr<ps::WorkerBarrier> barrier;
  if (o.strategy != "local") {
    COLONY_ASSIGN_OR_RETURN(barrier, ps::WorkerBarrier::Connect(RemoteOptions(o), o.worker.count,
                                                                o.ps.barrier_timeout_ms));
    COLONY_RETURN_IF_ERROR(barrier->Wait("start"));
    COLONY_LOG_INFO("worker {} of {}: {} training on {} parameter servers", o.worker.rank,
                    o.worker.count, o.strategy, o.ps.servers.size());
  }
  std::vector<int64_t> task_rows(o.model.num_tasks, 0);
  for (int32_t t : train.tasks) ++task_rows[t];
  COLONY_LOG_INFO(
      "{}: {} tasks ({}), {} train samples ({} per task), {} test samples, dim {}; "
      "batch {}, partly full queues train after {} steps; {} LibTorch threads",
      o.model.name, o.model.num_tasks, o.model.task_type, train.size(), fmt::join(task_rows, " / "),
      test.size(), train.dim, o.data.batch_size, o.queues.max_wait_steps, compute.torch_threads);

  internal::TaskQueues queues(o.model.num_tasks, o.data.batch_size, o.queues.max_wait_steps);
  std::vector<double> task_loss(o.model.num_tasks, 0.0);
  const int64_t per_epoch = (train.size() - o.worker.rank + o.worker.count - 1) / o.worker.count;
  const int64_t total = per_epoch * o.loop.epochs;
  exec::Scope scope;
  double loss_sum = 0;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_log = start;

  auto train_batch = [&](const internal::TaskBatch& batch, int epoch) -> Status {
    scope.Clear();
    FeedSamples(train, batch.samples, scope);
    exec::Executor& executor = *model->executors[batch.task];
    COLONY_RETURN_IF_ERROR(model->parameters->PullDense(scope, /*training=*/true));
    COLONY_RETURN_IF_ERROR(executor.Forward(scope, /*training=*/true, summary.steps));
    COLONY_RETURN_IF_ERROR(executor.Backward(scope));
    COLONY_RETURN_IF_ERROR(model->parameters->PushGradients({}, scope));
    COLONY_ASSIGN_OR_RETURN(at::Tensor loss, scope.Get(model->programs.tasks[batch.task].loss()));
    const double step_loss = loss.item<double>();
    if (!std::isfinite(step_loss)) {
      return InvalidArgumentError(
          fmt::format("loss of task {} became {} at step {}; lower optimizer.learning_rate",
                      batch.task, step_loss, summary.steps));
    }
    loss_sum += step_loss;
    task_loss[batch.task] += step_loss;
    ++summary.steps;
    summary.samples += static_cast<int64_t>(batch.samples.size());
    if (SecondsSince(last_log) >= o.loop.log_every_seconds) {
      last_log = Clock::now();
      const double rate = summary.samples / std::max(SecondsSince(start), 1e-9);
      COLONY_LOG_INFO(
          "train epoch {} step {} | {} samples ({:.0f}%) | {:.0f} samples/s | loss "
          "{:.4f} | {}",
          epoch + 1, summary.steps, summary.samples,
          100.0 * summary.samples / std::max<int64_t>(total, 1), rate, loss_sum / summary.steps,
          TasksProgress(queues));
    }
    return OkStatus();
  };

  bool stop = false, interrupted = false;
  auto should_stop = [&] {
    if (o.loop.max_steps > 0 && summary.steps >= o.loop.max_steps) stop = true;
    if (o.stop_requested != nullptr && o.stop_requested->load()) stop = interrupted = true;
    return stop;
  };
  for (int epoch = 0; epoch < o.loop.epochs && !stop; ++epoch) {
    for (int64_t i = o.worker.rank; i < train.size() && !stop; i += o.worker.count) {
      queues.Push(train.tasks[i], i);
      while (!should_stop()) {
        std::optional<internal::TaskBatch> batch = queues.Pop();
        if (!batch) break;
        COLONY_RETURN_IF_ERROR(train_batch(*batch, epoch));
      }
    }
    // End of the data: the partly full queues train too.
    while (!should_stop()) {
      std::optional<internal::TaskBatch> batch = queues.Drain();
      if (!batch) break;
      COLONY_RETURN_IF_ERROR(train_batch(*batch, epoch));
    }
  }
  summary.seconds = SecondsSince(start);
  summary.samples_per_sec = summary.samples / std::max(summary.seconds, 1e-9);
  summary.train_loss = summary.steps > 0 ? loss_sum / summary.steps : 0;
  summary.tasks.resize(o.model.num_tasks);
  for (int k = 0; k < o.model.num_tasks; ++k) {
    const internal::TaskQueueStats& s = queues.stats()[k];
    TaskSummary& t = summary.tasks[k];
    t.samples = s.samples;
    t.batches = s.batches;
    t.partial_batches = s.partial_batches;
    t.train_loss = s.batches > 0 ? task_loss[k] / s.batches : 0;
    t.queue_depth_mean = s.mean_depth();
    t.queue_depth_max = s.depth_max;
    t.staleness_mean = s.mean_staleness();
    t.staleness_max = s.staleness_max;
  }
  if (interrupted) {
    return CancelledError(
        fmt::format("interrupted at step {} (multi-task models write no "
                    "checkpoint)",
                    summary.steps));
  }
  if (barrier != nullptr) COLONY_RETURN_IF_ERROR(barrier->Wait("end"));
  if (test.size() > 0) {
    COLONY_RETURN_IF_ERROR(Evaluate(*model, test, classification, summary.tasks));
    summary.test_samples = test.size();
  }
  return summary;
}

std::string MultitaskSummaryLine(const MultitaskTrainSummary& s) {
  std::string line = fmt::format(
      "summary: {} steps, {} samples in {:.1f}s ({:.0f} samples/s) | train loss {:.4f} | bad "
      "lines {}",
      s.steps, s.samples, s.seconds, s.samples_per_sec, s.train_loss, s.bad_lines);
  if (!s.first_bad_lines.empty()) line += " (first: " + s.first_bad_lines[0] + ")";
  const bool classification = s.task_type == "classification";
  for (size_t k = 0; k < s.tasks.size(); ++k) {
    const TaskSummary& t = s.tasks[k];
    line += fmt::format(
        "\n  task {}: {} samples in {} batches ({} partly full) | train loss {:.4f} | queue "
        "depth mean {:.1f} max {} | staleness mean {:.2f} max {} steps | test {} {:.4f} on {} "
        "samples",
        k, t.samples, t.batches, t.partial_batches, t.train_loss, t.queue_depth_mean,
        t.queue_depth_max, t.staleness_mean, t.staleness_max, classification ? "auc" : "mse",
        classification ? t.test_auc : t.test_mse, t.test_samples);
  }
  return line;
}

std::string MultitaskSummaryJson(const MultitaskTrainSummary& s) {
  std::vector<std::string> tasks;
  for (size_t k = 0; k < s.tasks.size(); ++k) {
    const TaskSummary& t = s.tasks[k];
    tasks.push_back(fmt::format(
        "\"{}\": {{\"samples\": {}, \"batches\": {}, \"partial_batches\": {}, \"train_loss\": "
        "{:.6f}, \"queue_depth_mean\": {:.3f}, \"queue_depth_max\": {}, \"staleness_mean\": "
        "{:.3f}, \"staleness_max\": {}, \"test_samples\": {}, \"test_mse\": {:.6f}, "
        "\"test_auc\": {:.6f}, \"test_logloss\": {:.6f}}}",
        k, t.samples, t.batches, t.partial_batches, t.train_loss, t.queue_depth_mean,
        t.queue_depth_max, t.staleness_mean, t.staleness_max, t.test_samples, t.test_mse,
        t.test_auc, t.test_logloss));
  }
  return fmt::format(
      "{{\"samples_per_sec\": {:.3f}, \"train_loss\": {:.6f}, \"steps\": {}, \"samples\": {}, "
      "\"seconds\": {:.3f}, \"test_samples\": {}, \"bad_lines\": {}, \"torch_threads\": {}, "
      "\"task_type\": \"{}\", \"tasks\": {{{}}}}}\n",
      s.samples_per_sec, s.train_loss, s.steps, s.samples, s.seconds, s.test_samples, s.bad_lines,
      s.torch_threads, s.task_type, fmt::join(tasks, ", "));
}

}  // namespace colony::train
