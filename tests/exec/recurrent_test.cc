// recurrent with rnn_start/rnn_end skipping, against a hand-written LibTorch loop.
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/exec/executor.h"
#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::exec {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t kB = 4, kT = 5, kI = 3, kH = 2;

// Skip-GRU: h_t = mask[:, t] != 0 ? gru(x_t, h_{t-1}) : h_{t-1}; loss = sum(Out * R) +
// sum(Final * R2).
graph::ProgramDesc SkipGru(bool with_skip) {
  graph::ProgramBuilder b;
  const std::string seq = b.Feed("seq", graph::FLOAT64, {-1, kT, kI});
  const std::string mask = b.Feed("mask", graph::FLOAT64, {-1, kT});
  const std::string h0 = b.Feed("h0", graph::FLOAT64, {-1, kH});
  const std::string r = b.Feed("r", graph::FLOAT64, {-1, kT, kH});
  const std::string r2 = b.Feed("r2", graph::FLOAT64, {-1, kH});
  const std::string wx = b.Parameter("wx", {kI, 3 * kH}, graph::XavierUniform());
  const std::string wh = b.Parameter("wh", {kH, 3 * kH}, graph::XavierUniform());
  const std::string bx = b.Parameter("bx", {3 * kH}, graph::Zeros());
  const std::string bh = b.Parameter("bh", {3 * kH}, graph::Zeros());
  const int block = b.BeginBlock();
  const std::string x_t = b.Var("x_t", graph::FLOAT64, {-1, kI});
  const std::string m_t = b.Var("m_t", graph::FLOAT64, {-1});
  const std::string h_prev = b.Var("h_prev", graph::FLOAT64, {-1, kH});
  std::string h;
  if (with_skip) {
    const std::string valid = b.Op1("rnn_start", {{"Cond", {m_t}}});
    const std::string h_new = b.Op1(
        "gru_cell",
        {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}, {"Bx", {bx}}, {"Bh", {bh}}});
    h = b.Op1("rnn_end", {{"X", {h_new}}, {"Skip", {h_prev}}, {"Valid", {valid}}});
  } else {
    h = b.Op1(
        "gru_cell",
        {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}, {"Bx", {bx}}, {"Bh", {bh}}});
  }
  b.EndBlock();
  const std::vector<std::string> outs =
      b.Op("recurrent", {{"X", {seq, mask}}, {"InitStates", {h0}}, {"Params", {wx, wh, bx, bh}}},
           {{"block", graph::BlockAttr(block)},
            {"step_inputs", graph::StringsAttr({x_t, m_t})},
            {"states", graph::StringsAttr({h_prev})},
            {"state_updates", graph::StringsAttr({h})},
            {"step_outputs", graph::StringsAttr({h})}});
  if (outs.size() == 2) {
    const std::string a =
        b.Op1("reduce_sum", {{"X", {b.Op1("mul", {{"X", {outs[0]}}, {"Y", {r}}})}}});
    const std::string c =
        b.Op1("reduce_sum", {{"X", {b.Op1("mul", {{"X", {outs[1]}}, {"Y", {r2}}})}}});
    b.SetLoss(b.Op1("add", {{"X", {a}}, {"Y", {c}}}));
    b.AddFetch(outs[0]);
    b.AddFetch(outs[1]);
  }
  auto p = b.Build();
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : graph::ProgramDesc();
}

struct Inputs {
  std::map<std::string, at::Tensor> t;
};

Inputs MakeInputs() {
  at::manual_seed(3);
  Inputs in;
  in.t["seq"] = at::randn({kB, kT, kI}, at::kDouble);
  // Step 1 skips every row, step 3 runs every row, the others some.
  in.t["mask"] = at::tensor(std::vector<double>{1, 0, 1, 1, 0,  //
                                                0, 0, 1, 1, 1,  //
                                                1, 0, 0, 1, 0,  //
                                                1, 0, 1, 1, 1},
                            at::kDouble)
                     .view({kB, kT});
  in.t["h0"] = at::randn({kB, kH}, at::kDouble);
  in.t["r"] = at::randn({kB, kT, kH}, at::kDouble);
  in.t["r2"] = at::randn({kB, kH}, at::kDouble);
  in.t["wx"] = at::randn({kI, 3 * kH}, at::kDouble);
  in.t["wh"] = at::randn({kH, 3 * kH}, at::kDouble);
  in.t["bx"] = at::randn({3 * kH}, at::kDouble);
  in.t["bh"] = at::randn({3 * kH}, at::kDouble);
  return in;
}

const std::vector<std::string> kGradVars = {"seq", "h0", "wx", "wh", "bx", "bh"};

std::map<std::string, at::Tensor> Leaves(const Inputs& in) {
  std::map<std::string, at::Tensor> leaves;
  for (const auto& [n, t] : in.t) {
    leaves[n] = t.clone();
    if (std::find(kGradVars.begin(), kGradVars.end(), n) != kGradVars.end()) {
      leaves[n].requires_grad_(true);
    }
  }
  return leaves;
}

TEST(RecurrentTest, SkipGruMatchesHandWrittenLoopInOutputsAndGradients) {
  const Inputs in = MakeInputs();
  // Reference: a plain LibTorch loop.
  auto ref = Leaves(in);
  at::Tensor h = ref["h0"];
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < kT; ++t) {
    at::Tensor h_new = at::gru_cell(ref["seq"].select(1, t), h, ref["wx"].t(), ref["wh"].t(),
                                    ref["bx"], ref["bh"]);
    at::Tensor valid = ref["mask"].select(1, t).ne(0).unsqueeze(1);
    h = at::where(valid, h_new, h);
    steps.push_back(h);
  }
  at::Tensor ref_out = at::stack(steps, 1);
  ((ref_out * ref["r"]).sum() + (h * ref["r2"]).sum()).backward();

  const graph::ProgramDesc program = SkipGru(true);
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {}));
  auto leaves = Leaves(in);
  Scope scope;
  for (const auto& [n, t] : leaves) scope.Set(n, t);
  COLONY_ASSERT_OK(executor->Forward(scope, true, 0));
  COLONY_ASSERT_OK(executor->Backward(scope));
  EXPECT_TRUE(at::allclose(*scope.Get(program.fetches(0)), ref_out, 1e-12, 1e-12));
  EXPECT_TRUE(at::allclose(*scope.Get(program.fetches(1)), h, 1e-12, 1e-12));
  for (const std::string& n : kGradVars) {
    SCOPED_TRACE(n);
    ASSERT_TRUE(leaves[n].grad().defined());
    EXPECT_TRUE(at::allclose(leaves[n].grad(), ref[n].grad(), 1e-10, 1e-12))
        << leaves[n].grad() << ref[n].grad();
  }
  // Step 1 had no valid row: gru_cell ran 4 of 5 steps; 8 of 20 elements skipped the span.
  const ExecStats& stats = executor->stats();
  EXPECT_EQ(stats.Runs("gru_cell"), kT - 1);
  EXPECT_EQ(stats.Skips("gru_cell"), 1);
  EXPECT_EQ(stats.Runs("rnn_start"), kT);
  EXPECT_EQ(stats.Runs("rnn_end"), kT);
  EXPECT_EQ(stats.Runs("recurrent"), 1);
  EXPECT_EQ(stats.span_rows_skipped, 8);
}

TEST(RecurrentTest, WithoutSkipEqualsPlainGru) {
  const Inputs in = MakeInputs();
  const graph::ProgramDesc program = SkipGru(false);
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {}));
  Scope scope;
  for (const auto& [n, t] : in.t) scope.Set(n, t);
  COLONY_ASSERT_OK(executor->Forward(scope, false, 0));
  at::Tensor h = in.t.at("h0");
  for (int64_t t = 0; t < kT; ++t) {
    h = at::gru_cell(in.t.at("seq").select(1, t), h, in.t.at("wx").t(), in.t.at("wh").t(),
                     in.t.at("bx"), in.t.at("bh"));
  }
  EXPECT_TRUE(at::allclose(*scope.Get(program.fetches(1)), h, 1e-12, 1e-12));
  EXPECT_EQ(executor->stats().Runs("gru_cell"), kT);
}

TEST(RecurrentTest, SpansMustBeWellFormed) {
  {
    graph::ProgramBuilder b;
    const std::string m = b.Feed("m", graph::FLOAT32, {-1});
    b.Op1("rnn_start", {{"Cond", {m}}});
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, b.Build());
    EXPECT_THAT(Executor::Create(p, {}),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("op 0 ('rnn_start') must be inside a recurrent step block")));
  }
  {
    graph::ProgramDesc p = SkipGru(true);
    p.mutable_blocks(1)->mutable_ops()->RemoveLast();  // Drop rnn_end.
    // The recurrent op's state update var is still declared, so the program validates.
    EXPECT_THAT(Executor::Create(p, {}),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("has no rnn_end after it")));
  }
}

}  // namespace
}  // namespace colony::exec
