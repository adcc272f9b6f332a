#include "colony/train/session_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
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
#include "colony/train/internal/parameter_set.h"
#include "colony/train/internal/remote_options.h"
#include "colony/train/internal/session_feeder.h"

namespace colony::train {
namespace {

using internal::Clock;
using internal::JoinPath;
using internal::ParameterSet;
using internal::SecondsSince;

internal::SessionFeederOptions FeederOptions(const SessionTrainOptions& o) {
  return {.max_length = o.data.max_length,
          .position = o.model.position,
          .max_position = o.model.max_position};
}

// A session model ready to run: program, executor and parameters.
struct SessionModel {
  graph::ProgramDesc program;
  std::unique_ptr<exec::Executor> executor;
  std::unique_ptr<ParameterSet> parameters;
  int64_t num_items = 0;
};

StatusOr<std::unique_ptr<SessionModel>> MakeSessionModel(graph::ProgramDesc program,
                                                         const SessionTrainOptions& o) {
  auto m = std::make_unique<SessionModel>();
  if (program.fetches_size() != 1 || program.loss().empty()) {
    return InvalidArgumentError("a session program needs one fetch (the scores) and a loss");
  }
  const graph::VarDesc* items = graph::FindVar(program, 0, models::kItemEmbedding);
  if (items == nullptr || items->shape_size() != 2) {
    return InvalidArgumentError(std::string("a session program needs the parameter ") +
                                models::kItemEmbedding + " [num_items + 1, dim]");
  }
  m->num_items = items->shape(0) - 1;
  COLONY_ASSIGN_OR_RETURN(m->executor, exec::Executor::Create(program, {.seed = o.loop.seed}));
  ps::SparseTableOptions unused_sparse;  // Session programs have dense parameters only.
  ps::RemoteTableOptions remote;
  if (!o.ps.servers.empty()) {
    remote = internal::MakeRemoteOptions(o.ps, o.strategy, o.worker.count);
  }
  COLONY_ASSIGN_OR_RETURN(
      m->parameters,
      ParameterSet::Create(program, unused_sparse, o.optimizer, o.loop.seed, remote,
                           /*geo_steps=*/0, /*candidate_max_stale=*/0, {models::kItemEmbedding}));
  m->program = std::move(program);
  return m;
}

// Scores of the samples' next items, [B, num_items + 1], column 0 (padding) at -inf.
StatusOr<at::Tensor> Scores(SessionModel& m, const SessionTrainOptions& o,
                            const std::vector<data::Session>& sessions,
                            std::span<const data::SessionSample> samples, exec::Scope& scope) {
  scope.Clear();
  internal::FeedSessions(sessions, samples, FeederOptions(o), scope);
  COLONY_RETURN_IF_ERROR(m.parameters->PullDense(scope, /*training=*/false));
  COLONY_RETURN_IF_ERROR(m.executor->Forward(scope, /*training=*/false, /*step=*/0));
  COLONY_ASSIGN_OR_RETURN(at::Tensor scores, scope.Get(m.program.fetches(0)));
  scores = scores.detach().clone();
  scores.select(1, 0).fill_(-std::numeric_limits<float>::infinity());
  return scores;
}

StatusOr<SessionEval> EvaluateOn(SessionModel& m, const SessionTrainOptions& o,
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
    COLONY_ASSIGN_OR_RETURN(at::Tensor scores, Scores(m, o, sessions, part, scope));
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

// Rewrites the checkpoint of `state` with the servers' current parameters in embedded
// tables (optimizer state fresh).
Status ExportFromServers(SessionModel& m, const SessionTrainOptions& o,
                         const internal::CheckpointState& state, SessionTrainSummary& summary) {
  exec::Scope scope;
  COLONY_RETURN_IF_ERROR(m.parameters->PullDense(scope, /*training=*/false));
  SessionTrainOptions local = o;
  local.ps.servers.clear();
  local.strategy = "local";
  local.worker = {};
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<SessionModel> copy, MakeSessionModel(m.program, local));
  COLONY_RETURN_IF_ERROR(copy->parameters->AssignDense(scope));
  COLONY_ASSIGN_OR_RETURN(summary.checkpoint,
                          internal::WriteCheckpoint(o.checkpoint.dir, state, m.program,
                                                    o.config_text, *copy->parameters));
  COLONY_LOG_INFO("checkpoint {} written with the servers' parameters", summary.checkpoint);
  return OkStatus();
}

StatusOr<data::SessionFile> ReadData(const std::string& path, const std::string& key) {
  if (!PathExists(path)) {
    return NotFoundError("session file '" + path + "' does not exist (data.dir and " + key +
                         "); generate data with `colony gen sessions --out DIR` or convert a "
                         "click log with `colony prep sessions`");
  }
  return data::ReadSessionFile(path);
}

void AddBadLines(const data::SessionFile& f, SessionTrainSummary& s) {
  s.bad_lines += f.bad_lines;
  for (const std::string& line : f.first_bad_lines) {
    if (s.first_bad_lines.size() < 10) s.first_bad_lines.push_back(line);
  }
}

}  // namespace

SessionTrainOptions::SessionTrainOptions() {
  optimizer.name = "adam";
  optimizer.learning_rate = 0.001f;
  loop.epochs = 3;
}

Status SessionTrainOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(ValidateJobPlacement(strategy, {"local", "async", "sync"}, ps, worker));
  if (checkpoint.every_steps < 0) {
    return InvalidArgumentError("checkpoint.every_steps must be >= 0, got " +
                                std::to_string(checkpoint.every_steps));
  }
  if (checkpoint.every_steps > 0 && checkpoint.dir.empty()) {
    return InvalidArgumentError("checkpoint.every_steps is set but checkpoint.dir is empty");
  }
  if (data.batch_size <= 0) {
    return InvalidArgumentError("data.batch_size must be > 0, got " +
                                std::to_string(data.batch_size));
  }
  if (data.max_length < 1) {
    return InvalidArgumentError("data.max_length must be >= 1, got " +
                                std::to_string(data.max_length));
  }
  COLONY_RETURN_IF_ERROR(ValidateLoop(loop));
  if (model.num_items < 0) {
    return InvalidArgumentError("model.num_items must be >= 0 (0: from the data), got " +
                                std::to_string(model.num_items));
  }
  models::SessionModelOptions m = model;
  if (m.num_items == 0) m.num_items = 1;  // Filled from the data later.
  return m.Validate();
}

bool IsSessionConfig(const Config& config) { return models::IsSessionModel(ModelName(config)); }

StatusOr<SessionTrainOptions> ParseSessionTrainOptions(const Config& config) {
  SessionTrainOptions o;
  const ConfigSection root = config.Root();
  COLONY_RETURN_IF_ERROR(root.Read("strategy", &o.strategy));
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
  COLONY_RETURN_IF_ERROR(ReadLoop(root.Section("train"), &o.loop));
  const ConfigSection checkpoint = root.Section("checkpoint");
  COLONY_RETURN_IF_ERROR(checkpoint.Read("dir", &o.checkpoint.dir));
  COLONY_RETURN_IF_ERROR(checkpoint.Read("every_steps", &o.checkpoint.every_steps));
  COLONY_RETURN_IF_ERROR(ReadPsConnection(root.Section("ps"), &o.ps));
  std::string dependencies;
  COLONY_RETURN_IF_ERROR(ReadJobSection(root.Section("job"), &dependencies));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  Status valid = o.Validate();
  if (!valid.ok()) return valid.WithContext(config.source());
  o.config_text = config.ToYaml();
  return o;
}

StatusOr<SessionTrainSummary> TrainSessions(const SessionTrainOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  // Each worker of a job keeps its own data position: under <dir>/worker-<rank>.
  SessionTrainOptions o = options;
  const int rank = o.worker.rank, workers = o.worker.count;
  if (workers > 1) {
    const std::string sub = "/worker-" + std::to_string(rank);
    if (!o.checkpoint.dir.empty()) o.checkpoint.dir += sub;
    if (!o.resume_dir.empty()) o.resume_dir += sub;
  }
  SessionTrainSummary summary;
  const exec::ComputeSetup compute = exec::SetUpCompute(o.loop.threads);
  summary.torch_threads = compute.torch_threads;

  COLONY_ASSIGN_OR_RETURN(data::SessionFile train,
                          ReadData(JoinPath(o.data.dir, o.data.train), "data.train"));
  AddBadLines(train, summary);
  data::SessionFile test;
  if (!o.data.test.empty()) {
    COLONY_ASSIGN_OR_RETURN(test, ReadData(JoinPath(o.data.dir, o.data.test), "data.test"));
    AddBadLines(test, summary);
  }
  if (train.sessions.empty()) {
    return InvalidArgumentError("training file '" + JoinPath(o.data.dir, o.data.train) +
                                "' holds no session of two or more valid items");
  }
  models::SessionModelOptions model_options = o.model;
  const int64_t max_item = std::max(train.max_item, test.max_item);
  if (model_options.num_items == 0) {
    model_options.num_items = max_item;
  } else if (max_item > model_options.num_items) {
    return InvalidArgumentError(fmt::format(
        "the data holds item id {} but model.num_items is {}; raise it or leave it 0 (from the "
        "data)",
        max_item, model_options.num_items));
  }
  summary.num_items = model_options.num_items;
  COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, models::BuildSessionModel(model_options));
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<SessionModel> model,
                          MakeSessionModel(std::move(program), o));

  // Workers meet at barriers on the first server: at the start (after the first one
  // initialized the dense tables), after each sync step, and at the end.
  std::unique_ptr<ps::WorkerBarrier> barrier;
  if (o.strategy != "local") {
    COLONY_ASSIGN_OR_RETURN(
        barrier, ps::WorkerBarrier::Connect(internal::MakeRemoteOptions(o.ps, o.strategy, workers),
                                            workers, o.ps.barrier_timeout_ms));
    COLONY_RETURN_IF_ERROR(barrier->Wait("start"));
    COLONY_LOG_INFO("worker {} of {}: {} training of {} on {} parameter servers", rank, workers,
                    o.strategy, o.model.name, o.ps.servers.size());
  }
  const bool sync = o.strategy == "sync";

  internal::CheckpointState state;
  if (!o.resume_dir.empty()) {
    COLONY_ASSIGN_OR_RETURN(state,
                            internal::ResumeFrom(o.resume_dir, model->program, *model->parameters));
  }

  std::vector<data::SessionSample> samples = data::PrefixSamples(train.sessions);
  const int64_t per_epoch = static_cast<int64_t>(samples.size());
  const int64_t batches = (per_epoch + o.data.batch_size - 1) / o.data.batch_size;
  // This worker's batches of an epoch: r, r + M, ...; sync: whole rounds of M only.
  const int64_t my_batches = sync ? batches / workers : (batches - rank + workers - 1) / workers;
  int64_t total = my_batches * o.data.batch_size * o.loop.epochs;
  if (o.loop.max_steps > 0) total = std::min<int64_t>(total, o.loop.max_steps * o.data.batch_size);
  total = std::max<int64_t>(1, total - state.samples);
  COLONY_LOG_INFO(
      "{}: {} items, {} train sessions ({} samples, {} batches of which {} are this worker's), "
      "{} test sessions; {} LibTorch threads",
      o.model.name, summary.num_items, train.sessions.size(), per_epoch, batches, my_batches,
      test.sessions.size(), compute.torch_threads);

  // The same shuffles on every worker and after a resume: epoch e's order is the e-th
  // shuffle of one generator seeded with train.seed.
  std::mt19937_64 rng(o.loop.seed);
  for (int64_t e = 0; e < state.epoch && e < o.loop.epochs; ++e) {
    std::shuffle(samples.begin(), samples.end(), rng);
  }
  auto checkpoint = [&]() -> Status {
    COLONY_RETURN_IF_ERROR(MakeDirs(o.checkpoint.dir));
    COLONY_ASSIGN_OR_RETURN(summary.checkpoint,
                            internal::WriteCheckpoint(o.checkpoint.dir, state, model->program,
                                                      o.config_text, *model->parameters));
    COLONY_LOG_INFO("checkpoint {} written", summary.checkpoint);
    return OkStatus();
  };
  exec::Scope scope;
  const Clock::time_point start = Clock::now();
  Clock::time_point last_log = start;
  double loss_sum = 0;
  bool stop = false, interrupted = false;
  for (; state.epoch < o.loop.epochs && !stop; ++state.epoch, state.batches_in_epoch = 0) {
    std::shuffle(samples.begin(), samples.end(), rng);
    for (; state.batches_in_epoch < my_batches; ++state.batches_in_epoch) {
      if (o.loop.max_steps > 0 && state.global_step >= o.loop.max_steps) {
        stop = true;
        break;
      }
      if (o.stop_requested != nullptr && o.stop_requested->load()) {
        stop = interrupted = true;
        break;
      }
      const int64_t begin = (state.batches_in_epoch * workers + rank) * o.data.batch_size;
      const int64_t end = std::min<int64_t>(per_epoch, begin + o.data.batch_size);
      const std::span<const data::SessionSample> batch(samples.data() + begin, end - begin);
      scope.Clear();
      internal::FeedSessions(train.sessions, batch, FeederOptions(o), scope);
      COLONY_RETURN_IF_ERROR(model->parameters->PullDense(scope, /*training=*/true));
      COLONY_RETURN_IF_ERROR(model->executor->Forward(scope, true, state.global_step));
      COLONY_RETURN_IF_ERROR(model->executor->Backward(scope));
      COLONY_RETURN_IF_ERROR(model->parameters->PushGradients({}, scope));
      if (sync) COLONY_RETURN_IF_ERROR(barrier->Wait("step"));
      COLONY_ASSIGN_OR_RETURN(at::Tensor loss, scope.Get(model->program.loss()));
      const double step_loss = loss.item<double>();
      if (!std::isfinite(step_loss)) {
        return InvalidArgumentError(
            fmt::format("loss became {} at step {}; lower "
                        "optimizer.learning_rate",
                        step_loss, state.global_step));
      }
      loss_sum += step_loss;
      ++summary.steps;
      ++state.global_step;
      summary.samples += static_cast<int64_t>(batch.size());
      state.samples += static_cast<int64_t>(batch.size());
      if (SecondsSince(last_log) >= o.loop.log_every_seconds) {
        last_log = Clock::now();
        const double rate = summary.samples / std::max(SecondsSince(start), 1e-9);
        COLONY_LOG_INFO(
            "train epoch {} step {} | {} samples ({:.0f}%) | {:.0f} samples/s | loss {:.4f} | "
            "eta {:.0f}s",
            state.epoch + 1, state.global_step, summary.samples, 100.0 * summary.samples / total,
            rate, loss_sum / summary.steps, std::max(0.0, (total - summary.samples) / rate));
      }
      if (o.checkpoint.every_steps > 0 && state.global_step % o.checkpoint.every_steps == 0) {
        ++state.batches_in_epoch;  // The position after this step.
        const Status written = checkpoint();
        --state.batches_in_epoch;
        COLONY_RETURN_IF_ERROR(written);
      }
    }
    if (stop) break;
  }
  summary.seconds = SecondsSince(start);
  summary.global_step = state.global_step;
  summary.samples_per_sec = summary.samples / std::max(summary.seconds, 1e-9);
  summary.train_loss = summary.steps > 0 ? loss_sum / summary.steps : 0;
  if (!o.checkpoint.dir.empty() && !(o.checkpoint.every_steps > 0 && summary.steps > 0 &&
                                     state.global_step % o.checkpoint.every_steps == 0)) {
    COLONY_RETURN_IF_ERROR(checkpoint());
  }
  if (interrupted) {
    return CancelledError(
        fmt::format("interrupted at step {}; {}", state.global_step,
                    o.checkpoint.dir.empty()
                        ? std::string("no checkpoint.dir was set, so the progress is lost")
                        : "checkpoint " + summary.checkpoint + " written; continue with --resume " +
                              options.checkpoint.dir));
  }
  if (barrier != nullptr) COLONY_RETURN_IF_ERROR(barrier->Wait("end"));
  // On servers, worker 0's last checkpoint also gets a copy of the trained parameters, so
  // that eval and predict can read it without the servers.
  if (!o.ps.servers.empty() && rank == 0 && !o.checkpoint.dir.empty()) {
    COLONY_RETURN_IF_ERROR(ExportFromServers(*model, o, state, summary));
  }
  // In a job of several workers the first one tests the model all of them trained.
  if (!test.sessions.empty() && rank == 0) {
    COLONY_ASSIGN_OR_RETURN(SessionEval eval, EvaluateOn(*model, o, test.sessions));
    summary.p20 = eval.p20;
    summary.mrr20 = eval.mrr20;
    summary.test_samples = eval.samples;
  }
  return summary;
}

std::string SessionSummaryLine(const SessionTrainSummary& s) {
  std::string line = fmt::format(
      "summary: {} steps, {} samples in {:.1f}s ({:.0f} samples/s) | train loss {:.4f} | test "
      "P@20 {:.4f} MRR@20 {:.4f} on {} samples | {} items | bad lines {}",
      s.steps, s.samples, s.seconds, s.samples_per_sec, s.train_loss, s.p20, s.mrr20,
      s.test_samples, s.num_items, s.bad_lines);
  if (!s.first_bad_lines.empty()) line += " (first: " + s.first_bad_lines[0] + ")";
  return line;
}

std::string SessionSummaryJson(const SessionTrainSummary& s) {
  return fmt::format(
      "{{\"p20\": {:.6f}, \"mrr20\": {:.6f}, \"test_samples\": {}, \"samples_per_sec\": {:.3f}, "
      "\"train_loss\": {:.6f}, \"steps\": {}, \"global_step\": {}, \"samples\": {}, "
      "\"seconds\": {:.3f}, \"num_items\": {}, \"bad_lines\": {}, \"torch_threads\": {}}}\n",
      s.p20, s.mrr20, s.test_samples, s.samples_per_sec, s.train_loss, s.steps, s.global_step,
      s.samples, s.seconds, s.num_items, s.bad_lines, s.torch_threads);
}

namespace {

StatusOr<std::pair<std::unique_ptr<SessionModel>, SessionTrainOptions>> LoadSessionModel(
    const std::string& dir) {
  COLONY_ASSIGN_OR_RETURN(internal::CheckpointInfo info, internal::ReadCheckpoint(dir));
  COLONY_ASSIGN_OR_RETURN(Config config,
                          Config::Parse(info.config_text, info.path + "/config.yaml"));
  COLONY_ASSIGN_OR_RETURN(SessionTrainOptions options, ParseSessionTrainOptions(config));
  // A worker's checkpoint of a job on servers holds no tables; worker 0's last one holds a
  // copy of the trained parameters in embedded tables.
  if (!PathExists(info.path + "/dense")) {
    return FailedPreconditionError(
        "checkpoint '" + info.path +
        "' was written by a worker of a job on parameter servers, whose tables are the "
        "servers' (colony launch --checkpoint-dir); eval and predict read worker 0's last "
        "checkpoint, which holds a copy of the trained parameters");
  }
  options.ps.servers.clear();
  options.strategy = "local";
  options.worker = {};
  exec::SetUpCompute(options.loop.threads);
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<SessionModel> model,
                          MakeSessionModel(info.program, options));
  COLONY_RETURN_IF_ERROR(model->parameters->Load(info.path));
  return std::make_pair(std::move(model), std::move(options));
}

}  // namespace

bool IsSessionCheckpoint(const std::string& dir) {
  StatusOr<internal::CheckpointInfo> info = internal::ReadCheckpoint(dir);
  if (!info.ok()) return false;
  StatusOr<Config> config = Config::Parse(info->config_text, "config.yaml");
  return config.ok() && IsSessionConfig(*config);
}

StatusOr<SessionEval> EvaluateSessions(const std::string& checkpoint_dir,
                                       const std::string& data_file) {
  COLONY_ASSIGN_OR_RETURN(auto loaded, LoadSessionModel(checkpoint_dir));
  auto& [model, options] = loaded;
  const std::string file =
      data_file.empty() ? JoinPath(options.data.dir, options.data.test) : data_file;
  COLONY_ASSIGN_OR_RETURN(data::SessionFile f, ReadData(file, "--data"));
  if (f.max_item > model->num_items) {
    return InvalidArgumentError(
        fmt::format("'{}' holds item id {} but the model knows items "
                    "1..{}",
                    file, f.max_item, model->num_items));
  }
  COLONY_ASSIGN_OR_RETURN(SessionEval eval, EvaluateOn(*model, options, f.sessions));
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
  COLONY_ASSIGN_OR_RETURN(auto loaded, LoadSessionModel(checkpoint_dir));
  auto& [model, options] = loaded;
  std::vector<data::SessionSample> samples;
  for (size_t s = 0; s < sessions.size(); ++s) {
    if (sessions[s].empty()) {
      return InvalidArgumentError(
          fmt::format("session {} is empty; give at least one clicked item id", s + 1));
    }
    for (size_t i = 0; i < sessions[s].size(); ++i) {
      const int64_t item = sessions[s][i];
      if (item < 1 || item > model->num_items) {
        return InvalidArgumentError(
            fmt::format("session {}, click {}: item id {} is not an item of this model (ids "
                        "1..{})",
                        s + 1, i + 1, item, model->num_items));
      }
    }
    samples.push_back({static_cast<int32_t>(s), static_cast<int32_t>(sessions[s].size())});
  }
  at::NoGradGuard no_grad;
  exec::Scope scope;
  COLONY_ASSIGN_OR_RETURN(at::Tensor scores, Scores(*model, options, sessions, samples, scope));
  const int64_t kk = std::min<int64_t>(k, model->num_items);
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
