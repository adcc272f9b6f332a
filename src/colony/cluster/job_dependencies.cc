#include "colony/cluster/job_dependencies.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "colony/base/config.h"
#include "colony/base/file_util.h"

namespace colony::cluster {

StatusOr<std::optional<PreparedPackage>> PrepareJobDependencies(const JobDependencyOptions& o) {
  if (o.config.empty()) return InvalidArgumentError("job dependencies: config is required");
  if (!PathExists(o.config)) return NotFoundError("config '" + o.config + "' not found");
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(o.config, o.overrides));
  std::string dependencies;
  COLONY_RETURN_IF_ERROR(config.Root().Section("job").Read("dependencies", &dependencies));
  if (dependencies.empty()) return std::optional<PreparedPackage>();
  COLONY_ASSIGN_OR_RETURN(auto cache, PackageCache::Open({.dir = o.cache_dir}));
  std::filesystem::path root = std::filesystem::path(o.config).parent_path();
  if (root.empty()) root = ".";
  const std::string task_id =
      o.task_id.empty() ? fmt::format("{}@{}", o.config, ::getpid()) : o.task_id;
  auto prepared = cache->Prepare(root.string(), dependencies, task_id);
  if (!prepared.ok()) return prepared.status().WithContext(o.config + ": job.dependencies");
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(prepared->unpacked_dir, ec);
  if (!ec) prepared->unpacked_dir = absolute.string();
  return std::optional<PreparedPackage>(std::move(prepared).value());
}

std::string DescribePrepared(const PreparedPackage& p) {
  const std::string what = fmt::format("sub-directory {}, {} files, {} bytes", p.sub_directory,
                                       p.fingerprint.files, p.fingerprint.bytes);
  if (p.hit) return fmt::format("dependencies: cache hit ({}) in {:.3f} s", what, p.seconds);
  return fmt::format("dependencies: cache {} ({}), packed in {:.3f} s",
                     p.rebuilt_corrupt ? "entry corrupt, rebuilt" : "miss", what, p.seconds);
}

}  // namespace colony::cluster
