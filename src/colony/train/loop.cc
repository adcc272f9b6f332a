#include "colony/train/loop.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/base/logging.h"
#include "colony/exec/compute_threads.h"
#include "colony/exec/executor.h"
#include "colony/ps/remote_table.h"
#include "colony/train/internal/checkpoint.h"
#include "colony/train/internal/ctr_task.h"
#include "colony/train/internal/heter_trainer.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/loop_context.h"
#include "colony/train/internal/model.h"
#include "colony/train/internal/parameter_set.h"

namespace colony::train {

Model::Model() = default;
Model::~Model() = default;

void BadLines::Add(int64_t n, const std::vector<std::string>& lines) {
  count += n;
  for (const std::string& line : lines) {
    if (first.size() < 10) first.push_back(line);
  }
}

namespace internal {
namespace {

// The step runner of strategies local, async, sync and geo: pull, forward, backward, push.
// With ps.late_params candidate a step whose global parameters are late trains on the
// candidate model; with sync the workers meet at a barrier after each step.
class PsStepRunner {
 public:
  PsStepRunner(LoopContext& ctx, ps::WorkerBarrier* barrier) : ctx_(ctx), barrier_(barrier) {}

  Status Run() {
    const JobOptions& job = ctx_.job();
    Task& task = ctx_.task();
    CheckpointState& state = ctx_.state();
    while (state.epoch < job.loop.epochs) {
      COLONY_RETURN_IF_ERROR(task.StartEpoch(state.epoch));
      for (int64_t skipped = 0; skipped < state.batches_in_epoch; ++skipped) {
        // Replays the data position of a checkpoint.
        COLONY_ASSIGN_OR_RETURN(bool more, task.NextBatch());
        if (!more) break;
      }
      while (true) {
        if (ctx_.ShouldStop()) return OkStatus();
        COLONY_ASSIGN_OR_RETURN(bool more, task.NextBatch());
        if (!more) break;
        COLONY_RETURN_IF_ERROR(Step());
        if (ctx_.stopped()) return OkStatus();
      }
      COLONY_RETURN_IF_ERROR(ctx_.EndEpoch(state.epoch));
      ++state.epoch;
      state.batches_in_epoch = 0;
    }
    return OkStatus();
  }

 private:
  Status Step() {
    const JobOptions& job = ctx_.job();
    Task& task = ctx_.task();
    CheckpointState& state = ctx_.state();
    ParameterSet& parameters = *ctx_.model().parameters;
    scope_.Clear();
    COLONY_ASSIGN_OR_RETURN(Fed fed, task.Feed(scope_));
    const bool candidate = job.ps.late_params == "candidate";
    if (candidate) {
      // The global parameters after this worker's last push; waits for them as long as a
      // step takes, else this step trains on the candidate model.
      COLONY_RETURN_IF_ERROR(parameters.StartPull(fed.ids));
      const auto wait = job.ps.candidate_wait_ms > 0
                            ? std::chrono::microseconds(int64_t{job.ps.candidate_wait_ms} * 1000)
                            : std::chrono::microseconds(std::llround(step_micros_));
      COLONY_ASSIGN_OR_RETURN(bool on_candidate, parameters.AwaitGlobal(fed.ids, wait));
      if (on_candidate) ++ctx_.summary().runner.candidate_steps;
    }
    const Clock::time_point step_start = Clock::now();
    exec::Executor& executor = *ctx_.model().executors.at(fed.program);
    COLONY_RETURN_IF_ERROR(parameters.PullDense(scope_, /*training=*/true));
    COLONY_RETURN_IF_ERROR(parameters.PullSparse(fed.ids, scope_, /*training=*/true));
    COLONY_RETURN_IF_ERROR(executor.Forward(scope_, /*training=*/true, state.global_step));
    COLONY_RETURN_IF_ERROR(executor.Backward(scope_));
    COLONY_RETURN_IF_ERROR(parameters.PushGradients(fed.ids, scope_));
    if (candidate) {
      const double micros = SecondsSince(step_start) * 1e6;
      step_micros_ = step_micros_ == 0 ? micros : 0.8 * step_micros_ + 0.2 * micros;
    }
    if (job.strategy == Strategy::kSync) COLONY_RETURN_IF_ERROR(barrier_->Wait("step"));
    const graph::ProgramDesc& program = *task.step_programs().at(fed.program);
    COLONY_ASSIGN_OR_RETURN(at::Tensor loss, scope_.Get(program.loss()));
    const double step_loss = loss.item<double>();
    task.RecordStep(fed, scope_, step_loss);
    ++state.batches_in_epoch;
    return ctx_.CountStep(step_loss, fed.samples, state.epoch);
  }

  LoopContext& ctx_;
  ps::WorkerBarrier* barrier_;  // Null for one worker.
  exec::Scope scope_;
  double step_micros_ = 0;  // Candidate: moving average of a step's training time.
};

// Rewrites the checkpoint of `state` with the servers' current parameters in embedded tables
// (optimizer state fresh), so that eval and predict can read it without the servers.
// REQUIRES: the model has no sparse tables (they cannot be copied whole).
Status ExportFromServers(const JobOptions& job, const Task& task, Model& model,
                         const CheckpointState& state, RunSummary& summary) {
  exec::Scope scope;
  COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
  JobOptions local = job;
  local.ps.servers.clear();
  local.strategy = Strategy::kLocal;
  local.worker = {};
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<ParameterSet> copy,
      ParameterSet::Create(task.program(), MakeParameterSetOptions(local, task.parameters())));
  COLONY_RETURN_IF_ERROR(copy->AssignDense(scope));
  COLONY_ASSIGN_OR_RETURN(
      summary.checkpoint,
      WriteCheckpoint(job.checkpoint.dir, state, task.program(), job.config_text, *copy));
  COLONY_LOG_INFO("checkpoint {} written with the servers' parameters", summary.checkpoint);
  return OkStatus();
}

}  // namespace
}  // namespace internal

StatusOr<RunSummary> RunLoop(const JobOptions& options, Task& task) {
  COLONY_RETURN_IF_ERROR(options.Validate(task.traits()));
  const bool heter = options.strategy == Strategy::kHeter;
  internal::CtrTask* heter_task = dynamic_cast<internal::CtrTask*>(&task);
  if (heter && heter_task == nullptr) {
    return InvalidArgumentError("strategy 'heter' trains CTR models only");
  }
  // Each worker of a job keeps its own data position: under <dir>/worker-<rank>.
  JobOptions job = options;
  if (job.worker.count > 1) {
    const std::string sub = "/worker-" + std::to_string(job.worker.rank);
    if (!job.checkpoint.dir.empty()) job.checkpoint.dir += sub;
    if (!job.resume_dir.empty()) job.resume_dir += sub;
  }
  RunSummary summary;
  const exec::ComputeSetup compute =
      exec::SetUpCompute(job.loop.threads, heter ? job.heter.compute_threads : 1);
  summary.torch_threads = compute.torch_threads;
  COLONY_LOG_INFO("compute: {} LibTorch threads; BLAS {} with {} threads", compute.torch_threads,
                  compute.blas, compute.blas_threads);

  COLONY_RETURN_IF_ERROR(task.Prepare(job));
  const internal::ParameterSetOptions parameter_options =
      internal::MakeParameterSetOptions(job, task.parameters());
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<Model> model,
      internal::MakeModel(task.program(), task.step_programs(), parameter_options, job.loop.seed));

  // Workers of a job meet at barriers on the first server: at the start (after the first
  // one initialized the dense tables), after each sync step, and at the end.
  std::unique_ptr<ps::WorkerBarrier> barrier;
  if (job.strategy != Strategy::kLocal && !job.ps.servers.empty()) {
    COLONY_ASSIGN_OR_RETURN(
        barrier, ps::WorkerBarrier::Connect(internal::MakeRemoteOptions(job), job.worker.count,
                                            job.ps.barrier_timeout_ms));
    COLONY_RETURN_IF_ERROR(barrier->Wait("start"));
    COLONY_LOG_INFO("worker {} of {}: {} training of {} on {} parameter servers", job.worker.rank,
                    job.worker.count, StrategyName(job.strategy), task.model_name(),
                    job.ps.servers.size());
  }

  internal::CheckpointState state;
  if (!job.resume_dir.empty()) {
    COLONY_ASSIGN_OR_RETURN(
        state, internal::ResumeFrom(job.resume_dir, task.program(), *model->parameters));
  }
  if (!job.checkpoint.dir.empty()) COLONY_RETURN_IF_ERROR(MakeDirs(job.checkpoint.dir));

  internal::LoopContext ctx(job, task, *model, state, summary);
  const internal::Clock::time_point start = internal::Clock::now();
  if (heter) {
    COLONY_RETURN_IF_ERROR(internal::RunHeter(ctx, *heter_task));
  } else {
    COLONY_RETURN_IF_ERROR(internal::PsStepRunner(ctx, barrier.get()).Run());
  }
  summary.seconds = internal::SecondsSince(start);
  summary.global_step = state.global_step;
  summary.samples_per_sec = summary.samples / std::max(summary.seconds, 1e-9);
  summary.train_loss = summary.steps > 0 ? ctx.loss_sum() / summary.steps : 0;
  summary.sparse_rows = model->parameters->sparse_rows();
  summary.ssd_rows = model->parameters->sparse_ssd_rows();
  const int64_t every = job.checkpoint.every_steps;
  if (!(every > 0 && summary.steps > 0 && state.global_step % every == 0)) {
    COLONY_RETURN_IF_ERROR(ctx.WriteCheckpoint());  // Unless the last step just wrote it.
  }
  if (ctx.interrupted()) {
    return CancelledError(
        fmt::format("interrupted at step {}; {}", state.global_step,
                    job.checkpoint.dir.empty()
                        ? std::string("no checkpoint.dir was set, so the progress is lost")
                        : "checkpoint " + summary.checkpoint + " written; continue with --resume " +
                              options.checkpoint.dir));
  }

  COLONY_RETURN_IF_ERROR(model->parameters->Flush());  // Geo: the last local steps.
  if (barrier != nullptr) COLONY_RETURN_IF_ERROR(barrier->Wait("end"));
  // On servers, worker 0's last checkpoint of a model without sparse tables also gets a copy
  // of the trained parameters.
  const bool first = job.worker.rank == 0;
  if (!job.ps.servers.empty() && first && !job.checkpoint.dir.empty() &&
      model->parameters->sparse_tables().empty()) {
    COLONY_RETURN_IF_ERROR(internal::ExportFromServers(job, task, *model, state, summary));
  }
  // In a job of several workers the first one tests the model all of them trained.
  if (first) {
    COLONY_ASSIGN_OR_RETURN(summary.test_samples, task.Evaluate(*model));
  }
  const BadLines bad = task.bad_lines();
  summary.bad_lines = bad.count;
  summary.first_bad_lines = bad.first;
  return summary;
}

nlohmann::ordered_json RunSummary::ToJson() const {
  nlohmann::ordered_json json = {{"samples_per_sec", samples_per_sec},
                                 {"train_loss", train_loss},
                                 {"test_samples", test_samples},
                                 {"bad_lines", bad_lines},
                                 {"first_bad_lines", first_bad_lines},
                                 {"steps", steps},
                                 {"global_step", global_step},
                                 {"samples", samples},
                                 {"seconds", seconds},
                                 {"torch_threads", torch_threads},
                                 {"sparse_rows", sparse_rows},
                                 {"ssd_rows", ssd_rows},
                                 {"checkpoint", checkpoint},
                                 {"candidate_steps", runner.candidate_steps},
                                 {"reached_target_loss", reached_target_loss}};
  internal::AddHeterJson(runner, json);
  return json;
}

std::string RunSummary::Line(std::string_view task_part) const {
  std::string line = fmt::format(
      "summary: {} steps, {} samples in {:.1f}s ({:.0f} samples/s) | train loss {:.4f} | bad "
      "lines {}",
      steps, samples, seconds, samples_per_sec, train_loss, bad_lines);
  for (size_t i = 0; i < first_bad_lines.size() && i < 3; ++i) {
    line += (i == 0 ? " (first: " : "; ") + first_bad_lines[i];
  }
  if (!first_bad_lines.empty()) line += ")";
  line += task_part;
  if (runner.candidate_steps > 0) {
    line += fmt::format(" | {} steps on a candidate model", runner.candidate_steps);
  }
  if (reached_target_loss) line += " | stopped at train.target_loss";
  return line;
}

std::string SummaryLine(const RunSummary& summary, const Task& task) {
  return summary.Line(task.SummaryLine());
}

namespace {

// The summary convention of colony/base/json_util.h: nlohmann writes a NaN or infinity as
// null, and each object holding such a metric lists its key under "non_finite".
void ListNonFinite(nlohmann::ordered_json& value) {
  if (value.is_array()) {
    for (nlohmann::ordered_json& item : value) ListNonFinite(item);
    return;
  }
  if (!value.is_object()) return;
  std::vector<std::string> keys;
  for (auto& [key, member] : value.items()) {
    if (member.is_number_float() && !std::isfinite(member.get<double>())) keys.push_back(key);
    ListNonFinite(member);
  }
  if (!keys.empty()) value[kNonFiniteKey] = keys;
}

}  // namespace

std::string SummaryText(nlohmann::ordered_json summary) {
  ListNonFinite(summary);
  return summary.dump() + "\n";
}

std::string SummaryJson(const RunSummary& summary, const Task& task) {
  nlohmann::ordered_json json = summary.ToJson();
  task.AddToJson(json);
  return SummaryText(std::move(json));
}

}  // namespace colony::train
