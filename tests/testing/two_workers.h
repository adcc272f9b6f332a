// Two workers of one job in one test process: worker 1 in a thread, worker 0 in the caller,
// against the job's real parameter servers.
//   COLONY_ASSERT_OK_AND_ASSIGN(auto both, testing::RunTwoWorkers(o, Train));
//   const auto& [first, other] = both;
#pragma once

#include <future>
#include <utility>

#include "colony/base/status.h"

namespace colony::testing {

// Worker 0 (`first`, whose worker.count is 2) and worker 1 (the same options with rank 1) run
// by `train` at once; both summaries, or the first error (worker 0's before worker 1's).
template <typename Summary, typename Options>
StatusOr<std::pair<Summary, Summary>> RunTwoWorkers(const Options& first,
                                                    StatusOr<Summary> (*train)(const Options&)) {
  Options second = first;
  second.worker.rank = 1;
  auto other = std::async(std::launch::async, [&] { return train(second); });
  StatusOr<Summary> mine = train(first);
  StatusOr<Summary> theirs = other.get();
  COLONY_RETURN_IF_ERROR(mine.status());
  COLONY_RETURN_IF_ERROR(theirs.status());
  return std::make_pair(*std::move(mine), *std::move(theirs));
}

}  // namespace colony::testing
