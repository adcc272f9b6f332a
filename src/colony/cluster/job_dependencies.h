// A job's `job.dependencies` (a sub-directory relative to the job's YAML file), prepared
// through the package cache before its workers start:
//   COLONY_ASSIGN_OR_RETURN(auto deps, PrepareJobDependencies({.config = "job.yaml",
//                                                              .cache_dir =
//                                                              "runs/package-cache"}));
//   if (deps) std::puts(DescribePrepared(*deps).c_str());  // "dependencies: cache hit (...)"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/cluster/package_cache.h"

namespace colony::cluster {

// The environment variable that names the unpacked dependency folder for each worker.
inline constexpr char kDepsDirEnv[] = "COLONY_DEPS_DIR";

struct JobDependencyOptions {
  std::string config;                  // The job's YAML file. Required.
  std::vector<std::string> overrides;  // key=value, as for the workers.
  std::string cache_dir;               // The package cache folder. Required.
  std::string task_id;                 // Recorded in the index. Default: "<config>@<pid>".
};

// nullopt when the config has no `job.dependencies`. Errors name the config key (wrong
// type) or the sub-directory (see PackageCache::Prepare).
StatusOr<std::optional<PreparedPackage>> PrepareJobDependencies(const JobDependencyOptions& o);

// "dependencies: cache hit (sub-directory deps, 3 files, 1204 bytes)" or
// "dependencies: cache miss (...), packed in 0.012 s".
std::string DescribePrepared(const PreparedPackage& p);

}  // namespace colony::cluster
