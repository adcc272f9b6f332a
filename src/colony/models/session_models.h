// Session-based next-item recommenders as programs: SR-GNN with position embeddings
// (US20220114218A1) and the attention session-graph model (US20210374356A1). A batch of
// sessions is one graph of all their nodes (each session's distinct items), so the programs
// are flat: no padding, message passing through `sparse_adj_matmul` over edge lists.
// The feed contract (the trainer's session feeder fills it; docs/session.md):
//   node_items int64 [M]   item id of every node (M nodes in the batch)
//   node_pos   int64 [M]   position index of the node's last click in its session
//   edge_src, edge_dst int64 [E], in_weight, out_weight float [E]
//                          SR-GNN: distinct transitions u -> v (flat node indices), weighted
//                          1 / in-degree(v) and 1 / out-degree(u)
//   att_src, att_dst, att_rel int64 [A]
//                          attention model: for each transition u -> v an edge into v (rel 1)
//                          and one into u (rel 2), plus a self loop per node (rel 0)
//   click_node, click_session int64 [C]   every click's node and its session (0..B-1)
//   last_node  int64 [B]   the node of each session's last click
//   label      int64 [B]   the next item
//   fetch (the only one): scores float [B, num_items + 1] (column 0 is padding); loss: mean
//   softmax cross entropy against label.
//   COLONY_ASSIGN_OR_RETURN(graph::ProgramDesc p, BuildSessionModel({.num_items = 500}));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/program.pb.h"

namespace colony::models {

inline constexpr char kItemEmbedding[] = "item_emb";

struct SessionModelOptions {
  std::string name = "srgnn";  // "srgnn" or "attention_graph". Default: "srgnn".
  int64_t num_items = 0;       // Item ids are 1..num_items. Required, > 0.
  int embedding_dim = 64;      // Default: 64.
  int steps = 1;               // GNN propagation steps (attention layers). Default: 1.
  // Position embeddings added to the item embeddings of the nodes: "forward" (index of the
  // node's last click from the session start), "reverse" (from the end), "none". Default:
  // "forward".
  std::string position = "forward";
  int max_position = 20;  // Positions >= this share the last embedding. Default: 20.
  // How item and position embeddings combine into the target embedding: "add" (sum) or
  // "mlp" (tanh(W [item; position] + b), which can model item x position interactions).
  // Default: "add".
  std::string combine = "add";
  Status Validate() const;  // InvalidArgument naming the bad field ("model.steps ...").
};

// NotFound lists the known names.
StatusOr<graph::ProgramDesc> BuildSessionModel(const SessionModelOptions& options);
// Known names with a one-line description, sorted.
std::vector<std::pair<std::string, std::string>> SessionModelNames();
bool IsSessionModel(const std::string& name);

}  // namespace colony::models
