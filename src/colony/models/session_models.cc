#include "colony/models/session_models.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>

#include "colony/graph/builder.h"

namespace colony::models {
namespace {

using graph::ProgramBuilder;

struct SessionFeeds {
  std::string node_items, node_pos, click_node, click_session, last_node, label;
};

SessionFeeds AddCommonFeeds(ProgramBuilder& b) {
  SessionFeeds f;
  f.node_items = b.Feed("node_items", graph::INT64, {-1});
  f.node_pos = b.Feed("node_pos", graph::INT64, {-1});
  f.click_node = b.Feed("click_node", graph::INT64, {-1});
  f.click_session = b.Feed("click_session", graph::INT64, {-1});
  f.last_node = b.Feed("last_node", graph::INT64, {-1});
  f.label = b.Feed("label", graph::INT64, {-1});
  return f;
}

graph::Initializer EmbeddingInit(int dim) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(dim));
  return graph::Uniform(-bound, bound);
}

std::string Fc(ProgramBuilder& b, const std::string& x, int64_t in, int64_t out,
               const std::string& name, bool bias, const std::string& activation = "none") {
  const std::string w = b.Parameter(name + ".w", {in, out}, graph::XavierUniform());
  graph::SlotBindings slots = {{"X", {x}}, {"W", {w}}};
  if (bias) slots.push_back({"B", {b.Parameter(name + ".b", {out}, graph::Zeros())}});
  return b.Op1("fc", slots, {{"activation", graph::StringAttr(activation)}});
}

// The target embedding matrix of the nodes: item embeddings plus position embeddings.
std::string NodeEmbeddings(ProgramBuilder& b, const SessionFeeds& f, const std::string& items,
                           const SessionModelOptions& o) {
  const std::string h = b.Op1("lookup", {{"Ids", {f.node_items}}, {"W", {items}}});
  if (o.position == "none") return h;
  const std::string pos =
      b.Parameter("pos_emb", {o.max_position, o.embedding_dim}, EmbeddingInit(o.embedding_dim));
  const std::string p = b.Op1("lookup", {{"Ids", {f.node_pos}}, {"W", {pos}}});
  if (o.combine == "add") return b.Op1("add", {{"X", {h}}, {"Y", {p}}});
  const std::string both = b.Op1("concat", {{"X", {h, p}}}, {{"axis", graph::IntAttr(1)}});
  return Fc(b, both, 2 * o.embedding_dim, o.embedding_dim, "combine", true, "tanh");
}

// SR-GNN's readout: soft attention of every click's node against the last one, the global
// vector concatenated with the last node's, a linear map, then scores against every item.
StatusOr<graph::ProgramDesc> Readout(ProgramBuilder& b, const SessionFeeds& f, const std::string& h,
                                     const std::string& items, const SessionModelOptions& o) {
  const int64_t d = o.embedding_dim;
  const std::string h_click = b.Op1("gather", {{"X", {h}}, {"Index", {f.click_node}}});
  const std::string h_last = b.Op1("gather", {{"X", {h}}, {"Index", {f.last_node}}});
  const std::string q1 = Fc(b, h_last, d, d, "att.w1", false);
  const std::string q1_click = b.Op1("gather", {{"X", {q1}}, {"Index", {f.click_session}}});
  const std::string q2 = Fc(b, h_click, d, d, "att.w2", true);
  const std::string act =
      b.Op1("sigmoid", {{"X", {b.Op1("add", {{"X", {q1_click}}, {"Y", {q2}}})}}});
  const std::string alpha = Fc(b, act, d, 1, "att.q", false);
  const std::string weighted = b.Op1("mul", {{"X", {alpha}}, {"Y", {h_click}}});
  const std::string zeros = b.Op1("scale", {{"X", {h_last}}}, {{"scale", graph::FloatAttr(0)}});
  const std::string global =
      b.Op1("scatter_add", {{"X", {zeros}}, {"Index", {f.click_session}}, {"Updates", {weighted}}});
  const std::string both =
      b.Op1("concat", {{"X", {global, h_last}}}, {{"axis", graph::IntAttr(1)}});
  const std::string session = Fc(b, both, 2 * d, d, "att.w3", false);
  const std::string scores =
      b.Op1("matmul", {{"X", {session}}, {"Y", {items}}}, {{"transpose_y", graph::BoolAttr(true)}});
  b.SetLoss(b.Op1("softmax_cross_entropy", {{"Logits", {scores}}, {"Label", {f.label}}}));
  b.AddFetch(scores);
  return b.Build();
}

StatusOr<graph::ProgramDesc> BuildSrGnn(const SessionModelOptions& o) {
  ProgramBuilder b;
  const SessionFeeds f = AddCommonFeeds(b);
  const std::string src = b.Feed("edge_src", graph::INT64, {-1});
  const std::string dst = b.Feed("edge_dst", graph::INT64, {-1});
  const std::string in_w = b.Feed("in_weight", graph::FLOAT32, {-1});
  const std::string out_w = b.Feed("out_weight", graph::FLOAT32, {-1});
  const int64_t d = o.embedding_dim;
  const std::string items =
      b.Parameter(kItemEmbedding, {o.num_items + 1, d}, EmbeddingInit(o.embedding_dim));
  std::string h = NodeEmbeddings(b, f, items, o);
  // The gated graph network's parameters are shared by its steps.
  const std::string w_in = b.Parameter("ggnn.in.w", {d, d}, graph::XavierUniform());
  const std::string b_in = b.Parameter("ggnn.in.b", {d}, graph::Zeros());
  const std::string w_out = b.Parameter("ggnn.out.w", {d, d}, graph::XavierUniform());
  const std::string b_out = b.Parameter("ggnn.out.b", {d}, graph::Zeros());
  const std::string wx = b.Parameter("ggnn.gru.wx", {2 * d, 3 * d}, graph::XavierUniform());
  const std::string wh = b.Parameter("ggnn.gru.wh", {d, 3 * d}, graph::XavierUniform());
  const std::string bx = b.Parameter("ggnn.gru.bx", {3 * d}, graph::Zeros());
  const std::string bh = b.Parameter("ggnn.gru.bh", {3 * d}, graph::Zeros());
  for (int step = 0; step < o.steps; ++step) {
    const std::string x_in = b.Op1("fc", {{"X", {h}}, {"W", {w_in}}, {"B", {b_in}}});
    const std::string x_out = b.Op1("fc", {{"X", {h}}, {"W", {w_out}}, {"B", {b_out}}});
    const std::string a_in = b.Op1(
        "sparse_adj_matmul", {{"X", {x_in}}, {"Row", {dst}}, {"Col", {src}}, {"Value", {in_w}}});
    const std::string a_out = b.Op1(
        "sparse_adj_matmul", {{"X", {x_out}}, {"Row", {src}}, {"Col", {dst}}, {"Value", {out_w}}});
    const std::string a = b.Op1("concat", {{"X", {a_in, a_out}}}, {{"axis", graph::IntAttr(1)}});
    h = b.Op1("gru_cell",
              {{"X", {a}}, {"H", {h}}, {"Wx", {wx}}, {"Wh", {wh}}, {"Bx", {bx}}, {"Bh", {bh}}});
  }
  return Readout(b, f, h, items, o);
}

StatusOr<graph::ProgramDesc> BuildAttentionGraph(const SessionModelOptions& o) {
  ProgramBuilder b;
  const SessionFeeds f = AddCommonFeeds(b);
  const std::string src = b.Feed("att_src", graph::INT64, {-1});
  const std::string dst = b.Feed("att_dst", graph::INT64, {-1});
  const std::string rel = b.Feed("att_rel", graph::INT64, {-1});
  const int64_t d = o.embedding_dim;
  const std::string items =
      b.Parameter(kItemEmbedding, {o.num_items + 1, d}, EmbeddingInit(o.embedding_dim));
  std::string h = NodeEmbeddings(b, f, items, o);
  for (int layer = 0; layer < o.steps; ++layer) {
    const std::string name = "gat" + std::to_string(layer);
    // The edge's relationship data (self / incoming / outgoing) enters its attention weight.
    const std::string rel_emb = b.Parameter(name + ".rel", {3, d}, EmbeddingInit(o.embedding_dim));
    const std::string q = Fc(b, h, d, d, name + ".q", false);
    const std::string k = Fc(b, h, d, d, name + ".k", false);
    const std::string v = Fc(b, h, d, d, name + ".v", true);
    const std::string k_edge =
        b.Op1("add", {{"X", {b.Op1("gather", {{"X", {k}}, {"Index", {src}}})}},
                      {"Y", {b.Op1("lookup", {{"Ids", {rel}}, {"W", {rel_emb}}})}}});
    const std::string q_edge = b.Op1("gather", {{"X", {q}}, {"Index", {dst}}});
    const std::string dot =
        b.Op1("reduce_sum", {{"X", {b.Op1("mul", {{"X", {q_edge}}, {"Y", {k_edge}}})}}},
              {{"axes", graph::IntsAttr({1})}});
    const std::string score =
        b.Op1("leaky_relu",
              {{"X",
                {b.Op1("scale", {{"X", {dot}}},
                       {{"scale", graph::FloatAttr(1.0f / std::sqrt(static_cast<float>(d)))}})}}});
    const std::string weight = b.Op1("segment_softmax", {{"X", {score}}, {"Segment", {dst}}});
    const std::string message = b.Op1(
        "sparse_adj_matmul", {{"X", {v}}, {"Row", {dst}}, {"Col", {src}}, {"Value", {weight}}});
    h = b.Op1("add", {{"X", {h}}, {"Y", {message}}});
  }
  return Readout(b, f, h, items, o);
}

struct Entry {
  std::string doc;
  std::function<StatusOr<graph::ProgramDesc>(const SessionModelOptions&)> build;
};

const std::map<std::string, Entry>& Models() {
  static const auto* models = new std::map<std::string, Entry>{
      {"srgnn",
       {"SR-GNN: gated graph network over the session graph (item + position embeddings), "
        "attention readout with the last item",
        BuildSrGnn}},
      {"attention_graph",
       {"attention session graph: per-edge attention from node vectors and edge relation, "
        "weighted messages, attention readout",
        BuildAttentionGraph}},
  };
  return *models;
}

}  // namespace

Status SessionModelOptions::Validate() const {
  if (num_items <= 0) {
    return InvalidArgumentError("model.num_items must be > 0, got " + std::to_string(num_items));
  }
  if (embedding_dim <= 0) {
    return InvalidArgumentError("model.embedding_dim must be > 0, got " +
                                std::to_string(embedding_dim));
  }
  if (steps < 1)
    return InvalidArgumentError("model.steps must be >= 1, got " + std::to_string(steps));
  if (position != "forward" && position != "reverse" && position != "none") {
    return InvalidArgumentError("model.position must be 'forward', 'reverse' or 'none', got '" +
                                position + "'");
  }
  if (combine != "add" && combine != "mlp") {
    return InvalidArgumentError("model.combine must be 'add' or 'mlp', got '" + combine + "'");
  }
  if (max_position < 1) {
    return InvalidArgumentError("model.max_position must be >= 1, got " +
                                std::to_string(max_position));
  }
  return OkStatus();
}

StatusOr<graph::ProgramDesc> BuildSessionModel(const SessionModelOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  const auto it = Models().find(options.name);
  if (it == Models().end()) {
    std::vector<std::string> known;
    for (const auto& [name, entry] : Models()) known.push_back(name);
    return NotFoundError(fmt::format("model.name '{}' is not a session model; known: {}",
                                     options.name, fmt::join(known, ", ")));
  }
  return it->second.build(options);
}

std::vector<std::pair<std::string, std::string>> SessionModelNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& [name, entry] : Models()) names.emplace_back(name, entry.doc);
  return names;
}

bool IsSessionModel(const std::string& name) { return Models().count(name) > 0; }

}  // namespace colony::models
