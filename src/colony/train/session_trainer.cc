#include "colony/train/session_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "colony/base/file_util.h"
#include "colony/base/logging.h"
#include "colony/data/session_data.h"
#include "colony/exec/compute_threads.h"
#include "colony/exec/executor.h"
#include "colony/graph/program.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/model.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/internal/session_feeder.h"
#include "colony/exec/compute_threads.h"
#include "colony/train/task_registry.h"

namespace colony::train {
namespace {

using internal::JoinPath;

internal::SessionFeederOptions FeederOptions(const SessionTaskOptions& o) {
  return {.max_length = o.data.max_length,
          .position = o.model.position,
          .max_position = o.model.max_position};
}

// The item count of a session program: its item embedding is [num_items + 1, dim].
StatusOr<int64_t> NumItems(const graph::ProgramDesc& program) {
  if (program.fetches_size() != 1 || program.loss().empty()) {
    return InvalidArgumentError("a session program needs one fetch (the scores) and a loss");
  }
  const graph::VarDesc* items = graph::FindVar(program, 0, models::kItemEmbedding);
  if (items == nullptr || items->shape_size() != 2) {
    return InvalidArgumentError(std::string("a session program needs the parameter ") +
                                models::kItemEmbedding + " [num_items + 1, dim]");
  }
  return items->shape(0) - 1;
}

// Scores of the samples' next items, [B, num_items + 1], column 0 (padding) at -inf.
StatusOr<at::Tensor> Scores(Model& model, const graph::ProgramDesc& program,
                            const internal::SessionFeederOptions& feeder,
                            const std::vector<data::Session>& sessions,
                            std::span<const data::SessionSample> samples, exec::Scope& scope) {
  scope.Clear();
  internal::FeedSessions(sessions, samples, feeder, scope);
  COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
  COLONY_RETURN_IF_ERROR(model.executors[0]->Forward(scope, /*training=*/false, /*step=*/0));
  COLONY_ASSIGN_OR_RETURN(at::Tensor scores, scope.Get(program.fetches(0)));
  scores = scores.detach().clone();
  scores.select(1, 0).fill_(-std::numeric_limits<float>::infinity());
  return scores;
}

StatusOr<SessionEval> EvaluateOn(Model& model, const graph::ProgramDesc& program,
                                 const SessionTaskOptions& o,
                                 const std::vector<data::Session>& sessions) {
  at::NoGradGuard no_grad;
  const std::vector<data::SessionSample> samples = data::PrefixSamples(sessions);
  SessionEval eval;
  double hits = 0, rr = 0;
  exec::Scope scope;
  const size_t batch = std::max(o.data.batch_size, 256);
  for (size_t begin = 0; begin < samples.size(); begin += batch) {
    const size_t end = std::min(samples.size(), begin + batch);
    const std::span<const data::SessionSample> part(samples.data() + begin, end - begin);
    COLONY_ASSIGN_OR_RETURN(at::Tensor scores,
                            Scores(model, program, FeederOptions(o), sessions, part, scope));
    const int64_t k = std::min<int64_t>(20, scores.size(1));
    const at::Tensor top = std::get<1>(scores.topk(k, 1)).contiguous();
    const int64_t* idx = top.data_ptr<int64_t>();
    for (size_t b = 0; b < part.size(); ++b) {
      const int64_t target = sessions[part[b].session][part[b].prefix];
      for (int64_t r = 0; r < k; ++r) {
        if (idx[b * k + r] == target) {
          hits += 1;
          rr += 1.0 / static_cast<double>(r + 1);
          break;
        }
      }
    }
  }
  eval.samples = static_cast<int64_t>(samples.size());
  if (eval.samples > 0) {
    eval.p20 = hits / static_cast<double>(eval.samples);
    eval.mrr20 = rr / static_cast<double>(eval.samples);
  }
  return eval;
}

StatusOr<data::SessionFile> ReadData(const std::string& path, const std::string& key) {
  if (!PathExists(path)) {
    return NotFoundError("session file '" + path + "' does not exist (data.dir and " + key +
                         "); generate data with `colony gen sessions --out DIR` or convert a "
                         "click log with `colony prep sessions`");
  }
  return data::ReadSessionFile(path);
}

// Session prefixes (sample i: predict item prefix of session s from the clicks before it),
// in batches of one shuffled order per epoch, dealt to the workers.
class SessionTask : public Task {
 public:
  explicit SessionTask(const SessionTaskOptions& options) : o_(options) {}

  TaskTraits traits() const override { return SessionTraits(); }
  std::string model_name() const override { return o_.model.name; }

  Status Prepare(const JobOptions& job) override {
    job_ = job;
    COLONY_ASSIGN_OR_RETURN(train_, ReadData(JoinPath(o_.data.dir, o_.data.train), "data.train"));
    bad_lines_.Add(train_.bad_lines, train_.first_bad_lines);
    if (!o_.data.test.empty()) {
      COLONY_ASSIGN_OR_RETURN(test_, ReadData(JoinPath(o_.data.dir, o_.data.test), "data.test"));
      bad_lines_.Add(test_.bad_lines, test_.first_bad_lines);
    }
    if (train_.sessions.empty()) {
      return InvalidArgumentError("training file '" + JoinPath(o_.data.dir, o_.data.train) +
                                  "' holds no session of two or more valid items");
    }
    models::SessionModelOptions model = o_.model;
    const int64_t max_item = std::max(train_.max_item, test_.max_item);
    if (model.num_items == 0) {
      model.num_items = max_item;
    } else if (max_item > model.num_items) {
      return InvalidArgumentError(fmt::format(
          "the data holds item id {} but model.num_items is {}; raise it or leave it 0 (from "
          "the data)",
          max_item, model.num_items));
    }
    COLONY_ASSIGN_OR_RETURN(program_, models::BuildSessionModel(model));
    COLONY_ASSIGN_OR_RETURN(metrics_.num_items, NumItems(program_));
    samples_ = data::PrefixSamples(train_.sessions);
    const int64_t per_epoch = static_cast<int64_t>(samples_.size());
    const int64_t batches = (per_epoch + o_.data.batch_size - 1) / o_.data.batch_size;
    const int rank = job.worker.rank, workers = job.worker.count;
    // This worker's batches of an epoch: r, r + M, ...; sync: whole rounds of M only.
    my_batches_ = job.strategy == Strategy::kSync ? batches / workers
                                                  : (batches - rank + workers - 1) / workers;
    planned_ = my_batches_ * o_.data.batch_size * job.loop.epochs;
    if (job.loop.max_steps > 0) {
      planned_ = std::min<int64_t>(planned_, job.loop.max_steps * o_.data.batch_size);
    }
    rng_.seed(job.loop.seed);
    COLONY_LOG_INFO(
        "{}: {} items, {} train sessions ({} samples, {} batches of which {} are this "
        "worker's), {} test sessions",
        o_.model.name, metrics_.num_items, train_.sessions.size(), per_epoch, batches, my_batches_,
        test_.sessions.size());
    return OkStatus();
  }

  const graph::ProgramDesc& program() const override { return program_; }
  TaskParameters parameters() const override {
    // Session programs have dense parameters only.
    return {.sparse_optimizer = {},
            .dense_optimizer = o_.optimizer,
            .row_sharded = {models::kItemEmbedding}};
  }
  int64_t planned_samples() const override { return planned_; }

  Status StartEpoch(int64_t epoch) override {
    // The same shuffles on every worker and after a resume: epoch e's order is the
    // (e + 1)-th shuffle of one generator seeded with train.seed.
    for (; shuffles_ <= epoch; ++shuffles_) std::shuffle(samples_.begin(), samples_.end(), rng_);
    next_batch_ = 0;
    return OkStatus();
  }

  StatusOr<bool> NextBatch() override {
    if (next_batch_ >= my_batches_) return false;
    const int64_t size = o_.data.batch_size;
    const int64_t begin = (next_batch_ * job_.worker.count + job_.worker.rank) * size;
    const int64_t end = std::min<int64_t>(static_cast<int64_t>(samples_.size()), begin + size);
    batch_ = std::span<const data::SessionSample>(samples_.data() + begin, end - begin);
    ++next_batch_;
    return true;
  }

  StatusOr<Fed> Feed(exec::Scope& scope) override {
    internal::FeedSessions(train_.sessions, batch_, FeederOptions(o_), scope);
    return Fed{.program = 0, .ids = {}, .samples = static_cast<int64_t>(batch_.size())};
  }

  StatusOr<int64_t> Evaluate(Model& model) override {
    if (test_.sessions.empty()) return 0;
    COLONY_ASSIGN_OR_RETURN(SessionEval eval, EvaluateOn(model, program_, o_, test_.sessions));
    metrics_.p20 = eval.p20;
    metrics_.mrr20 = eval.mrr20;
    test_samples_ = eval.samples;
    return eval.samples;
  }

  BadLines bad_lines() const override { return bad_lines_; }
  void AddToJson(nlohmann::ordered_json& summary) const override { metrics_.AddToJson(summary); }
  std::string SummaryLine() const override { return metrics_.Line(test_samples_); }
  const SessionMetrics& metrics() const { return metrics_; }

 private:
  SessionTaskOptions o_;
  JobOptions job_;
  data::SessionFile train_, test_;
  graph::ProgramDesc program_;
  std::vector<data::SessionSample> samples_;
  int64_t my_batches_ = 0, planned_ = 0, next_batch_ = 0, shuffles_ = 0, test_samples_ = 0;
  std::mt19937_64 rng_;
  std::span<const data::SessionSample> batch_;
  BadLines bad_lines_;
  SessionMetrics metrics_;
};

StatusOr<Job> ParseSessionJob(const Config& config) {
  COLONY_ASSIGN_OR_RETURN(SessionTrainOptions options, ParseSessionTrainOptions(config));
  return Job{options, std::make_unique<SessionTask>(options)};
}

const TaskRegistration kSessionModels(models::SessionModelNames(), ParseSessionJob);

// A session model read back from a checkpoint, on embedded tables.
struct LoadedSessionModel {
  SessionTaskOptions options;
  graph::ProgramDesc program;
  std::unique_ptr<Model> model;
  int64_t num_items = 0;
};

StatusOr<LoadedSessionModel> LoadSessionModel(const std::string& dir) {
  COLONY_ASSIGN_OR_RETURN(internal::CheckpointInfo info, internal::ReadCheckpoint(dir));
  COLONY_ASSIGN_OR_RETURN(Config config,
                          Config::Parse(info.config_text, info.path + "/config.yaml"));
  COLONY_ASSIGN_OR_RETURN(SessionTrainOptions options, ParseSessionTrainOptions(config));
  LoadedSessionModel loaded;
  COLONY_ASSIGN_OR_RETURN(loaded.num_items, NumItems(info.program));
  JobOptions local;  // Worker 0's last checkpoint holds the tables, servers or not.
  local.loop = options.loop;
  exec::SetUpCompute(options.loop.threads);
  COLONY_ASSIGN_OR_RETURN(
      loaded.model, internal::LoadModel(
                        info.path, info.program, {&info.program},
                        internal::MakeParameterSetOptions(local, SessionTask(options).parameters()),
                        options.loop.seed));
  loaded.options = options;
  loaded.program = std::move(info.program);
  return loaded;
}

}  // namespace

SessionTaskOptions::SessionTaskOptions() {
  optimizer.name = "adam";
  optimizer.learning_rate = 0.001f;
}

Status SessionTaskOptions::Validate() const {
  if (data.batch_size <= 0) {
    return InvalidArgumentError("data.batch_size must be > 0, got " +
                                std::to_string(data.batch_size));
  }
  if (data.max_length < 1) {
    return InvalidArgumentError("data.max_length must be >= 1, got " +
                                std::to_string(data.max_length));
  }
  if (model.num_items < 0) {
    return InvalidArgumentError("model.num_items must be >= 0 (0: from the data), got " +
                                std::to_string(model.num_items));
  }
  models::SessionModelOptions m = model;
  if (m.num_items == 0) m.num_items = 1;  // Filled from the data later.
  return m.Validate();
}

TaskTraits SessionTraits() {
  TaskTraits traits;
  traits.strategies = {Strategy::kLocal, Strategy::kAsync, Strategy::kSync};
  return traits;
}

SessionTrainOptions::SessionTrainOptions() { loop.epochs = 3; }

Status SessionTrainOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(JobOptions::Validate(SessionTraits()));
  return SessionTaskOptions::Validate();
}

bool IsSessionConfig(const Config& config) { return models::IsSessionModel(ModelName(config)); }

StatusOr<SessionTrainOptions> ParseSessionTrainOptions(const Config& config) {
  SessionTrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(ReadJobSections(config, SessionTraits(), &o));
  const ConfigSection model = root.Section("model");
  COLONY_RETURN_IF_ERROR(model.Read("name", &o.model.name));
  COLONY_RETURN_IF_ERROR(model.Read("num_items", &o.model.num_items));
  COLONY_RETURN_IF_ERROR(model.Read("embedding_dim", &o.model.embedding_dim));
  COLONY_RETURN_IF_ERROR(model.Read("steps", &o.model.steps));
  COLONY_RETURN_IF_ERROR(model.Read("position", &o.model.position));
  COLONY_RETURN_IF_ERROR(model.Read("max_position", &o.model.max_position));
  COLONY_RETURN_IF_ERROR(model.Read("combine", &o.model.combine));
  const ConfigSection data = root.Section("data");
  COLONY_RETURN_IF_ERROR(data.Read("dir", &o.data.dir));
  COLONY_RETURN_IF_ERROR(data.Read("train", &o.data.train));
  COLONY_RETURN_IF_ERROR(data.Read("test", &o.data.test));
  COLONY_RETURN_IF_ERROR(data.Read("batch_size", &o.data.batch_size));
  COLONY_RETURN_IF_ERROR(data.Read("max_length", &o.data.max_length));
  COLONY_RETURN_IF_ERROR(ReadOptimizer(root.Section("optimizer"), &o.optimizer));
  return FinishParse(config, std::move(o));
}

StatusOr<SessionTrainSummary> TrainSessions(const SessionTrainOptions& options) {
  return RunTask<SessionTrainSummary, SessionTask>(options);
}

void SessionMetrics::AddToJson(nlohmann::ordered_json& summary) const {
  summary["p20"] = p20;
  summary["mrr20"] = mrr20;
  summary["num_items"] = num_items;
}

std::string SessionMetrics::Line(int64_t test_samples) const {
  return fmt::format(" | test P@20 {:.4f} MRR@20 {:.4f} on {} samples | {} items", p20, mrr20,
                     test_samples, num_items);
}

std::string SessionSummaryLine(const SessionTrainSummary& s) {
  return s.RunSummary::Line(s.SessionMetrics::Line(s.test_samples));
}

std::string SessionSummaryJson(const SessionTrainSummary& s) {
  nlohmann::ordered_json json = s.ToJson();
  s.SessionMetrics::AddToJson(json);
  return SummaryText(std::move(json));
}

bool IsSessionCheckpoint(const std::string& dir) {
  StatusOr<internal::CheckpointInfo> info = internal::ReadCheckpoint(dir);
  if (!info.ok()) return false;
  StatusOr<Config> config = Config::Parse(info->config_text, "config.yaml");
  return config.ok() && IsSessionConfig(*config);
}

StatusOr<SessionEval> EvaluateSessions(const std::string& checkpoint_dir,
                                       const std::string& data_file) {
  COLONY_ASSIGN_OR_RETURN(LoadedSessionModel model, LoadSessionModel(checkpoint_dir));
  const std::string file =
      data_file.empty() ? JoinPath(model.options.data.dir, model.options.data.test) : data_file;
  COLONY_ASSIGN_OR_RETURN(data::SessionFile f, ReadData(file, "--data"));
  if (f.max_item > model.num_items) {
    return InvalidArgumentError(fmt::format("'{}' holds item id {} but the model knows items 1..{}",
                                            file, f.max_item, model.num_items));
  }
  COLONY_ASSIGN_OR_RETURN(SessionEval eval,
                          EvaluateOn(*model.model, model.program, model.options, f.sessions));
  eval.bad_lines = f.bad_lines;
  return eval;
}

StatusOr<std::vector<std::vector<int64_t>>> ParseSessionsText(const std::string& text,
                                                              const std::string& where) {
  std::vector<std::vector<int64_t>> sessions;
  std::string normalized = text;
  std::replace(normalized.begin(), normalized.end(), ';', '\n');
  std::istringstream lines(normalized);
  std::string line;
  while (std::getline(lines, line)) {
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream tokens(line);
    std::vector<int64_t> session;
    for (std::string token; tokens >> token;) {
      int64_t item = 0;
      size_t used = 0;
      try {
        item = std::stoll(token, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != token.size()) {
        return InvalidArgumentError(fmt::format("{}: session {}: item '{}' is not an integer id",
                                                where, sessions.size() + 1, token));
      }
      session.push_back(item);
    }
    if (session.empty()) {
      return InvalidArgumentError(
          fmt::format("{}: session {} is empty; give at least one clicked item id", where,
                      sessions.size() + 1));
    }
    sessions.push_back(std::move(session));
  }
  if (sessions.empty()) {
    return InvalidArgumentError(where + ": no session given; give at least one clicked item id");
  }
  return sessions;
}

StatusOr<std::vector<std::vector<std::pair<int64_t, float>>>> PredictSessions(
    const std::string& checkpoint_dir, const std::vector<std::vector<int64_t>>& sessions, int k) {
  if (k < 1) return InvalidArgumentError("k must be >= 1, got " + std::to_string(k));
  COLONY_ASSIGN_OR_RETURN(LoadedSessionModel model, LoadSessionModel(checkpoint_dir));
  std::vector<data::SessionSample> samples;
  for (size_t s = 0; s < sessions.size(); ++s) {
    if (sessions[s].empty()) {
      return InvalidArgumentError(
          fmt::format("session {} is empty; give at least one clicked item id", s + 1));
    }
    for (size_t i = 0; i < sessions[s].size(); ++i) {
      const int64_t item = sessions[s][i];
      if (item < 1 || item > model.num_items) {
        return InvalidArgumentError(
            fmt::format("session {}, click {}: item id {} is not an item of this model (ids "
                        "1..{})",
                        s + 1, i + 1, item, model.num_items));
      }
    }
    samples.push_back({static_cast<int32_t>(s), static_cast<int32_t>(sessions[s].size())});
  }
  at::NoGradGuard no_grad;
  exec::Scope scope;
  COLONY_ASSIGN_OR_RETURN(
      at::Tensor scores,
      Scores(*model.model, model.program, FeederOptions(model.options), sessions, samples, scope));
  const int64_t kk = std::min<int64_t>(k, model.num_items);
  auto [values, indices] = scores.topk(kk, 1);
  values = values.contiguous();
  indices = indices.contiguous();
  std::vector<std::vector<std::pair<int64_t, float>>> out(sessions.size());
  for (size_t s = 0; s < sessions.size(); ++s) {
    for (int64_t r = 0; r < kk; ++r) {
      out[s].emplace_back(indices[s][r].item<int64_t>(), values[s][r].item<float>());
    }
  }
  return out;
}

}  // namespace colony::train
