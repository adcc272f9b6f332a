// The checkpoint folders of parameter servers. Private to ps.
//   <dir>/MANIFEST          written last: a format line, "shard I of N", one "table NAME" line
//                           per table, then "crc32 XXXXXXXX" over the lines before it
//   <dir>/<table>/spec.bin  the table's CreateTableRequest (kTableSpecFormat, checksummed)
//   <dir>/<table>/...       the table's own files (table.bin, dense.bin)
// A job's checkpoint holds <job_dir>/server-<i> for each of the N servers that wrote it.
#pragma once

#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/ps.pb.h"

namespace colony::ps::internal {

inline constexpr char kManifestFormat[] = "colony-ps-manifest-v2";
inline constexpr char kTableSpecFormat[] = "colony-table-spec-v1";

struct Manifest {
  int shard = 0;       // Which server of the job wrote it.
  int num_shards = 1;  // How many servers the job had.
  std::vector<std::string> tables;
};

// Writes `dir`/MANIFEST atomically.
Status WriteManifest(const std::string& dir, const Manifest& manifest);
// NotFound when `dir`/MANIFEST is missing; DataLoss naming it when its checksum, format or a
// line is wrong, or a table name is not a safe folder name (rpc::CheckPathComponent).
StatusOr<Manifest> ReadManifest(const std::string& dir);

// Writes `dir`/spec.bin atomically.
Status WriteTableSpec(const std::string& dir, const rpc::CreateTableRequest& spec);
// NotFound when missing; DataLoss naming the file when corrupt or when the spec's table is
// not `name` (the MANIFEST's line).
StatusOr<rpc::CreateTableRequest> ReadTableSpec(const std::string& dir, const std::string& name);

// A table a server loads from a job's checkpoint.
struct ShareTable {
  rpc::CreateTableRequest spec;
  std::vector<std::string> dirs;  // Its folders: one, or (sparse, re-sharding) one per server.
  bool filter = false;            // Keep only the sparse rows of ids that map to the server.
};

// What server `shard` of `num_shards` loads from the checkpoint a job of N servers wrote
// under `job_dir` (N read from the MANIFESTs). N == num_shards: the tables of its own folder.
// Otherwise every sparse table from every folder holding it (filter set), and the dense
// tables whose name maps to it (ShardOfName), each from the folder of its name under N or,
// when that has none (placement before names), the first folder that has it.
// NotFound without <job_dir>/server-0/MANIFEST; FailedPrecondition when the folders were
// written by jobs of different server counts; DataLoss for a missing or corrupt file.
StatusOr<std::vector<ShareTable>> PlanShare(const std::string& job_dir, int shard, int num_shards);

}  // namespace colony::ps::internal
