// The CTR model zoo: LR, DNN, DeepFM and wide & deep, as programs on the graph IR.
// Every CTR program follows one contract, which the trainers rely on:
//   feeds    "dense" float [-1, num_dense], "sparse_ids" int64 [-1, num_slots],
//            "label" float [-1, 1]
//   sparse   tables read through `sparse_lookup` with Ids = "sparse_ids"
//   fetches  one: the click probability, float [-1, 1]; loss: mean sigmoid BCE
//   COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc program, BuildCtrModel({.name = "dnn"}));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"

namespace colony::models {

// Names of the variables in the CTR contract above.
inline constexpr char kDenseFeed[] = "dense";
inline constexpr char kSparseIdsFeed[] = "sparse_ids";
inline constexpr char kLabelFeed[] = "label";
// Feeds of `input: bag` programs (libsvm-style variable-length weighted features) in place of
// "dense" and "sparse_ids": ids int64 [-1] (all samples' features in a row), offsets int64
// [-1] (where each sample's features start), values float [-1] (each feature's weight).
inline constexpr char kFeatureIdsFeed[] = "feature_ids";
inline constexpr char kFeatureOffsetsFeed[] = "feature_offsets";
inline constexpr char kFeatureValuesFeed[] = "feature_values";

struct CtrModelOptions {
  std::string name = "dnn";  // "lr", "dnn", "deepfm" or "wide_deep". Default: "dnn".
  // "slots": one id per categorical slot plus dense features (Criteo, CSV). "bag": a
  // variable-length list of weighted ids per sample (libsvm); each sample's embeddings are
  // summed, weighted by the values. DeepFM needs "slots". Default: "slots".
  std::string input = "slots";
  int num_dense = 13;        // Dense features per sample. Default: 13 (Criteo).
  int num_slots = 26;        // Categorical slots per sample. Default: 26 (Criteo).
  int embedding_dim = 16;    // Width of each slot's embedding. Default: 16.
  std::vector<int64_t> hidden = {256, 128};  // MLP layer widths. Default: {256, 128}.
  float dropout = 0.0f;      // Dropout after each hidden layer, in [0, 1). Default: 0.
  float init_scale = 0.01f;  // Embedding rows start uniform in +-init_scale. Default: 0.01.
  // InvalidArgument naming the bad field ("model.embedding_dim must be > 0, got 0").
  Status Validate() const;
};

// Returns the program of the named model; NotFound lists the known names.
StatusOr<graph::ProgramDesc> BuildCtrModel(const CtrModelOptions& options);
// Known model names, sorted, each with a one-line description.
std::vector<std::pair<std::string, std::string>> CtrModelNames();

}  // namespace colony::models
