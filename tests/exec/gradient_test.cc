// Gradient check of every differentiable op through the Executor: analytic gradients from
// Executor::Backward against central finite differences in float64.
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "colony/exec/executor.h"
#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::exec {
namespace {

using graph::ProgramBuilder;

struct GradCase {
  std::string name;
  // Declares feeds (named as in `inputs`) and adds the op; returns its outputs.
  std::function<std::vector<std::string>(ProgramBuilder&)> build;
  std::map<std::string, at::Tensor> inputs;
  std::vector<std::string> check;  // Inputs whose gradient is checked.
  bool training = false;
};

std::vector<int64_t> Sizes(const at::Tensor& t) { return t.sizes().vec(); }

// Declares every input of `c` as a feed with its exact shape and dtype.
std::function<std::string(ProgramBuilder&, const std::string&)> FeedOf(const GradCase& c) {
  return [&c](ProgramBuilder& b, const std::string& name) {
    const at::Tensor& t = c.inputs.at(name);
    return b.Feed(name, t.scalar_type() == at::kLong ? graph::INT64 : graph::FLOAT64, Sizes(t));
  };
}

double LossOf(Executor& e, const std::map<std::string, at::Tensor>& inputs, bool training) {
  Scope scope;
  for (const auto& [n, t] : inputs) scope.Set(n, t);
  Status s = e.Forward(scope, training, /*step=*/3);
  EXPECT_TRUE(s.ok()) << s;
  return scope.Get(e.program().loss())->item<double>();
}

void CheckGradients(const GradCase& c) {
  SCOPED_TRACE(c.name);
  // 1. Learn the output shapes.
  std::vector<std::vector<int64_t>> out_shapes;
  {
    ProgramBuilder b;
    for (const std::string& o : c.build(b)) b.AddFetch(o);
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, b.Build());
    COLONY_ASSERT_OK_AND_ASSIGN(auto e, Executor::Create(p, {.seed = 11}));
    Scope scope;
    for (const auto& [n, t] : c.inputs) scope.Set(n, t);
    COLONY_ASSERT_OK(e->Forward(scope, c.training, 3));
    for (const std::string& f : p.fetches()) out_shapes.push_back(Sizes(*scope.Get(f)));
  }
  // 2. loss = sum_k sum(out_k * R_k) with fixed random R_k, so no output direction is special.
  ProgramBuilder b;
  const std::vector<std::string> outs = c.build(b);
  std::map<std::string, at::Tensor> inputs = c.inputs;
  at::manual_seed(5);
  std::string loss;
  for (size_t k = 0; k < outs.size(); ++k) {
    std::string r_name = "R";
    r_name.append(std::to_string(k));
    const std::string r = b.Feed(r_name, graph::FLOAT64, out_shapes[k]);
    inputs[r] = at::randn(out_shapes[k], at::kDouble);
    const std::string prod = b.Op1("mul", {{"X", {outs[k]}}, {"Y", {r}}});
    const std::string term = b.Op1("reduce_sum", {{"X", {prod}}});
    loss = loss.empty() ? term : b.Op1("add", {{"X", {loss}}, {"Y", {term}}});
  }
  b.SetLoss(loss);
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, b.Build());
  COLONY_ASSERT_OK_AND_ASSIGN(auto e, Executor::Create(p, {.seed = 11}));

  Scope scope;
  for (const auto& [n, t] : inputs) {
    at::Tensor leaf = t.clone();
    if (std::find(c.check.begin(), c.check.end(), n) != c.check.end()) leaf.requires_grad_(true);
    scope.Set(n, leaf);
  }
  COLONY_ASSERT_OK(e->Forward(scope, c.training, 3));
  COLONY_ASSERT_OK(e->Backward(scope));

  at::NoGradGuard no_grad;
  const double eps = 1e-6;
  for (const std::string& name : c.check) {
    SCOPED_TRACE(name);
    at::Tensor analytic = scope.Get(name)->grad();
    ASSERT_TRUE(analytic.defined()) << "no gradient reached " << name;
    analytic = analytic.contiguous().view({-1});
    const at::Tensor base = inputs.at(name).contiguous();
    ASSERT_LE(base.numel(), 400) << "keep gradient cases small";
    for (int64_t j = 0; j < base.numel(); ++j) {
      std::map<std::string, at::Tensor> plus = inputs, minus = inputs;
      plus[name] = base.clone();
      plus[name].view({-1})[j] += eps;
      minus[name] = base.clone();
      minus[name].view({-1})[j] -= eps;
      const double numeric =
          (LossOf(*e, plus, c.training) - LossOf(*e, minus, c.training)) / (2 * eps);
      const double got = analytic[j].item<double>();
      EXPECT_NEAR(got, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << "element " << j;
    }
  }
}

at::Tensor Randn(std::vector<int64_t> shape) { return at::randn(shape, at::kDouble); }
// Values in [0.5, 1.5] with random signs: away from relu's and max's kinks and from zero.
at::Tensor AwayFromZero(std::vector<int64_t> shape) {
  at::Tensor mag = at::rand(shape, at::kDouble) + 0.5;
  return mag * (at::randint(0, 2, shape, at::kLong) * 2 - 1).to(at::kDouble);
}
at::Tensor Ids(std::vector<int64_t> values) { return at::tensor(values, at::kLong); }
std::string Concat(std::string a, const char* b) { return a.append(b); }
at::Tensor Doubles(std::vector<double> values) { return at::tensor(values, at::kDouble); }

using Attrs = graph::AttrMap;

class GradientTest : public ::testing::Test {
 protected:
  void SetUp() override { at::manual_seed(1234); }
  // Runs a one-op case: every input is a feed of its own name.
  void Run(const std::string& name, const std::string& type,
           std::vector<std::pair<std::string, std::vector<std::string>>> slots,
           std::map<std::string, at::Tensor> inputs, std::vector<std::string> check,
           Attrs attrs = {}, bool training = false) {
    GradCase c;
    c.name = name;
    c.inputs = std::move(inputs);
    c.check = std::move(check);
    c.training = training;
    const GradCase* cp = &c;
    c.build = [=](ProgramBuilder& b) {
      auto feed = FeedOf(*cp);
      std::set<std::string> fed;
      for (const auto& [slot, vars] : slots) {
        for (const std::string& v : vars) {
          if (fed.insert(v).second) feed(b, v);
        }
      }
      return b.Op(type, slots, attrs);
    };
    CheckGradients(c);
  }
};

TEST_F(GradientTest, SparseLookup) {
  Run("rows", "sparse_lookup", {{"Ids", {"ids"}}, {"W", {"w"}}},
      {{"ids", Ids({0, 2, 2, 3, 1, 0}).view({3, 2})}, {"w", Randn({4, 3})}}, {"w"});
  Run("bag sum weighted", "sparse_lookup",
      {{"Ids", {"ids"}}, {"W", {"w"}}, {"Offsets", {"off"}}, {"PerSampleWeights", {"psw"}}},
      {{"ids", Ids({0, 2, 2, 3, 1})},
       {"off", Ids({0, 2})},
       {"w", Randn({4, 3})},
       {"psw", Randn({5})}},
      {"w", "psw"});
  Run("bag mean", "sparse_lookup", {{"Ids", {"ids"}}, {"W", {"w"}}, {"Offsets", {"off"}}},
      {{"ids", Ids({0, 2, 2, 3, 1})}, {"off", Ids({0, 3})}, {"w", Randn({4, 3})}}, {"w"},
      {{"combiner", graph::StringAttr("mean")}});
}

TEST_F(GradientTest, Lookup) {
  Run("lookup", "lookup", {{"Ids", {"ids"}}, {"W", {"w"}}},
      {{"ids", Ids({4, 1, 1})}, {"w", Randn({5, 2})}}, {"w"});
}

TEST_F(GradientTest, Fc) {
  Run("fc tanh", "fc", {{"X", {"x"}}, {"W", {"w"}}, {"B", {"b"}}},
      {{"x", Randn({3, 4})}, {"w", Randn({4, 2})}, {"b", Randn({2})}}, {"x", "w", "b"},
      {{"activation", graph::StringAttr("tanh")}});
  Run("fc 3d sigmoid", "fc", {{"X", {"x"}}, {"W", {"w"}}, {"B", {"b"}}},
      {{"x", Randn({2, 3, 4})}, {"w", Randn({4, 2})}, {"b", Randn({2})}}, {"x", "w", "b"},
      {{"activation", graph::StringAttr("sigmoid")}});
  Run("fc relu no bias", "fc", {{"X", {"x"}}, {"W", {"w"}}},
      {{"x", AwayFromZero({3, 1})}, {"w", AwayFromZero({1, 2})}}, {"x", "w"},
      {{"activation", graph::StringAttr("relu")}});
}

TEST_F(GradientTest, Matmul) {
  Run("batched transpose_y", "matmul", {{"X", {"x"}}, {"Y", {"y"}}},
      {{"x", Randn({2, 3, 4})}, {"y", Randn({2, 5, 4})}}, {"x", "y"},
      {{"transpose_y", graph::BoolAttr(true)}});
  Run("transpose_x", "matmul", {{"X", {"x"}}, {"Y", {"y"}}},
      {{"x", Randn({4, 3})}, {"y", Randn({4, 2})}}, {"x", "y"},
      {{"transpose_x", graph::BoolAttr(true)}});
}

TEST_F(GradientTest, ElementwiseWithBroadcast) {
  for (const char* op : {"add", "sub", "mul"}) {
    Run(op, op, {{"X", {"x"}}, {"Y", {"y"}}}, {{"x", Randn({3, 4})}, {"y", Randn({4})}},
        {"x", "y"});
  }
  Run("div", "div", {{"X", {"x"}}, {"Y", {"y"}}},
      {{"x", Randn({3, 4})}, {"y", AwayFromZero({3, 1})}}, {"x", "y"});
  Run("scale", "scale", {{"X", {"x"}}}, {{"x", Randn({3, 2})}}, {"x"},
      {{"scale", graph::FloatAttr(-1.5f)}, {"bias", graph::FloatAttr(0.25f)}});
}

TEST_F(GradientTest, Activations) {
  Run("relu", "relu", {{"X", {"x"}}}, {{"x", AwayFromZero({3, 4})}}, {"x"});
  for (const char* op : {"sigmoid", "tanh", "gelu", "softmax"}) {
    Run(op, op, {{"X", {"x"}}}, {{"x", Randn({3, 4})}}, {"x"});
  }
  Run("softmax axis 0", "softmax", {{"X", {"x"}}}, {{"x", Randn({3, 4})}}, {"x"},
      {{"axis", graph::IntAttr(0)}});
}

TEST_F(GradientTest, ShapeOps) {
  Run("concat", "concat", {{"X", {"a", "b"}}}, {{"a", Randn({2, 3})}, {"b", Randn({2, 2})}},
      {"a", "b"}, {{"axis", graph::IntAttr(1)}});
  Run("split", "split", {{"X", {"x"}}}, {{"x", Randn({2, 5})}}, {"x"},
      {{"axis", graph::IntAttr(1)}, {"sections", graph::IntsAttr({2, 3})}});
  Run("reshape", "reshape", {{"X", {"x"}}}, {{"x", Randn({2, 6})}}, {"x"},
      {{"shape", graph::IntsAttr({-1, 3})}});
  Run("flatten", "flatten", {{"X", {"x"}}}, {{"x", Randn({2, 3, 2})}}, {"x"},
      {{"start_axis", graph::IntAttr(1)}});
  Run("reduce_sum keep", "reduce_sum", {{"X", {"x"}}}, {{"x", Randn({2, 3, 2})}}, {"x"},
      {{"axes", graph::IntsAttr({1})}, {"keep_dim", graph::BoolAttr(true)}});
  Run("reduce_mean all", "reduce_mean", {{"X", {"x"}}}, {{"x", Randn({2, 3})}}, {"x"});
  Run("gather", "gather", {{"X", {"x"}}, {"Index", {"i"}}},
      {{"x", Randn({4, 3})}, {"i", Ids({3, 0, 3, 1, 2})}}, {"x"});
  Run("gather axis 1", "gather", {{"X", {"x"}}, {"Index", {"i"}}},
      {{"x", Randn({2, 4})}, {"i", Ids({1, 1, 3})}}, {"x"}, {{"axis", graph::IntAttr(1)}});
  Run("scatter_add", "scatter_add", {{"X", {"x"}}, {"Index", {"i"}}, {"Updates", {"u"}}},
      {{"x", Randn({4, 3})}, {"i", Ids({2, 0, 2})}, {"u", Randn({3, 3})}}, {"x", "u"});
}

TEST_F(GradientTest, SegmentSoftmaxAndLeakyRelu) {
  // Segments 0 and 2 have several rows, 1 one row, 3 none (ids need not be dense).
  Run("segment_softmax [E]", "segment_softmax", {{"X", {"x"}}, {"Segment", {"s"}}},
      {{"x", Randn({6})}, {"s", Ids({0, 2, 0, 1, 2, 4})}}, {"x"});
  Run("segment_softmax [E, H]", "segment_softmax", {{"X", {"x"}}, {"Segment", {"s"}}},
      {{"x", Randn({5, 3}) * 3}, {"s", Ids({1, 1, 0, 1, 0})}}, {"x"});
  // Two graphs (nodes 0-2 and 3-4) as one block-diagonal COO matrix, with a repeated entry.
  Run("sparse_adj_matmul", "sparse_adj_matmul",
      {{"X", {"x"}}, {"Row", {"r"}}, {"Col", {"c"}}, {"Value", {"v"}}},
      {{"x", Randn({5, 3})},
       {"r", Ids({0, 1, 1, 2, 3, 4, 1})},
       {"c", Ids({1, 0, 2, 2, 4, 3, 0})},
       {"v", Randn({7})}},
      {"x", "v"});
  Run("leaky_relu", "leaky_relu", {{"X", {"x"}}}, {{"x", AwayFromZero({3, 4})}}, {"x"},
      {{"alpha", graph::FloatAttr(0.1f)}});
}

TEST_F(GradientTest, Conv2dAndPool2d) {
  Run("conv2d tanh", "conv2d", {{"X", {"x"}}, {"W", {"w"}}, {"B", {"b"}}},
      {{"x", Randn({2, 2, 5, 4})}, {"w", Randn({3, 2, 3, 2})}, {"b", Randn({3})}}, {"x", "w", "b"},
      {{"activation", graph::StringAttr("tanh")}});
  Run("conv2d stride pad no bias", "conv2d", {{"X", {"x"}}, {"W", {"w"}}},
      {{"x", Randn({1, 1, 5, 5})}, {"w", Randn({2, 1, 3, 3})}}, {"x", "w"},
      {{"strides", graph::IntsAttr({2})}, {"paddings", graph::IntsAttr({1, 1})}});
  // Distinct values, so every window has one clear maximum (no tie at a kink).
  const at::Tensor distinct =
      (at::randperm(2 * 3 * 4 * 4, at::kLong).to(at::kDouble) * 0.1).view({2, 3, 4, 4});
  Run("pool2d max", "pool2d", {{"X", {"x"}}}, {{"x", distinct}}, {"x"});
  Run("pool2d avg stride 1", "pool2d", {{"X", {"x"}}}, {{"x", Randn({1, 2, 4, 5})}}, {"x"},
      {{"pool", graph::StringAttr("avg")},
       {"kernel", graph::IntsAttr({2, 3})},
       {"strides", graph::IntsAttr({1})}});
}

TEST_F(GradientTest, SequencePool) {
  const at::Tensor mask = Doubles({1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}).view({3, 4});
  for (const char* pool : {"sum", "mean", "max", "last"}) {
    Run(Concat("mask ", pool), "sequence_pool", {{"X", {"x"}}, {"Mask", {"m"}}},
        {{"x", Randn({3, 4, 2})}, {"m", mask}}, {"x"}, {{"pool", graph::StringAttr(pool)}});
    Run(Concat("lengths ", pool), "sequence_pool", {{"X", {"x"}}, {"Lengths", {"l"}}},
        {{"x", Randn({3, 4, 2})}, {"l", Ids({2, 4, 1})}}, {"x"},
        {{"pool", graph::StringAttr(pool)}});
    Run(Concat("full ", pool), "sequence_pool", {{"X", {"x"}}}, {{"x", Randn({2, 3, 2})}}, {"x"},
        {{"pool", graph::StringAttr(pool)}});
  }
}

TEST_F(GradientTest, Losses) {
  Run("softmax_cross_entropy", "softmax_cross_entropy", {{"Logits", {"z"}}, {"Label", {"y"}}},
      {{"z", Randn({4, 3})}, {"y", Ids({0, 2, 1, 2})}}, {"z"});
  Run("sigmoid_bce", "sigmoid_bce", {{"Logits", {"z"}}, {"Label", {"y"}}},
      {{"z", Randn({4, 1}) * 3}, {"y", Doubles({0, 1, 1, 0.3}).view({4, 1})}}, {"z"});
}

TEST_F(GradientTest, LayerNormAndDropout) {
  Run("layer_norm", "layer_norm", {{"X", {"x"}}, {"Scale", {"g"}}, {"Bias", {"b"}}},
      {{"x", Randn({3, 4})}, {"g", Randn({4})}, {"b", Randn({4})}}, {"x", "g", "b"},
      {{"epsilon", graph::FloatAttr(1e-5f)}});
  // Training with a fixed seed and step: the mask is the same in every evaluation.
  Run("dropout training", "dropout", {{"X", {"x"}}}, {{"x", Randn({4, 5})}}, {"x"},
      {{"p", graph::FloatAttr(0.4f)}}, /*training=*/true);
  Run("dropout eval", "dropout", {{"X", {"x"}}}, {{"x", Randn({4, 5})}}, {"x"},
      {{"p", graph::FloatAttr(0.4f)}});
}

TEST_F(GradientTest, RecurrentCells) {
  Run("gru_cell", "gru_cell",
      {{"X", {"x"}}, {"H", {"h"}}, {"Wx", {"wx"}}, {"Wh", {"wh"}}, {"Bx", {"bx"}}, {"Bh", {"bh"}}},
      {{"x", Randn({2, 3})},
       {"h", Randn({2, 4})},
       {"wx", Randn({3, 12})},
       {"wh", Randn({4, 12})},
       {"bx", Randn({12})},
       {"bh", Randn({12})}},
      {"x", "h", "wx", "wh", "bx", "bh"});
  Run("lstm_cell", "lstm_cell",
      {{"X", {"x"}}, {"H", {"h"}}, {"C", {"c"}}, {"Wx", {"wx"}}, {"Wh", {"wh"}}, {"B", {"b"}}},
      {{"x", Randn({2, 3})},
       {"h", Randn({2, 4})},
       {"c", Randn({2, 4})},
       {"wx", Randn({3, 16})},
       {"wh", Randn({4, 16})},
       {"b", Randn({16})}},
      {"x", "h", "c", "wx", "wh", "b"});
}

TEST_F(GradientTest, Attention) {
  const at::Tensor mask = Doubles({1, 1, 1, 0, 0, 1, 0, 1, 1, 1}).view({2, 5});
  Run("masked", "attention", {{"Q", {"q"}}, {"K", {"k"}}, {"V", {"v"}}, {"Mask", {"m"}}},
      {{"q", Randn({2, 3, 4})}, {"k", Randn({2, 5, 4})}, {"v", Randn({2, 5, 3})}, {"m", mask}},
      {"q", "k", "v"});
  // Query 0 of batch 0 attends to nothing: zeros and zero gradients, not NaN.
  at::Tensor mask3 = at::ones({2, 3, 5}, at::kDouble);
  mask3[0][0].zero_();
  Run("fully masked row", "attention", {{"Q", {"q"}}, {"K", {"k"}}, {"V", {"v"}}, {"Mask", {"m"}}},
      {{"q", Randn({2, 3, 4})}, {"k", Randn({2, 5, 4})}, {"v", Randn({2, 5, 3})}, {"m", mask3}},
      {"q", "k", "v"});
  Run("unmasked", "attention", {{"Q", {"q"}}, {"K", {"k"}}, {"V", {"v"}}},
      {{"q", Randn({1, 2, 3})}, {"k", Randn({1, 4, 3})}, {"v", Randn({1, 4, 2})}}, {"q", "k", "v"});
}

}  // namespace
}  // namespace colony::exec

namespace colony::exec {
namespace {

// recurrent + rnn_start + rnn_end (+ gru_cell) by finite differences: a skip-GRU over 4 steps
// where step 1 skips every row, step 2 runs every row and the others some rows.
TEST_F(GradientTest, RecurrentWithSkippedSpans) {
  GradCase c;
  c.name = "skip-gru";
  c.inputs = {{"seq", Randn({3, 4, 2})},
              {"mask", Doubles({1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1}).view({3, 4})},
              {"h0", Randn({3, 2})},
              {"wx", Randn({2, 6})},
              {"wh", Randn({2, 6})}};
  c.check = {"seq", "h0", "wx", "wh"};
  const GradCase* cp = &c;
  c.build = [cp](ProgramBuilder& b) -> std::vector<std::string> {
    auto feed = FeedOf(*cp);
    const std::string seq = feed(b, "seq"), mask = feed(b, "mask"), h0 = feed(b, "h0");
    const std::string wx = feed(b, "wx"), wh = feed(b, "wh");
    const int block = b.BeginBlock();
    const std::string x_t = b.Var("x_t", graph::FLOAT64, {3, 2});
    const std::string m_t = b.Var("m_t", graph::FLOAT64, {3});
    const std::string h_prev = b.Var("h_prev", graph::FLOAT64, {3, 2});
    const std::string valid =
        b.Op1("rnn_start", {{"Cond", {m_t}}},
              {{"condition", graph::StringAttr("greater")}, {"threshold", graph::FloatAttr(0.5f)}});
    const std::string h_new =
        b.Op1("gru_cell", {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}});
    const std::string h =
        b.Op1("rnn_end", {{"X", {h_new}}, {"Skip", {h_prev}}, {"Valid", {valid}}});
    b.EndBlock();
    return b.Op("recurrent", {{"X", {seq, mask}}, {"InitStates", {h0}}},
                {{"block", graph::BlockAttr(block)},
                 {"step_inputs", graph::StringsAttr({x_t, m_t})},
                 {"states", graph::StringsAttr({h_prev})},
                 {"state_updates", graph::StringsAttr({h})},
                 {"step_outputs", graph::StringsAttr({h})}});
  };
  CheckGradients(c);
}

}  // namespace
}  // namespace colony::exec
