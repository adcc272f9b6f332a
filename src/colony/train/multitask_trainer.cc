#include "colony/train/multitask_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "colony/base/logging.h"
#include "colony/base/metrics.h"
#include "colony/data/multitask_reader.h"
#include "colony/exec/compute_threads.h"
#include "colony/exec/executor.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/internal/task_queues.h"
#include "colony/train/task_registry.h"

namespace colony::train {
namespace {

using internal::JoinPath;

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
Status EvaluateTasks(Model& model, const models::MultitaskPrograms& programs,
                     const data::MultitaskFile& test, bool classification,
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
      COLONY_ASSIGN_OR_RETURN(at::Tensor out, scope.Get(programs.tasks[k].fetches(0)));
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

// Samples of several tasks in one file: each goes to its task's queue (internal/task_queues.h),
// and each batch a queue releases trains the shared layers and that task's tower.
class MultitaskTask : public Task {
 public:
  explicit MultitaskTask(const MultitaskTaskOptions& options) : o_(options) {}

  TaskTraits traits() const override { return MultitaskTraits(); }
  std::string model_name() const override { return o_.model.name; }

  Status Prepare(const JobOptions& job) override {
    job_ = job;
    const bool classification = o_.model.task_type == "classification";
    data::MultitaskReadOptions read{.dim = o_.model.input_dim,
                                    .num_tasks = o_.model.num_tasks,
                                    .binary_labels = classification};
    const std::string train_path = JoinPath(o_.data.dir, o_.data.train);
    COLONY_ASSIGN_OR_RETURN(train_, data::ReadMultitaskFile(train_path, read));
    bad_lines_.Add(train_.bad_lines, train_.first_bad_lines);
    if (train_.size() == 0) {
      return InvalidArgumentError(fmt::format(
          "training file '{}' holds no valid sample{}", train_path,
          train_.first_bad_lines.empty() ? ""
                                         : " (first bad line: " + train_.first_bad_lines[0] + ")"));
    }
    if (!o_.data.test.empty() && job.worker.rank == 0) {
      read.dim = train_.dim;
      COLONY_ASSIGN_OR_RETURN(test_,
                              data::ReadMultitaskFile(JoinPath(o_.data.dir, o_.data.test), read));
      bad_lines_.Add(test_.bad_lines, test_.first_bad_lines);
    }
    models::MultitaskModelOptions model = o_.model;
    model.input_dim = train_.dim;
    COLONY_ASSIGN_OR_RETURN(programs_, models::BuildMultitaskModel(model));
    queues_.emplace(o_.model.num_tasks, o_.data.batch_size, o_.queues.max_wait_steps);
    task_loss_.assign(o_.model.num_tasks, 0.0);
    std::vector<int64_t> task_rows(o_.model.num_tasks, 0);
    for (int32_t t : train_.tasks) ++task_rows[t];
    COLONY_LOG_INFO(
        "{}: {} tasks ({}), {} train samples ({} per task), {} test samples, dim {}; batch {}, "
        "partly full queues train after {} steps",
        o_.model.name, o_.model.num_tasks, o_.model.task_type, train_.size(),
        fmt::join(task_rows, " / "), test_.size(), train_.dim, o_.data.batch_size,
        o_.queues.max_wait_steps);
    return OkStatus();
  }

  const graph::ProgramDesc& program() const override { return programs_.all; }
  std::vector<const graph::ProgramDesc*> step_programs() const override {
    std::vector<const graph::ProgramDesc*> steps;
    for (const graph::ProgramDesc& task : programs_.tasks) steps.push_back(&task);
    return steps;
  }
  TaskParameters parameters() const override {
    // Multi-task programs have dense parameters only.
    return {.sparse_optimizer = {}, .dense_optimizer = o_.optimizer, .row_sharded = {}};
  }
  int64_t planned_samples() const override {
    const int64_t per_epoch =
        (train_.size() - job_.worker.rank + job_.worker.count - 1) / job_.worker.count;
    return per_epoch * job_.loop.epochs;
  }

  Status StartEpoch(int64_t epoch) override {
    next_sample_ = job_.worker.rank;  // The queues are empty: the last epoch drained them.
    return OkStatus();
  }

  StatusOr<bool> NextBatch() override {
    // Batches replayed to reach a checkpoint's position are not this run's statistics.
    if (!fed_) queues_->ResetStats();
    while (true) {
      if (std::optional<internal::TaskBatch> batch = queues_->Pop()) {
        batch_ = *std::move(batch);
        return true;
      }
      if (next_sample_ >= train_.size()) break;
      queues_->Push(train_.tasks[next_sample_], next_sample_);
      next_sample_ += job_.worker.count;
    }
    // End of the data: the partly full queues train too.
    std::optional<internal::TaskBatch> batch = queues_->Drain();
    if (!batch) return false;
    batch_ = *std::move(batch);
    return true;
  }

  StatusOr<Fed> Feed(exec::Scope& scope) override {
    fed_ = true;
    FeedSamples(train_, batch_.samples, scope);
    return Fed{
        .program = batch_.task, .ids = {}, .samples = static_cast<int64_t>(batch_.samples.size())};
  }

  void RecordStep(const Fed& fed, const exec::Scope& scope, double loss) override {
    task_loss_[fed.program] += loss;
  }

  std::string Progress() const override { return " | " + TasksProgress(*queues_); }

  StatusOr<int64_t> Evaluate(Model& model) override {
    if (test_.size() == 0) return 0;
    tests_.resize(o_.model.num_tasks);
    COLONY_RETURN_IF_ERROR(
        EvaluateTasks(model, programs_, test_, o_.model.task_type == "classification", tests_));
    return test_.size();
  }

  BadLines bad_lines() const override { return bad_lines_; }
  void AddToJson(nlohmann::ordered_json& summary) const override { metrics().AddToJson(summary); }
  std::string SummaryLine() const override { return metrics().Line(); }

  MultitaskMetrics metrics() const {
    MultitaskMetrics m;
    m.task_type = o_.model.task_type;
    m.tasks = tests_;
    m.tasks.resize(o_.model.num_tasks);
    if (!queues_) return m;
    for (int k = 0; k < o_.model.num_tasks; ++k) {
      const internal::TaskQueueStats& s = queues_->stats()[k];
      TaskSummary& t = m.tasks[k];
      t.samples = s.samples;
      t.batches = s.batches;
      t.partial_batches = s.partial_batches;
      t.train_loss = s.batches > 0 ? task_loss_[k] / s.batches : 0;
      t.queue_depth_mean = s.mean_depth();
      t.queue_depth_max = s.depth_max;
      t.staleness_mean = s.mean_staleness();
      t.staleness_max = s.staleness_max;
    }
    return m;
  }

 private:
  MultitaskTaskOptions o_;
  JobOptions job_;
  data::MultitaskFile train_, test_;
  models::MultitaskPrograms programs_;
  std::optional<internal::TaskQueues> queues_;
  int64_t next_sample_ = 0;
  internal::TaskBatch batch_;
  bool fed_ = false;
  std::vector<double> task_loss_;
  std::vector<TaskSummary> tests_;  // The test metrics, worker 0.
  BadLines bad_lines_;
};

StatusOr<Job> ParseMultitaskJob(const Config& config) {
  COLONY_ASSIGN_OR_RETURN(MultitaskTrainOptions options, ParseMultitaskTrainOptions(config));
  return Job{options, std::make_unique<MultitaskTask>(options)};
}

const TaskRegistration kMultitaskModels(models::MultitaskModelNames(), ParseMultitaskJob);

}  // namespace

MultitaskTaskOptions::MultitaskTaskOptions() {
  optimizer.name = "adam";
  optimizer.learning_rate = 0.001f;
  model.input_dim = 0;
}

Status MultitaskTaskOptions::Validate() const {
  if (data.batch_size <= 0) {
    return InvalidArgumentError(
        fmt::format("data.batch_size must be > 0, got {}", data.batch_size));
  }
  if (queues.max_wait_steps < 0) {
    return InvalidArgumentError(
        fmt::format("queues.max_wait_steps must be >= 0 (0: wait for the end of the data), got {}",
                    queues.max_wait_steps));
  }
  if (model.input_dim < 0) {
    return InvalidArgumentError(
        fmt::format("model.input_dim must be >= 0 (0: from the data), got {}", model.input_dim));
  }
  models::MultitaskModelOptions m = model;
  if (m.input_dim == 0) m.input_dim = 1;  // Filled from the data later.
  return m.Validate();
}

TaskTraits MultitaskTraits() {
  // sync, geo, heter and the candidate model are not built for multi-task models.
  TaskTraits traits;
  traits.strategies = {Strategy::kLocal, Strategy::kAsync};
  traits.models = "multi-task models";
  return traits;
}

MultitaskTrainOptions::MultitaskTrainOptions() { loop.epochs = 10; }

Status MultitaskTrainOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(JobOptions::Validate(MultitaskTraits()));
  return MultitaskTaskOptions::Validate();
}

bool IsMultitaskConfig(const Config& config) { return models::IsMultitaskModel(ModelName(config)); }

StatusOr<MultitaskTrainOptions> ParseMultitaskTrainOptions(const Config& config) {
  MultitaskTrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(ReadJobSections(config, MultitaskTraits(), &o));
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
  return FinishParse(config, std::move(o));
}

StatusOr<MultitaskTrainSummary> TrainMultitask(const MultitaskTrainOptions& options) {
  return RunTask<MultitaskTrainSummary, MultitaskTask>(options);
}

void MultitaskMetrics::AddToJson(nlohmann::ordered_json& summary) const {
  nlohmann::ordered_json by_task = nlohmann::ordered_json::object();
  for (size_t k = 0; k < tasks.size(); ++k) {
    const TaskSummary& t = tasks[k];
    by_task[std::to_string(k)] = {{"samples", t.samples},
                                  {"batches", t.batches},
                                  {"partial_batches", t.partial_batches},
                                  {"train_loss", t.train_loss},
                                  {"queue_depth_mean", t.queue_depth_mean},
                                  {"queue_depth_max", t.queue_depth_max},
                                  {"staleness_mean", t.staleness_mean},
                                  {"staleness_max", t.staleness_max},
                                  {"test_samples", t.test_samples},
                                  {"test_mse", t.test_mse},
                                  {"test_auc", t.test_auc},
                                  {"test_logloss", t.test_logloss}};
  }
  summary["task_type"] = task_type;
  summary["tasks"] = std::move(by_task);
}

std::string MultitaskMetrics::Line() const {
  std::string line;
  const bool classification = task_type == "classification";
  for (size_t k = 0; k < tasks.size(); ++k) {
    const TaskSummary& t = tasks[k];
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

std::string MultitaskSummaryLine(const MultitaskTrainSummary& s) {
  return s.RunSummary::Line(s.MultitaskMetrics::Line());
}

std::string MultitaskSummaryJson(const MultitaskTrainSummary& s) {
  nlohmann::ordered_json json = s.ToJson();
  s.MultitaskMetrics::AddToJson(json);
  return SummaryText(std::move(json));
}

}  // namespace colony::train
