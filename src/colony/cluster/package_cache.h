// The dependency-package cache of submitted jobs: a job names a sub-directory of files its
// model build needs (`job.dependencies`); the cache packs it into a checksummed archive once
// and, when a later submission names the same sub-directory (same path relative to the job
// root) with the same content fingerprint (file names, sizes and a hash of the contents),
// hands back the stored package instead of packing again. Every submission is recorded in
// the cache folder's index.
//   COLONY_ASSIGN_OR_RETURN(auto cache, PackageCache::Open({.dir = "runs/package-cache"}));
//   COLONY_ASSIGN_OR_RETURN(PreparedPackage p, cache->Prepare("jobs/ctr", "deps", "task-7"));
//   // p.unpacked_dir holds the files; p.hit says whether a historical submission matched.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::cluster {

struct PackageCacheOptions {
  std::string dir;  // The cache folder; created when missing. Required.
};

// What a submission's dependency sub-directory is: its files, by relative path in byte order.
struct PackageFingerprint {
  int files = 0;
  uint64_t bytes = 0;
  std::string hex;  // 16 hex digits over the file names, sizes and contents.
};

struct PreparedPackage {
  std::string sub_directory;  // Relative to the job root, normalized: "deps/model".
  PackageFingerprint fingerprint;
  bool hit = false;              // A historical submission's package was used.
  bool rebuilt_corrupt = false;  // The stored package failed its checksum and was rebuilt.
  std::string archive_path;      // The packed, checksummed copy.
  std::string unpacked_dir;      // Its files, for the workers; do not modify.
  double seconds = 0;            // Time to prepare (fingerprint, and pack + unpack on a miss).
};

// One line of the index: a submission.
struct PackageSubmission {
  std::string task_id;
  std::string sub_directory;
  std::string fingerprint;
  std::string outcome;  // "hit", "miss" or "rebuilt" (a corrupt entry was packed again).
};

// Safe for several processes (and threads) at once: Prepare holds an exclusive lock on the
// cache folder's lock file, and entries and the index are written to a temporary name and
// renamed into place.
class PackageCache {
 public:
  // InvalidArgument when dir is empty; Unavailable when it cannot be created.
  static StatusOr<std::unique_ptr<PackageCache>> Open(const PackageCacheOptions& options);

  // Prepares `sub_directory` (relative to `job_root`) for task `task_id`. InvalidArgument
  // naming the path when it is absolute or escapes the job root, is a file, or holds a
  // symbolic link or special file; NotFound when it does not exist. A stored package whose
  // checksum does not match is reported on stderr and rebuilt (rebuilt_corrupt).
  StatusOr<PreparedPackage> Prepare(const std::string& job_root, const std::string& sub_directory,
                                    const std::string& task_id);

  // The submissions recorded so far, oldest first. DataLoss naming the line when the index
  // is malformed.
  StatusOr<std::vector<PackageSubmission>> ReadIndex() const;

  const std::string& dir() const { return options_.dir; }

 private:
  explicit PackageCache(PackageCacheOptions options) : options_(std::move(options)) {}
  std::string IndexPath() const;

  const PackageCacheOptions options_;
};

// The fingerprint of a folder's regular files (recursively). InvalidArgument naming a
// symbolic link or special file inside it.
StatusOr<PackageFingerprint> FingerprintDirectory(const std::string& dir);

}  // namespace colony::cluster
