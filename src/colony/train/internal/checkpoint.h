// Checkpoints of a training job: program, config, tables with optimizer state, and the data
// position. Layout under the checkpoint folder:
//   ckpt-<global step>/program.pbtxt, config.yaml, state.yaml, sparse/<table>/, dense/
//   LATEST   names the newest complete ckpt-<step> folder
// A checkpoint is written into a temporary folder that is renamed into place, and LATEST is
// replaced atomically afterwards, so a crash at any point leaves the previous one usable.
#pragma once

#include <cstdint>
#include <string>

#include "colony/base/status.h"
#include "colony/program.pb.h"
#include "colony/train/internal/parameter_set.h"

namespace colony::train::internal {

inline constexpr char kCheckpointFormat[] = "colony-checkpoint-v1";

struct CheckpointState {
  int64_t global_step = 0;       // Steps trained when the checkpoint was taken.
  int64_t epoch = 0;             // Epoch in progress (0-based).
  int64_t batches_in_epoch = 0;  // Batches of that epoch already trained.
  int64_t samples = 0;           // Samples trained in all.
};

// Returns the folder written.
StatusOr<std::string> WriteCheckpoint(const std::string& root, const CheckpointState& state,
                                      const graph::ProgramDesc& program,
                                      const std::string& config_text,
                                      const ParameterSet& parameters);

struct CheckpointInfo {
  std::string path;  // The ckpt-<step> folder; tables load from here.
  CheckpointState state;
  graph::ProgramDesc program;
  std::string config_text;
};

// `dir` is a checkpoint root (with LATEST) or one ckpt-<step> folder. NotFound when there is
// none, DataLoss when a file is corrupt or of another format.
StatusOr<CheckpointInfo> ReadCheckpoint(const std::string& dir);

// Loads the checkpoint under `dir` (as ReadCheckpoint) into `parameters` and returns its data
// position. FailedPrecondition when it holds another program than `program`.
StatusOr<CheckpointState> ResumeFrom(const std::string& dir, const graph::ProgramDesc& program,
                                     ParameterSet& parameters);

}  // namespace colony::train::internal
