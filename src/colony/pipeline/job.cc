#include "colony/pipeline/job.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "colony/base/json_util.h"

#include "colony/pipeline/mlp_batch.h"

namespace colony::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Times one TrainStep; returns its wall seconds.
StatusOr<double> TimedStep(PipelineRunner& runner, const std::map<std::string, at::Tensor>& batch,
                           StepResult* result) {
  const auto t0 = Clock::now();
  COLONY_ASSIGN_OR_RETURN(*result, runner.TrainStep(batch));
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

Status PipelineJobOptions::Validate() const {
  COLONY_RETURN_IF_ERROR(model.Validate());
  COLONY_RETURN_IF_ERROR(pipeline.Validate());
  if (stages < 0 || stages > model.layers) {
    return InvalidArgumentError("pipeline.stages must be in [0, model.layers = " +
                                std::to_string(model.layers) + "], got " + std::to_string(stages));
  }
  if (stages > 1 && !pipeline.cut_vars.empty()) {
    return InvalidArgumentError("set pipeline.stages or pipeline.cut_vars, not both");
  }
  if (batch_size < pipeline.micro_batches) {
    return InvalidArgumentError("train.batch_size must be >= pipeline.micro_batches (" +
                                std::to_string(pipeline.micro_batches) + "), got " +
                                std::to_string(batch_size));
  }
  if (steps < 2) {
    return InvalidArgumentError("train.steps must be >= 2 (the first is warm-up), got " +
                                std::to_string(steps));
  }
  if (log_every < 1) {
    return InvalidArgumentError("train.log_every must be >= 1, got " + std::to_string(log_every));
  }
  return OkStatus();
}

StatusOr<PipelineJobOptions> ParsePipelineJob(const Config& config) {
  PipelineJobOptions o;
  const ConfigSection model = config.Root().Section("model");
  COLONY_RETURN_IF_ERROR(model.Read("input_dim", &o.model.input_dim));
  COLONY_RETURN_IF_ERROR(model.Read("width", &o.model.width));
  COLONY_RETURN_IF_ERROR(model.Read("layers", &o.model.layers));
  COLONY_RETURN_IF_ERROR(model.Read("skip", &o.model.skip));
  const ConfigSection pipe = config.Root().Section("pipeline");
  COLONY_RETURN_IF_ERROR(pipe.Read("stages", &o.stages));
  COLONY_RETURN_IF_ERROR(pipe.Read("cut_vars", &o.pipeline.cut_vars));
  COLONY_RETURN_IF_ERROR(pipe.Read("micro_batches", &o.pipeline.micro_batches));
  COLONY_RETURN_IF_ERROR(pipe.Read("schedule", &o.pipeline.schedule));
  COLONY_RETURN_IF_ERROR(pipe.Read("threads_per_stage", &o.pipeline.threads_per_stage));
  COLONY_RETURN_IF_ERROR(
      pipe.Read("emulated_device_us_per_row", &o.pipeline.emulated_device_us_per_row));
  const ConfigSection train = config.Root().Section("train");
  COLONY_RETURN_IF_ERROR(train.Read("batch_size", &o.batch_size));
  COLONY_RETURN_IF_ERROR(train.Read("steps", &o.steps));
  COLONY_RETURN_IF_ERROR(train.Read("log_every", &o.log_every));
  COLONY_RETURN_IF_ERROR(train.Read("compare", &o.compare));
  COLONY_RETURN_IF_ERROR(train.Read("optimizer", &o.pipeline.optimizer));
  COLONY_RETURN_IF_ERROR(train.Read("learning_rate", &o.pipeline.learning_rate));
  COLONY_RETURN_IF_ERROR(train.Read("seed", &o.pipeline.seed));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  Status s = o.Validate();
  if (!s.ok()) return InvalidArgumentError(std::string(s.message()) + " (" + config.source() + ")");
  return o;
}

StatusOr<PipelineJobSummary> RunPipelineJob(const PipelineJobOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(models::MlpModel model, models::BuildMlpModel(options.model));
  PipelineOptions po = options.pipeline;
  if (po.cut_vars.empty() && options.stages > 1) {
    for (int s = 1; s < options.stages; ++s) {
      po.cut_vars.push_back(model.layer_outputs[s * options.model.layers / options.stages - 1]);
    }
  }
  COLONY_ASSIGN_OR_RETURN(auto runner, PipelineRunner::Create(model.program, po));
  std::unique_ptr<PipelineRunner> baseline;
  if (options.compare) {
    PipelineOptions bo = po;
    bo.cut_vars.clear();
    bo.micro_batches = 1;
    // One stage holds every section, so its emulated device does all stages' work.
    bo.emulated_device_us_per_row *= static_cast<double>(po.cut_vars.size() + 1);
    COLONY_ASSIGN_OR_RETURN(baseline, PipelineRunner::Create(model.program, bo));
  }

  PipelineJobSummary sum;
  sum.stages = static_cast<int>(runner->sections().size());
  sum.micro_batches = po.micro_batches;
  sum.schedule = po.schedule;
  sum.cut_vars = po.cut_vars;
  sum.steps = options.steps;
  sum.bubble_theory = static_cast<double>(sum.stages - 1) / (po.micro_batches + sum.stages - 1);
  sum.stage_busy_seconds.assign(sum.stages, 0);
  sum.stage_idle_seconds.assign(sum.stages, 0);
  std::vector<double> bubbles;
  double seconds = 0, baseline_seconds = 0;
  for (int step = 0; step < options.steps; ++step) {
    const auto batch =
        MakeMlpBatch(options.model, options.batch_size, po.seed * 1000003 + 17 + step);
    StepResult r;
    COLONY_ASSIGN_OR_RETURN(double t, TimedStep(*runner, batch, &r));
    sum.final_loss = r.loss;
    sum.schedule_bubble_fraction = r.schedule_bubble_fraction;
    sum.samples += options.batch_size;
    sum.seconds += t;
    if (step > 0) {
      seconds += t;
      bubbles.push_back(r.bubble_fraction);
      for (int s = 0; s < sum.stages; ++s) {
        sum.stage_busy_seconds[s] += r.stages[s].busy_seconds;
        sum.stage_idle_seconds[s] += r.stages[s].idle_seconds;
      }
    }
    if (baseline) {
      StepResult b;
      COLONY_ASSIGN_OR_RETURN(double bt, TimedStep(*baseline, batch, &b));
      sum.baseline_final_loss = b.loss;
      if (step > 0) baseline_seconds += bt;
    }
    if ((step + 1) % options.log_every == 0 || step + 1 == options.steps) {
      std::fprintf(stderr, "pipeline step %d/%d loss %.5f bubble %.3f (theory %.3f)\n", step + 1,
                   options.steps, r.loss, r.bubble_fraction, sum.bubble_theory);
    }
  }
  const double samples = static_cast<double>(options.steps - 1) * options.batch_size;
  sum.samples_per_sec = seconds > 0 ? samples / seconds : 0;
  sum.bubble_fraction = Median(bubbles);
  if (baseline) {
    sum.baseline_samples_per_sec = baseline_seconds > 0 ? samples / baseline_seconds : 0;
    const auto want = baseline->Parameters();
    for (const auto& [name, t] : runner->Parameters()) {
      const double d = (t - want.at(name)).abs().max().item<double>();
      sum.max_param_diff = std::max(sum.max_param_diff, d);
    }
  }
  return sum;
}

nlohmann::json PipelineJobSummary::ToJson() const {
  nlohmann::json json = {{"stages", stages},
                         {"micro_batches", micro_batches},
                         {"schedule", schedule},
                         {"cut_vars", cut_vars},
                         {"steps", steps},
                         {"samples", samples},
                         {"seconds", seconds},
                         {"samples_per_sec", samples_per_sec},
                         {"bubble_theory", bubble_theory},
                         {"schedule_bubble_fraction", schedule_bubble_fraction}};
  SetMetric(json, "final_loss", final_loss);
  SetMetric(json, "bubble_fraction", bubble_fraction);
  SetMetrics(json, "stage_busy_seconds", stage_busy_seconds);
  SetMetrics(json, "stage_idle_seconds", stage_idle_seconds);
  if (baseline_samples_per_sec > 0) {
    json["baseline_samples_per_sec"] = baseline_samples_per_sec;
    SetMetric(json, "baseline_final_loss", baseline_final_loss);
    SetMetric(json, "max_param_diff", max_param_diff);
  }
  return json;
}

}  // namespace colony::pipeline
