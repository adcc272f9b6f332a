#include <cstdio>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cluster/job_dependencies.h"

namespace colony::cli {
namespace {

Status RunPrepare(const cluster::JobDependencyOptions& o) {
  COLONY_ASSIGN_OR_RETURN(auto deps, cluster::PrepareJobDependencies(o));
  if (!deps) return InvalidArgumentError(o.config + ": the job has no job.dependencies");
  std::printf("%s\n%s=%s\n", cluster::DescribePrepared(*deps).c_str(), cluster::kDepsDirEnv,
              deps->unpacked_dir.c_str());
  return OkStatus();
}

}  // namespace

void AddPackageCommands(CLI::App& app, int* exit_code) {
  CLI::App* package = app.add_subcommand("package", "the dependency-package cache of jobs");
  package->require_subcommand(1);
  auto o = std::make_shared<cluster::JobDependencyOptions>();
  o->cache_dir = "runs/package-cache";
  CLI::App* prepare = package->add_subcommand(
      "prepare", "pack the job's job.dependencies through the cache (as colony launch does)");
  prepare->add_option("config", o->config, "job YAML file")->required();
  prepare->add_option("--cache", o->cache_dir, "package cache folder")->capture_default_str();
  prepare->add_option("--task-id", o->task_id, "recorded in the cache's index");
  prepare->add_option("--set", o->overrides, "override a config key")->take_all();
  prepare->callback([o, exit_code] { *exit_code = ExitCode(RunPrepare(*o)); });
}

}  // namespace colony::cli
