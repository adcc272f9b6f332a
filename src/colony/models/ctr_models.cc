#include "colony/models/ctr_models.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

#include "colony/graph/builder.h"
#include "colony/models/internal/layers.h"

namespace colony::models {
namespace {

using graph::ProgramBuilder;
using internal::Fc;

// The parts every CTR model shares: feeds, loss and prediction.
struct CtrInputs {
  std::string dense, ids, label;
  std::string offsets, values;  // Only for input "bag".
  bool bag() const { return !offsets.empty(); }
};

CtrInputs AddFeeds(ProgramBuilder& b, const CtrModelOptions& o) {
  if (o.input == "bag") {
    CtrInputs in;
    in.ids = b.Feed(kFeatureIdsFeed, graph::INT64, {-1});
    in.offsets = b.Feed(kFeatureOffsetsFeed, graph::INT64, {-1});
    in.values = b.Feed(kFeatureValuesFeed, graph::FLOAT32, {-1});
    in.label = b.Feed(kLabelFeed, graph::FLOAT32, {-1, 1});
    return in;
  }
  CtrInputs in;
  in.dense = b.Feed(kDenseFeed, graph::FLOAT32, {-1, o.num_dense});
  in.ids = b.Feed(kSparseIdsFeed, graph::INT64, {-1, o.num_slots});
  in.label = b.Feed(kLabelFeed, graph::FLOAT32, {-1, 1});
  return in;
}

// The rows of table `w` for the inputs: [-1, slots, dim], or for a bag the value-weighted
// sum per sample, [-1, dim].
std::string Lookup(ProgramBuilder& b, const CtrInputs& in, const std::string& w) {
  if (in.bag()) {
    return b.Op1("sparse_lookup",
                 {{"Ids", {in.ids}},
                  {"W", {w}},
                  {"Offsets", {in.offsets}},
                  {"PerSampleWeights", {in.values}}},
                 {{"combiner", graph::StringAttr("sum")}});
  }
  return b.Op1("sparse_lookup", {{"Ids", {in.ids}}, {"W", {w}}});
}

StatusOr<graph::ProgramDesc> Finish(ProgramBuilder& b, const std::string& logit,
                                    const std::string& label) {
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  b.AddFetch(b.Op1("sigmoid", {{"X", {logit}}}));
  return b.Build();
}

// First-order terms: one weight per id, summed over slots, plus a linear term on dense
// features. Returns a [-1, 1] logit.
std::string Linear(ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
  const std::string w = b.SparseParameter("lr_w", 1, graph::Zeros());
  if (in.bag()) {
    const std::string bias = b.Parameter("lr_bias", {1}, graph::Zeros());
    return b.Op1("add", {{"X", {Lookup(b, in, w)}}, {"Y", {bias}}});
  }
  const std::string sparse_sum =
      b.Op1("reduce_sum", {{"X", {Lookup(b, in, w)}}},
            {{"axes", graph::IntsAttr({1})}, {"keep_dim", graph::BoolAttr(false)}});
  const std::string dense_part = Fc(b, in.dense, o.num_dense, 1, "lr_dense", "none");
  return b.Op1("add", {{"X", {sparse_sum}}, {"Y", {dense_part}}});
}

// Embeddings of all slots from the shared table "emb": [-1, slots, dim]; for a bag, the
// value-weighted sum per sample, [-1, dim].
std::string Embeddings(ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
  const std::string emb =
      b.SparseParameter("emb", o.embedding_dim, graph::Uniform(-o.init_scale, o.init_scale));
  return Lookup(b, in, emb);
}

// The MLP over [flattened embeddings, dense features] (a bag: over the summed embedding).
// Returns a [-1, 1] logit.
std::string Deep(ProgramBuilder& b, const CtrInputs& in, const std::string& embeddings,
                 const CtrModelOptions& o) {
  std::string x = embeddings;
  int64_t width = o.embedding_dim;
  if (!in.bag()) {
    const std::string flat =
        b.Op1("reshape", {{"X", {embeddings}}},
              {{"shape", graph::IntsAttr({-1, o.num_slots * o.embedding_dim})}});
    x = b.Op1("concat", {{"X", {flat, in.dense}}}, {{"axis", graph::IntAttr(1)}});
    width = int64_t{o.num_slots} * o.embedding_dim + o.num_dense;
  }
  for (size_t i = 0; i < o.hidden.size(); ++i) {
    x = Fc(b, x, width, o.hidden[i], "fc" + std::to_string(i), "relu");
    if (o.dropout > 0) x = b.Op1("dropout", {{"X", {x}}}, {{"p", graph::FloatAttr(o.dropout)}});
    width = o.hidden[i];
  }
  return Fc(b, x, width, 1, "fc_out", "none");
}

// FM second-order term 0.5 * sum_d ((sum_s v)^2 - sum_s v^2), as [-1, 1].
std::string FactorizationMachine(ProgramBuilder& b, const std::string& embeddings) {
  const auto sum_over = [&](const std::string& x, int64_t axis, bool keep) {
    return b.Op1("reduce_sum", {{"X", {x}}},
                 {{"axes", graph::IntsAttr({axis})}, {"keep_dim", graph::BoolAttr(keep)}});
  };
  const std::string sum = sum_over(embeddings, 1, false);
  const std::string square_of_sum = b.Op1("mul", {{"X", {sum}}, {"Y", {sum}}});
  const std::string squares = b.Op1("mul", {{"X", {embeddings}}, {"Y", {embeddings}}});
  const std::string sum_of_squares = sum_over(squares, 1, false);
  const std::string diff = b.Op1("sub", {{"X", {square_of_sum}}, {"Y", {sum_of_squares}}});
  return b.Op1("scale", {{"X", {sum_over(diff, 1, true)}}},
               {{"scale", graph::FloatAttr(0.5f)}, {"bias", graph::FloatAttr(0.0f)}});
}

using ModelFn =
    std::function<std::string(ProgramBuilder&, const CtrInputs&, const CtrModelOptions&)>;

struct ModelEntry {
  std::string doc;
  ModelFn logit;
};

const std::map<std::string, ModelEntry>& Models() {
  static const auto* models = new std::map<std::string, ModelEntry>{
      {"lr",
       {"logistic regression: one weight per id plus a linear term on dense features",
        [](ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
          return Linear(b, in, o);
        }}},
      {"dnn",
       {"embeddings of all slots and dense features through an MLP",
        [](ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
          return Deep(b, in, Embeddings(b, in, o), o);
        }}},
      {"deepfm",
       {"DeepFM: first-order weights + FM interactions + MLP over shared embeddings",
        [](ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
          const std::string emb = Embeddings(b, in, o);
          const std::string fm =
              b.Op1("add", {{"X", {Linear(b, in, o)}}, {"Y", {FactorizationMachine(b, emb)}}});
          return b.Op1("add", {{"X", {fm}}, {"Y", {Deep(b, in, emb, o)}}});
        }}},
      {"wide_deep",
       {"wide & deep: LR part plus MLP over embeddings, logits summed",
        [](ProgramBuilder& b, const CtrInputs& in, const CtrModelOptions& o) {
          const std::string wide = Linear(b, in, o);
          return b.Op1("add", {{"X", {wide}}, {"Y", {Deep(b, in, Embeddings(b, in, o), o)}}});
        }}},
  };
  return *models;
}

}  // namespace

Status CtrModelOptions::Validate() const {
  if (input != "slots" && input != "bag") {
    return InvalidArgumentError("model.input must be 'slots' or 'bag', got '" + input + "'");
  }
  if (input == "bag" && name == "deepfm") {
    return InvalidArgumentError(
        "model 'deepfm' needs fixed slots (data.format criteo or csv), not libsvm features");
  }
  if (input == "slots" && num_dense < 0) {
    return InvalidArgumentError("model.num_dense must be >= 0, got " + std::to_string(num_dense));
  }
  if (input == "slots" && num_slots <= 0) {
    return InvalidArgumentError("model.num_slots must be > 0, got " + std::to_string(num_slots));
  }
  if (embedding_dim <= 0) {
    return InvalidArgumentError("model.embedding_dim must be > 0, got " +
                                std::to_string(embedding_dim));
  }
  for (int64_t width : hidden) {
    if (width <= 0) {
      return InvalidArgumentError("model.hidden widths must be > 0, got " + std::to_string(width));
    }
  }
  if (dropout < 0 || dropout >= 1) {
    return InvalidArgumentError("model.dropout must be in [0, 1), got " + std::to_string(dropout));
  }
  if (init_scale < 0) {
    return InvalidArgumentError("model.init_scale must be >= 0, got " + std::to_string(init_scale));
  }
  return OkStatus();
}

StatusOr<graph::ProgramDesc> BuildCtrModel(const CtrModelOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  const auto it = Models().find(options.name);
  if (it == Models().end()) {
    std::vector<std::string> known;
    for (const auto& [name, entry] : Models()) known.push_back(name);
    return NotFoundError(fmt::format("model.name '{}' is not a known model; known: {}",
                                     options.name, fmt::join(known, ", ")));
  }
  ProgramBuilder b;
  const CtrInputs in = AddFeeds(b, options);
  const std::string logit = it->second.logit(b, in, options);
  return Finish(b, logit, in.label);
}

std::vector<std::pair<std::string, std::string>> CtrModelNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const auto& [name, entry] : Models()) names.emplace_back(name, entry.doc);
  return names;
}

}  // namespace colony::models
