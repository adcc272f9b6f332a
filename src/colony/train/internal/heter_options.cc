#include "colony/train/internal/heter_options.h"

#include <string>

namespace colony::train::internal {

Status ReadHeter(const ConfigSection& s, HeterOptions* o) {
  COLONY_RETURN_IF_ERROR(s.Read("pass_samples", &o->pass_samples));
  COLONY_RETURN_IF_ERROR(s.Read("compute_threads", &o->compute_threads));
  return OkStatus();
}

Status ValidateHeter(const TrainOptions& o) {
  if (o.heter.pass_samples <= 0) {
    return InvalidArgumentError("heter.pass_samples must be > 0, got " +
                                std::to_string(o.heter.pass_samples));
  }
  if (o.heter.compute_threads < 1 || o.heter.compute_threads > 64) {
    return InvalidArgumentError("heter.compute_threads must be in [1, 64], got " +
                                std::to_string(o.heter.compute_threads));
  }
  if (o.strategy != "heter") return OkStatus();
  if (o.checkpoint.every_steps > 0) {
    return InvalidArgumentError(
        "checkpoint.every_steps is not supported with strategy 'heter', which checkpoints at "
        "the end of training (or when interrupted); set it to 0");
  }
  if (o.ps.servers.empty() && o.worker.count > 1) {
    return InvalidArgumentError("strategy 'heter' with " + std::to_string(o.worker.count) +
                                " workers needs ps.servers (the distributed PS they share)");
  }
  return OkStatus();
}

}  // namespace colony::train::internal
