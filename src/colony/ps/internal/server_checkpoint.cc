#include "colony/ps/internal/server_checkpoint.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>

#include "colony/base/crc32.h"
#include "colony/base/file_util.h"
#include "colony/ps/internal/table_file.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/rpc/path.h"

namespace colony::ps::internal {
namespace {

std::string CrcLine(std::string_view body) {
  char line[32];
  std::snprintf(line, sizeof(line), "crc32 %08" PRIx32 "\n", Crc32(body));
  return line;
}

}  // namespace

Status WriteManifest(const std::string& dir, const Manifest& manifest) {
  std::string body = std::string(kManifestFormat) + "\n";
  body += "shard " + std::to_string(manifest.shard) + " of " + std::to_string(manifest.num_shards) +
          "\n";
  for (const std::string& table : manifest.tables) body += "table " + table + "\n";
  return WriteFileAtomic(dir + "/MANIFEST", body + CrcLine(body));
}

StatusOr<Manifest> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/MANIFEST";
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  // The checksum line is the last one; everything before it is what it covers.
  const size_t crc_at = text.rfind("crc32 ");
  if (text.empty() || text.back() != '\n' || crc_at == std::string::npos ||
      (crc_at > 0 && text[crc_at - 1] != '\n')) {
    return DataLossError(path + ": no checksum line; the file is truncated or not a MANIFEST");
  }
  const std::string_view body = std::string_view(text).substr(0, crc_at);
  if (CrcLine(body) != std::string_view(text).substr(crc_at)) {
    return DataLossError(path + ": checksum mismatch; the file is corrupt");
  }
  std::istringstream lines{std::string(body)};
  std::string line;
  if (!std::getline(lines, line) || line != kManifestFormat) {
    return DataLossError(path + ": not a '" + std::string(kManifestFormat) +
                         "' file (first line '" + line + "')");
  }
  Manifest manifest;
  char extra = 0;
  if (!std::getline(lines, line) ||
      std::sscanf(line.c_str(), "shard %d of %d%c", &manifest.shard, &manifest.num_shards,
                  &extra) != 2 ||
      manifest.num_shards < 1 || manifest.shard < 0 || manifest.shard >= manifest.num_shards) {
    return DataLossError(path + ": line 2 must be 'shard I of N' with 0 <= I < N, got '" + line +
                         "'");
  }
  for (int number = 3; std::getline(lines, line); ++number) {
    if (line.rfind("table ", 0) != 0) {
      return DataLossError(path + ": line " + std::to_string(number) +
                           " must be 'table NAME', got '" + line + "'");
    }
    const std::string name = line.substr(6);
    Status valid = colony::rpc::CheckPathComponent(name, "table name");
    if (!valid.ok()) {
      return DataLossError(path + ": line " + std::to_string(number) + ": " +
                           std::string(valid.message()));
    }
    manifest.tables.push_back(name);
  }
  return manifest;
}

Status WriteTableSpec(const std::string& dir, const rpc::CreateTableRequest& spec) {
  TableFileWriter file(dir + "/spec.bin", kTableSpecFormat);
  file.PutString(spec.SerializeAsString());
  return file.Finish();
}

StatusOr<rpc::CreateTableRequest> ReadTableSpec(const std::string& dir, const std::string& name) {
  COLONY_ASSIGN_OR_RETURN(TableFileReader file,
                          TableFileReader::Open(dir + "/spec.bin", kTableSpecFormat));
  std::string bytes;
  COLONY_RETURN_IF_ERROR(file.GetString(&bytes));
  rpc::CreateTableRequest spec;
  if (file.remaining() != 0 || !spec.ParseFromString(bytes)) {
    return DataLossError(file.path() + ": not a table spec");
  }
  if (spec.table() != name) {
    return DataLossError(file.path() + ": names table '" + spec.table() + "', the MANIFEST '" +
                         name + "'");
  }
  return spec;
}

StatusOr<std::vector<ShareTable>> PlanShare(const std::string& job_dir, int shard, int num_shards) {
  COLONY_ASSIGN_OR_RETURN(Manifest first, ReadManifest(ServerCheckpointDir(job_dir, 0)));
  const int saved_shards = first.num_shards;
  std::vector<Manifest> manifests;
  for (int i = 0; i < saved_shards; ++i) {
    const std::string dir = ServerCheckpointDir(job_dir, i);
    StatusOr<Manifest> m = first;
    if (i > 0) m = ReadManifest(dir);
    if (IsNotFound(m.status())) {
      return DataLossError(dir + "/MANIFEST is missing; server-0 says " +
                           std::to_string(saved_shards) + " servers wrote " + job_dir);
    }
    COLONY_RETURN_IF_ERROR(m.status());
    if (m->shard != i || m->num_shards != saved_shards) {
      return FailedPreconditionError(dir + "/MANIFEST says shard " + std::to_string(m->shard) +
                                     " of " + std::to_string(m->num_shards) + ", server-0's says " +
                                     std::to_string(saved_shards) + " servers: the folders of " +
                                     job_dir + " come from different runs");
    }
    manifests.push_back(std::move(*m));
  }
  std::vector<ShareTable> share;
  if (saved_shards == num_shards) {
    const std::string dir = ServerCheckpointDir(job_dir, shard);
    for (const std::string& name : manifests[shard].tables) {
      ShareTable table;
      COLONY_ASSIGN_OR_RETURN(table.spec, ReadTableSpec(dir + "/" + name, name));
      table.dirs = {dir + "/" + name};
      share.push_back(std::move(table));
    }
    return share;
  }
  std::map<std::string, std::vector<int>> holders;  // Table -> the servers that saved it.
  for (int i = 0; i < saved_shards; ++i) {
    for (const std::string& name : manifests[i].tables) holders[name].push_back(i);
  }
  for (const auto& [name, servers] : holders) {
    std::vector<rpc::CreateTableRequest> specs;
    for (int i : servers) {
      const std::string dir = ServerCheckpointDir(job_dir, i) + "/" + name;
      COLONY_ASSIGN_OR_RETURN(rpc::CreateTableRequest spec, ReadTableSpec(dir, name));
      if (!specs.empty() && (spec.sparse() != specs[0].sparse() || spec.dim() != specs[0].dim() ||
                             spec.size() != specs[0].size())) {
        return FailedPreconditionError(dir + "/spec.bin: table '" + name +
                                       "' has another kind or shape than on server " +
                                       std::to_string(servers[0]));
      }
      specs.push_back(std::move(spec));
    }
    ShareTable table;
    table.spec = specs[0];
    if (table.spec.sparse()) {
      for (int i : servers) table.dirs.push_back(ServerCheckpointDir(job_dir, i) + "/" + name);
      table.filter = true;
    } else {
      if (ShardOfName(name, num_shards) != shard) continue;
      int from = servers[0];
      for (int i : servers) {
        if (i == ShardOfName(name, saved_shards)) from = i;
      }
      table.dirs = {ServerCheckpointDir(job_dir, from) + "/" + name};
    }
    share.push_back(std::move(table));
  }
  return share;
}

}  // namespace colony::ps::internal
