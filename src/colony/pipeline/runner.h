// Pipeline training of one program cut into sections (US20210216875A1): each section is a
// stage run by its own thread (stages are threads of one process, not hosts); a mini-batch is
// split along dim 0 into micro-batches that stream through the stages. Forward activations
// (the cut vars and vars passed along) go to the next stage; the gradients of those vars come
// back, and each stage backpropagates them through its section with LibTorch autograd.
// Parameter gradients accumulate over the micro-batches, then every stage takes one
// optimizer step on its own parameters.
//   COLONY_ASSIGN_OR_RETURN(auto runner, pipeline::PipelineRunner::Create(
//       program, {.cut_vars = {"fc_1.Out"}, .micro_batches = 4}));
//   COLONY_ASSIGN_OR_RETURN(pipeline::StepResult r, runner->TrainStep(batch));
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/graph/program.h"
#include "colony/pipeline/partition.h"

namespace colony::pipeline {

struct PipelineOptions {
  // Behavior.
  std::vector<std::string> cut_vars;  // Segmentation-point vars, in op order. Default: none.
  int micro_batches = 1;              // Micro-batches per mini-batch, >= 1. Default: 1.
  // "gpipe" (every forward, then every backward) or "1f1b" (after p - 1 - stage warm-up
  // forwards, one forward then one backward). Default: "gpipe".
  std::string schedule = "gpipe";
  std::string optimizer = "sgd";  // "sgd" or "adam" (LibTorch's). Default: "sgd".
  float learning_rate = 0.01f;    // Default: 0.01.
  // Each micro-batch's loss is weighted by its share of the mini-batch's rows, so that a
  // program whose loss is a mean over rows gets the gradient of the whole mini-batch.
  uint64_t seed = 0;  // Parameter initializers and random ops. Default: 0.
  // EXPERIMENTAL, for measuring schedules on a host with fewer cores than stages: each stage
  // also sleeps this many microseconds per micro-batch row in a forward and twice as long in a
  // backward (counted as busy), as a stage on its own device would wait for that device
  // without taking this host's cores. 0: off. Default: 0.
  double emulated_device_us_per_row = 0;
  // Performance.
  // LibTorch intra-op threads of each stage; when > 0 also OpenBLAS's thread count (a
  // process-wide setting). 0: both unchanged.
  int threads_per_stage = 0;
  // InvalidArgument naming the field (pipeline.micro_batches, pipeline.schedule, ...).
  Status Validate() const;
};

// One stage's time in the last TrainStep, measured on its thread.
struct StageStats {
  double busy_seconds = 0;  // In forward and backward work (executor and autograd).
  double idle_seconds = 0;  // Step wall time minus busy: waiting for the neighbours.
  int64_t forwards = 0;
  int64_t backwards = 0;
  // Most micro-batches whose activations it held at once (forward done, backward not):
  // m under GPipe, min(p - stage, m) under 1F1B.
  int64_t max_live_micro_batches = 0;
};

struct StepResult {
  double loss = 0;          // The row-weighted mean of the micro-batches' losses.
  double wall_seconds = 0;  // Forward and backward of all micro-batches (no optimizer step).
  // 1 - sum(busy) / (stages * wall): the measured share of idle stage time.
  double bubble_fraction = 0;
  // The schedule's share of idle stage slots, free of timing: a forward takes one slot and a
  // backward two, each starting once the stage's previous work and the neighbour's input are
  // done. (p - 1) / (m + p - 1) for GPipe and 1F1B alike.
  double schedule_bubble_fraction = 0;
  std::vector<StageStats> stages;
};

// Not thread-safe: one caller at a time (TrainStep starts and joins the stage threads).
class PipelineRunner {
 public:
  // Splits the program (SplitProgram's errors) and makes one executor per section. Dense
  // parameters start from their initializers (seeded by options.seed); a sparse var (shape
  // [-1, dim]) has no initial value and must be given with SetParameter before TrainStep.
  static StatusOr<std::unique_ptr<PipelineRunner>> Create(const graph::ProgramDesc& program,
                                                          const PipelineOptions& options);
  ~PipelineRunner();
  PipelineRunner(const PipelineRunner&) = delete;
  PipelineRunner& operator=(const PipelineRunner&) = delete;

  // Replaces a parameter's value (copied). NotFound for a var no section reads as parameter;
  // InvalidArgument for a shape that differs from a fixed VarDesc shape.
  Status SetParameter(const std::string& name, const at::Tensor& value);

  // Streams `batch` (every feed of the program, all with the same dim-0 size >= micro_batches)
  // through the stages and leaves each parameter's summed gradient in Gradients(), without
  // an optimizer step. InvalidArgument for a missing feed or a batch smaller than
  // micro_batches; FailedPrecondition for a parameter without a value; a stage's error
  // (naming the stage) otherwise.
  StatusOr<StepResult> ComputeGradients(const std::map<std::string, at::Tensor>& batch);
  // ComputeGradients, then one optimizer step per stage.
  StatusOr<StepResult> TrainStep(const std::map<std::string, at::Tensor>& batch);

  // Copies of the parameters (and of the last gradients), by name.
  std::map<std::string, at::Tensor> Parameters() const;
  std::map<std::string, at::Tensor> Gradients() const;
  const std::vector<Section>& sections() const;

 private:
  struct Stage;
  PipelineRunner();

  PipelineOptions options_;
  std::vector<Section> sections_;
  std::vector<std::unique_ptr<Stage>> stages_;
  std::vector<std::string> feeds_;
  int64_t steps_ = 0;  // ComputeGradients calls so far; seeds the executors' random ops.
};

}  // namespace colony::pipeline
