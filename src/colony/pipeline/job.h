// A pipeline training job on the balanced MLP with synthetic data: what `colony pipeline` and
// bench/pipeline run. Trains `train.steps` mini-batches through a PipelineRunner and measures
// throughput and the bubble fraction; with `compare`, trains the unpipelined program (one
// stage, one micro-batch, same initial parameters and batches) step for step beside it.
//   COLONY_ASSIGN_OR_RETURN(Config config, Config::Load("examples/pipeline/mlp.yaml"));
//   COLONY_ASSIGN_OR_RETURN(pipeline::PipelineJobOptions o, pipeline::ParsePipelineJob(config));
//   COLONY_ASSIGN_OR_RETURN(pipeline::PipelineJobSummary s, pipeline::RunPipelineJob(o));
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/models/mlp_model.h"
#include "colony/pipeline/runner.h"

namespace colony::pipeline {

struct PipelineJobOptions {
  models::MlpModelOptions model;  // model.*
  PipelineOptions pipeline;  // pipeline.* (cut_vars, micro_batches, ...) and train.optimizer...
  // pipeline.stages: without cut_vars, cut the hidden layers into this many sections of
  // equal layer counts (REQUIRES stages <= model.layers). 0 or 1: one stage. Default: 0.
  int stages = 0;
  int batch_size = 256;     // train.batch_size: rows per mini-batch. Default: 256.
  int steps = 30;           // train.steps: mini-batches. Default: 30.
  int log_every = 10;       // train.log_every: progress line every this many steps. Default: 10.
  bool compare = false;     // train.compare: also run the unpipelined baseline. Default: false.
  Status Validate() const;  // InvalidArgument naming the key.
};

// Reads model.*, pipeline.* and train.* (see docs/pipeline.md); an unknown key is
// InvalidArgument with file and line.
StatusOr<PipelineJobOptions> ParsePipelineJob(const Config& config);

struct PipelineJobSummary {
  int stages = 0;
  int micro_batches = 0;
  std::string schedule;
  std::vector<std::string> cut_vars;
  int steps = 0;
  int64_t samples = 0;         // Rows trained: steps x batch_size.
  double seconds = 0;          // Wall time of all steps.
  double final_loss = 0;       // Loss of the last mini-batch (before its update).
  double samples_per_sec = 0;  // Over steps 2..N (the first is warm-up), step wall time.
  double bubble_fraction = 0;  // Median over steps 2..N of the measured fraction.
  double bubble_theory = 0;    // (p - 1) / (m + p - 1).
  // The schedule's own bubble, counted in slots free of timing (StepResult).
  double schedule_bubble_fraction = 0;
  std::vector<double> stage_busy_seconds;  // Sums over steps 2..N.
  std::vector<double> stage_idle_seconds;
  // With compare:
  double baseline_samples_per_sec = 0;
  double baseline_final_loss = 0;
  double max_param_diff = 0;  // Largest |pipelined - unpipelined| parameter entry at the end.

  // What `colony pipeline --summary-json` writes; the baseline keys only with compare.
  nlohmann::json ToJson() const;
};

// Prints a progress line to stderr every log_every steps.
StatusOr<PipelineJobSummary> RunPipelineJob(const PipelineJobOptions& options);

}  // namespace colony::pipeline
