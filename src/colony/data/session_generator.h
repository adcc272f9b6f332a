// Generated click sessions from a planted next-item model with a known truth, for testing
// session recommenders end to end. The model (docs/session.md):
//   - items 1..N with Zipf popularity (item i has weight i^-zipf);
//   - a session starts at a popular item and goes on with probability `continue_prob` after
//     each click (at least 2 clicks, at most max_length);
//   - the click after item c at position t (1-based) is, with probability 1 - noise, one of
//     c's successors: with probability 1 - position_dependence from c's shared list, else from
//     c's list for position bucket min(t, buckets) - 1; each list holds `successors` items
//     with weights 1/(k+1); with probability `noise` it is a popular item (Zipf).
// truth.json holds the oracle P@20 and MRR@20: the ranking by the true next-item
// distribution, scored on every (prefix, next item) sample of the test split.
//   SessionGeneratorOptions o;  o.out_dir = "data/sessions";
//   COLONY_RETURN_IF_ERROR(GenerateSessions(o));   // train.txt, test.txt, truth.json
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"

namespace colony::data {

struct SessionGeneratorOptions {
  std::string out_dir;               // Folder for train.txt, test.txt, truth.json. Required.
  int64_t sessions = 200000;         // Sessions in all (train + test). Default: 200000. >= 2.
  double test_fraction = 0.1;        // Share of sessions in test.txt (the last). In (0, 1).
  int items = 300;                   // Distinct items. Default: 300. >= successors + 2.
  uint64_t seed = 1;                 // Seeds the planted model and the sessions. Default: 1.
  double zipf = 1.0;                 // Popularity exponent. Default: 1. >= 0.
  int successors = 6;                // Items per successor list. Default: 6. >= 1.
  int buckets = 3;                   // Position buckets with their own lists. Default: 3. >= 1.
  double position_dependence = 0.7;  // Share of transitions from a position list. In [0, 1].
  double noise = 0.2;                // Share of clicks drawn from popularity. In [0, 1).
  double continue_prob = 0.75;       // Probability of another click. Default: 0.75. In [0, 1).
  int max_length = 20;               // Longest session. Default: 20. >= 2.
  Status Validate() const;           // InvalidArgument naming the bad field.
};

// Writes out_dir/train.txt, test.txt (session files, docs/session.md) and truth.json (keys:
// generator, sessions, train_sessions, test_sessions, test_samples, items, seed,
// oracle_p20, oracle_mrr20, oracle_p20_expected, oracle_p20_no_position,
// oracle_mrr20_no_position). InvalidArgument for bad options, Unavailable when a file cannot
// be written.
Status GenerateSessions(const SessionGeneratorOptions& options);

// The planted model of a generator configuration. Thread-compatible.
class SessionTruth {
 public:
  // InvalidArgument as GenerateSessions (out_dir is not checked).
  static StatusOr<std::unique_ptr<SessionTruth>> Create(const SessionGeneratorOptions& options);
  ~SessionTruth();
  SessionTruth(const SessionTruth&) = delete;
  SessionTruth& operator=(const SessionTruth&) = delete;
  // P(next = i | last item `item` clicked at 1-based position `position`), i = 0..N (entry 0,
  // padding, is 0). REQUIRES: 1 <= item <= N, position >= 1.
  std::vector<double> NextDistribution(int64_t item, int position) const;
  // The same averaged over the position buckets with the share of training transitions seen
  // in each: the best a model that ignores positions can do.
  std::vector<double> PositionFreeDistribution(int64_t item) const;

  struct Model;

 private:
  friend Status GenerateSessions(const SessionGeneratorOptions& options);
  explicit SessionTruth(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
};

}  // namespace colony::data
