// Turns (session prefix, next item) samples into the feeds of the session models
// (models/session_models.h): the batch's session graphs as one flat graph. Private to train.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/data/session_data.h"
#include "colony/exec/scope.h"

namespace colony::train::internal {

struct SessionFeederOptions {
  int max_length = 20;               // Only the last max_length clicks of a prefix are used.
  std::string position = "forward";  // "forward", "reverse" or "none" (node_pos all 0).
  int max_position = 20;             // Position indices are clipped to max_position - 1.
};

// Sets every feed of the session-model contract in `scope` for `samples` of `sessions`. A
// sample whose prefix is the whole session (prediction) gets label 0.
// REQUIRES: each sample's prefix is in [1, session size].
void FeedSessions(const std::vector<data::Session>& sessions,
                  std::span<const data::SessionSample> samples, const SessionFeederOptions& options,
                  exec::Scope& scope);

}  // namespace colony::train::internal
