#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/pipeline/job.h"

namespace colony::cli {
namespace {

struct PipelineFlags {
  std::string config;
  std::vector<std::string> overrides;
  std::string summary_json;
};

Status RunPipeline(const PipelineFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(flags.config, flags.overrides));
  COLONY_ASSIGN_OR_RETURN(pipeline::PipelineJobOptions options, pipeline::ParsePipelineJob(config));
  COLONY_ASSIGN_OR_RETURN(pipeline::PipelineJobSummary s, pipeline::RunPipelineJob(options));
  std::printf(
      "stages %d, micro-batches %d, %s: %.0f samples/s, bubble fraction %.3f (theory "
      "%.3f), final loss %.5f\n",
      s.stages, s.micro_batches, s.schedule.c_str(), s.samples_per_sec, s.bubble_fraction,
      s.bubble_theory, s.final_loss);
  for (int i = 0; i < s.stages; ++i) {
    std::printf("  stage %d: busy %.3f s, idle %.3f s\n", i, s.stage_busy_seconds[i],
                s.stage_idle_seconds[i]);
  }
  if (options.compare) {
    std::printf(
        "unpipelined: %.0f samples/s (pipelined %.2fx), final loss %.5f, max parameter "
        "difference %.2e\n",
        s.baseline_samples_per_sec, s.samples_per_sec / std::max(s.baseline_samples_per_sec, 1e-12),
        s.baseline_final_loss, s.max_param_diff);
  }
  return WriteSummaryJson(flags.summary_json, s.ToJson());
}

}  // namespace

void AddPipelineCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<PipelineFlags>();
  CLI::App* cmd = app.add_subcommand(
      "pipeline",
      "pipeline-train the balanced MLP of a config (stages are threads of this process); print "
      "per-stage busy time and the measured bubble fraction");
  cmd->add_option("config", flags->config, "YAML config (examples/pipeline/mlp.yaml)")->required();
  cmd->add_option("--set", flags->overrides, "override a config key: key.path=value");
  cmd->add_option("--summary-json", flags->summary_json, "write the summary here");
  cmd->callback([flags, exit_code] { *exit_code = ExitCode(RunPipeline(*flags)); });
}

}  // namespace colony::cli
