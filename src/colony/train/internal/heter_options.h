// Reading and checking the `heter` section of a training job (TrainOptions::heter). Private to
// train: ParseTrainOptions and TrainOptions::Validate call these.
#pragma once

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/train/train_options.h"

namespace colony::train::internal {

// Reads heter.pass_samples and heter.compute_threads; a wrong type is InvalidArgument naming
// file, line and key.
Status ReadHeter(const ConfigSection& section, HeterOptions* options);

// InvalidArgument naming the key for a bad heter value, and for what strategy heter does not
// support (checkpoint.every_steps; several workers without ps.servers).
Status ValidateHeter(const TrainOptions& options);

}  // namespace colony::train::internal
