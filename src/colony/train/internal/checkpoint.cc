#include "colony/train/internal/checkpoint.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "colony/base/config.h"
#include "colony/base/file_util.h"
#include "colony/base/logging.h"
#include "colony/graph/program.h"

namespace colony::train::internal {
namespace {

std::string StateYaml(const CheckpointState& s) {
  return fmt::format("format: {}\nglobal_step: {}\nepoch: {}\nbatches_in_epoch: {}\nsamples: {}\n",
                     kCheckpointFormat, s.global_step, s.epoch, s.batches_in_epoch, s.samples);
}

StatusOr<CheckpointState> ParseState(const std::string& path) {
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  StatusOr<Config> parsed = Config::Parse(text, path);
  if (!parsed.ok()) return DataLossError(std::string(parsed.status().message()));
  const ConfigSection root = parsed->Root();
  std::string format;
  CheckpointState s;
  Status read = root.Read("format", &format);
  if (read.ok()) read = root.Read("global_step", &s.global_step);
  if (read.ok()) read = root.Read("epoch", &s.epoch);
  if (read.ok()) read = root.Read("batches_in_epoch", &s.batches_in_epoch);
  if (read.ok()) read = root.Read("samples", &s.samples);
  if (!read.ok()) return DataLossError(std::string(read.message()));
  if (format != kCheckpointFormat) {
    return DataLossError(path + ": format '" + format + "' is not " + kCheckpointFormat);
  }
  return s;
}

}  // namespace

StatusOr<std::string> WriteCheckpoint(const std::string& root, const CheckpointState& state,
                                      const graph::ProgramDesc& program,
                                      const std::string& config_text,
                                      const ParameterSet& parameters) {
  namespace fs = std::filesystem;
  const std::string name = fmt::format("ckpt-{:09d}", state.global_step);
  const std::string final_dir = root + "/" + name;
  const std::string tmp_dir = final_dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  COLONY_RETURN_IF_ERROR(MakeDirs(tmp_dir));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(tmp_dir + "/program.pbtxt", graph::ToText(program)));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(tmp_dir + "/config.yaml", config_text));
  COLONY_RETURN_IF_ERROR(parameters.Save(tmp_dir));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(tmp_dir + "/state.yaml", StateYaml(state)));
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) return UnavailableError("cannot rename '" + tmp_dir + "': " + ec.message());
  COLONY_RETURN_IF_ERROR(SyncDir(root));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(root + "/LATEST", name + "\n"));
  return final_dir;
}

StatusOr<CheckpointInfo> ReadCheckpoint(const std::string& dir) {
  CheckpointInfo info;
  info.path = dir;
  if (PathExists(dir + "/LATEST")) {
    COLONY_ASSIGN_OR_RETURN(std::string latest, ReadFile(dir + "/LATEST"));
    while (!latest.empty() && (latest.back() == '\n' || latest.back() == ' ')) latest.pop_back();
    info.path = dir + "/" + latest;
  }
  if (!PathExists(info.path + "/state.yaml")) {
    return NotFoundError("no checkpoint in '" + dir +
                         "': expected a LATEST file or a ckpt-<step> folder with state.yaml");
  }
  COLONY_ASSIGN_OR_RETURN(info.state, ParseState(info.path + "/state.yaml"));
  COLONY_ASSIGN_OR_RETURN(std::string program_text, ReadFile(info.path + "/program.pbtxt"));
  StatusOr<graph::ProgramDesc> program = graph::ParseText(program_text);
  if (!program.ok()) {
    return DataLossError(info.path + "/program.pbtxt: " + std::string(program.status().message()));
  }
  info.program = *std::move(program);
  COLONY_ASSIGN_OR_RETURN(info.config_text, ReadFile(info.path + "/config.yaml"));
  return info;
}

StatusOr<CheckpointState> ResumeFrom(const std::string& dir, const graph::ProgramDesc& program,
                                     ParameterSet& parameters) {
  COLONY_ASSIGN_OR_RETURN(CheckpointInfo info, ReadCheckpoint(dir));
  if (graph::ToText(info.program) != graph::ToText(program)) {
    return FailedPreconditionError("checkpoint '" + info.path +
                                   "' holds a different model than the config; resume with "
                                   "the config the job started with");
  }
  COLONY_RETURN_IF_ERROR(parameters.Load(info.path));
  const CheckpointState& state = info.state;
  COLONY_LOG_INFO("resumed from {} at step {} (epoch {}, batch {})", info.path, state.global_step,
                  state.epoch + 1, state.batches_in_epoch);
  return info.state;
}

}  // namespace colony::train::internal
