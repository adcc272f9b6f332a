#include "colony/pipeline/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "colony/exec/executor.h"
#include "colony/graph/builder.h"
#include "colony/models/ctr_models.h"
#include "colony/models/mlp_model.h"
#include "colony/pipeline/mlp_batch.h"
#include "testing/status_matchers.h"

namespace colony::pipeline {
namespace {

using ::colony::models::BuildMlpModel;
using ::colony::models::MlpModel;
using ::colony::models::MlpModelOptions;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;
using TensorMap = std::map<std::string, at::Tensor>;

const MlpModelOptions kMlp{.input_dim = 6, .width = 8, .layers = 4, .skip = true};

// The unpipelined run: the whole program on the whole batch with the same parameters.
struct Reference {
  double loss = 0;
  TensorMap grads;
};

Reference Unpipelined(const graph::ProgramDesc& program, const TensorMap& params,
                      const TensorMap& batch) {
  auto e = exec::Executor::Create(program, {});
  EXPECT_TRUE(e.ok()) << e.status();
  exec::Scope scope;
  TensorMap leaves;
  for (const auto& [n, t] : params) {
    leaves[n] = t.detach().clone().requires_grad_(true);
    scope.Set(n, leaves[n]);
  }
  for (const auto& [n, t] : batch) scope.Set(n, t);
  Status s = (*e)->Forward(scope, /*training=*/true, 0);
  EXPECT_TRUE(s.ok()) << s;
  Reference r;
  r.loss = scope.Get(program.loss())->item<double>();
  s = (*e)->Backward(scope);
  EXPECT_TRUE(s.ok()) << s;
  for (const auto& [n, t] : leaves) r.grads[n] = t.grad();
  return r;
}

void ExpectClose(const TensorMap& got, const TensorMap& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [n, t] : want) {
    ASSERT_TRUE(got.count(n)) << n;
    EXPECT_TRUE(at::allclose(got.at(n), t, /*rtol=*/1e-4, /*atol=*/1e-5))
        << n << ": max diff " << (got.at(n) - t).abs().max().item<float>();
  }
}

struct Case {
  int stages;
  int micro;
  std::string schedule;
};

TEST(PipelineRunnerTest, GradientsAndLossEqualTheUnpipelinedRun) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  const TensorMap batch = MakeMlpBatch(kMlp, 18, 3);  // 18 rows: 4 uneven micro-batches.
  for (const Case& c : std::vector<Case>{{2, 1, "gpipe"},
                                         {2, 4, "gpipe"},
                                         {3, 1, "gpipe"},
                                         {3, 4, "gpipe"},
                                         {2, 4, "1f1b"},
                                         {3, 4, "1f1b"},
                                         {3, 1, "1f1b"}}) {
    SCOPED_TRACE(std::to_string(c.stages) + " stages, " + std::to_string(c.micro) + " " +
                 c.schedule);
    std::vector<std::string> cuts = {m.layer_outputs[1]};
    if (c.stages == 3) cuts = {m.layer_outputs[0], m.layer_outputs[2]};
    COLONY_ASSERT_OK_AND_ASSIGN(
        auto runner,
        PipelineRunner::Create(
            m.program,
            {.cut_vars = cuts, .micro_batches = c.micro, .schedule = c.schedule, .seed = 5}));
    const Reference want = Unpipelined(m.program, runner->Parameters(), batch);
    COLONY_ASSERT_OK_AND_ASSIGN(StepResult r, runner->ComputeGradients(batch));
    EXPECT_NEAR(r.loss, want.loss, 1e-5);
    ExpectClose(runner->Gradients(), want.grads);
    ASSERT_EQ(r.stages.size(), static_cast<size_t>(c.stages));
    for (int s = 0; s < c.stages; ++s) {
      const StageStats& st = r.stages[s];
      EXPECT_EQ(st.forwards, c.micro);
      EXPECT_EQ(st.backwards, c.micro);
      EXPECT_GT(st.busy_seconds, 0);
      EXPECT_EQ(st.max_live_micro_batches,
                c.schedule == "gpipe" ? c.micro : std::min(c.stages - s, c.micro))
          << "stage " << s;
    }
    // The schedule's idle slots (a forward one slot, a backward two): the theory exactly.
    EXPECT_DOUBLE_EQ(r.schedule_bubble_fraction, (c.stages - 1.0) / (c.micro + c.stages - 1.0));
    // The measured fraction is its definition over the stages' busy times (not asserted
    // against the theory: wall time depends on the host's load).
    double busy = 0;
    for (const StageStats& st : r.stages) busy += st.busy_seconds;
    EXPECT_NEAR(r.bubble_fraction, std::max(0.0, 1 - busy / (c.stages * r.wall_seconds)), 1e-12);
  }
}

TEST(PipelineRunnerTest, ParametersAfterSgdStepsEqualTheUnpipelinedRun) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  const float lr = 0.1f;
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto runner,
      PipelineRunner::Create(m.program, {.cut_vars = {m.layer_outputs[0], m.layer_outputs[2]},
                                         .micro_batches = 4,
                                         .schedule = "1f1b",
                                         .learning_rate = lr,
                                         .emulated_device_us_per_row = 2}));
  TensorMap params = runner->Parameters();
  for (int step = 0; step < 3; ++step) {
    const TensorMap batch = MakeMlpBatch(kMlp, 16, 10 + step);
    const Reference want = Unpipelined(m.program, params, batch);
    for (auto& [n, t] : params) t = t - lr * want.grads.at(n);
    COLONY_ASSERT_OK_AND_ASSIGN(StepResult r, runner->TrainStep(batch));
    EXPECT_NEAR(r.loss, want.loss, 1e-5);
  }
  ExpectClose(runner->Parameters(), params);
}

TEST(PipelineRunnerTest, AdamTrainsTheLossDown) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  COLONY_ASSERT_OK_AND_ASSIGN(auto runner,
                              PipelineRunner::Create(m.program, {.cut_vars = {m.layer_outputs[1]},
                                                                 .micro_batches = 2,
                                                                 .optimizer = "adam",
                                                                 .learning_rate = 0.01f}));
  const TensorMap batch = MakeMlpBatch(kMlp, 64, 1);
  COLONY_ASSERT_OK_AND_ASSIGN(StepResult first, runner->TrainStep(batch));
  StepResult last;
  for (int i = 0; i < 30; ++i) {
    COLONY_ASSERT_OK_AND_ASSIGN(last, runner->TrainStep(batch));
  }
  EXPECT_LT(last.loss, first.loss * 0.9);
}

// The zoo's CTR DNN: embeddings through sparse_lookup in the first section. The sparse
// tables are given as dense [vocab, dim] tensors (the runner keeps no parameter server).
TEST(PipelineRunnerTest, CtrDnnWithEmbeddingsMatchesTheUnpipelinedRun) {
  const models::CtrModelOptions o{
      .num_dense = 3, .num_slots = 2, .embedding_dim = 4, .hidden = {8, 8}};
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc program, models::BuildCtrModel(o));
  // Cut after the first fc op: the embeddings and first layer form stage 0.
  std::string cut;
  for (const graph::OpDesc& op : program.blocks(0).ops()) {
    if (op.type() == "fc") {
      cut = op.outputs(0).vars(0);
      break;
    }
  }
  ASSERT_FALSE(cut.empty());
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto runner, PipelineRunner::Create(program, {.cut_vars = {cut}, .micro_batches = 3}));
  const int64_t vocab = 10, rows = 12;
  at::manual_seed(4);
  int sparse_vars = 0;
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (!v.sparse()) continue;
    ++sparse_vars;
    COLONY_ASSERT_OK(runner->SetParameter(v.name(), at::randn({vocab, v.shape(1)}) * 0.1));
  }
  ASSERT_GT(sparse_vars, 0);
  const TensorMap batch = {{"dense", at::randn({rows, 3})},
                           {"sparse_ids", at::randint(0, vocab, {rows, 2}, at::kLong)},
                           {"label", at::randint(0, 2, {rows, 1}).to(at::kFloat)}};
  const Reference want = Unpipelined(program, runner->Parameters(), batch);
  COLONY_ASSERT_OK_AND_ASSIGN(StepResult r, runner->ComputeGradients(batch));
  EXPECT_NEAR(r.loss, want.loss, 1e-5);
  ExpectClose(runner->Gradients(), want.grads);
}

// A projection, a GRU as a `recurrent` op with its step block, and a logit on the final state,
// cut before and after the recurrent op: its step block goes with the middle section.
TEST(PipelineRunnerTest, RecurrentSectionMatchesTheUnpipelinedRun) {
  constexpr int64_t kT = 4, kI = 3, kH = 5;
  graph::ProgramBuilder b;
  const std::string seq = b.Feed("seq", graph::FLOAT32, {-1, kT, kI});
  const std::string label = b.Feed("label", graph::FLOAT32, {-1, 1});
  const std::string proj =
      b.Op1("fc", {{"X", {seq}}, {"W", {b.Parameter("proj.w", {kI, kI}, graph::XavierUniform())}}},
            {{"activation", graph::StringAttr("tanh")}});
  const std::string wx = b.Parameter("wx", {kI, 3 * kH}, graph::XavierUniform());
  const std::string wh = b.Parameter("wh", {kH, 3 * kH}, graph::XavierUniform());
  const std::string bx = b.Parameter("bx", {3 * kH}, graph::Zeros());
  const std::string bh = b.Parameter("bh", {3 * kH}, graph::Zeros());
  const std::string h0 = b.Feed("h0", graph::FLOAT32, {-1, kH});
  const int block = b.BeginBlock();
  const std::string x_t = b.Var("x_t", graph::FLOAT32, {-1, kI});
  const std::string h_prev = b.Var("h_prev", graph::FLOAT32, {-1, kH});
  const std::string h = b.Op1(
      "gru_cell",
      {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}, {"Bx", {bx}}, {"Bh", {bh}}});
  b.EndBlock();
  const std::vector<std::string> outs =
      b.Op("recurrent", {{"X", {proj}}, {"InitStates", {h0}}, {"Params", {wx, wh, bx, bh}}},
           {{"block", graph::BlockAttr(block)},
            {"step_inputs", graph::StringsAttr({x_t})},
            {"states", graph::StringsAttr({h_prev})},
            {"state_updates", graph::StringsAttr({h})},
            {"step_outputs", graph::StringsAttr({h})}});
  ASSERT_EQ(outs.size(), 2u);
  const std::string logit = b.Op1(
      "fc", {{"X", {outs[1]}}, {"W", {b.Parameter("out.w", {kH, 1}, graph::XavierUniform())}}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc program, b.Build());

  COLONY_ASSERT_OK_AND_ASSIGN(
      auto runner,
      PipelineRunner::Create(
          program, {.cut_vars = {proj, outs[1]}, .micro_batches = 3, .schedule = "1f1b"}));
  ASSERT_EQ(runner->sections().size(), 3u);
  EXPECT_EQ(runner->sections()[1].program.blocks(0).ops(0).type(), "recurrent");
  EXPECT_EQ(runner->sections()[1].params, (std::vector<std::string>{"bh", "bx", "wh", "wx"}));
  at::manual_seed(8);
  const TensorMap batch = {{"seq", at::randn({7, kT, kI})},
                           {"h0", at::zeros({7, kH})},
                           {"label", at::randint(0, 2, {7, 1}).to(at::kFloat)}};
  const Reference want = Unpipelined(program, runner->Parameters(), batch);
  COLONY_ASSERT_OK_AND_ASSIGN(StepResult r, runner->ComputeGradients(batch));
  EXPECT_NEAR(r.loss, want.loss, 1e-5);
  ExpectClose(runner->Gradients(), want.grads);
}

TEST(PipelineRunnerTest, BadOptionsAreInvalidArgumentNamingTheField) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  auto with = [](std::function<void(PipelineOptions&)> set) {
    PipelineOptions o;
    set(o);
    return o;
  };
  const std::vector<std::pair<PipelineOptions, std::string>> cases = {
      {with([](auto& o) { o.micro_batches = 0; }), "pipeline.micro_batches"},
      {with([](auto& o) { o.schedule = "zigzag"; }), "pipeline.schedule"},
      {with([](auto& o) { o.optimizer = "lbfgs"; }), "pipeline.optimizer"},
      {with([](auto& o) { o.learning_rate = 0; }), "pipeline.learning_rate"},
      {with([](auto& o) { o.threads_per_stage = -1; }), "pipeline.threads_per_stage"},
      {with([](auto& o) { o.emulated_device_us_per_row = -1; }),
       "pipeline.emulated_device_us_per_row"},
      {with([](auto& o) { o.cut_vars = {"x"}; }), "'x' is a feed"},
  };
  for (const auto& [options, message] : cases) {
    EXPECT_THAT(PipelineRunner::Create(m.program, options).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)));
  }
}

TEST(PipelineRunnerTest, BadBatchesAndMissingParametersAreRefused) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto runner,
      PipelineRunner::Create(m.program, {.cut_vars = {m.layer_outputs[1]}, .micro_batches = 4}));
  TensorMap batch = MakeMlpBatch(kMlp, 3, 1);
  EXPECT_THAT(runner->ComputeGradients(batch).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fewer than")));
  batch = MakeMlpBatch(kMlp, 8, 1);
  batch.erase("label");
  EXPECT_THAT(runner->ComputeGradients(batch).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("lacks feed 'label'")));
  batch = MakeMlpBatch(kMlp, 8, 1);
  batch["label"] = batch["label"].slice(0, 0, 6);
  EXPECT_THAT(runner->ComputeGradients(batch).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("6 rows")));
  EXPECT_THAT(runner->SetParameter("nope", at::zeros({1})),
              StatusIs(StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(runner->SetParameter("layer0.w", at::zeros({1})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("shape")));

  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc ctr,
                              models::BuildCtrModel({.num_dense = 3, .num_slots = 2}));
  COLONY_ASSERT_OK_AND_ASSIGN(auto ctr_runner, PipelineRunner::Create(ctr, {}));
  const TensorMap ctr_batch = {{"dense", at::randn({4, 3})},
                               {"sparse_ids", at::zeros({4, 2}, at::kLong)},
                               {"label", at::zeros({4, 1})}};
  EXPECT_THAT(ctr_runner->ComputeGradients(ctr_batch).status(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("has no value")));
}

TEST(PipelineRunnerTest, AFailingStageStopsThePipelineWithItsError) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel(kMlp));
  for (const std::string schedule : {"gpipe", "1f1b"}) {
    COLONY_ASSERT_OK_AND_ASSIGN(
        auto runner,
        PipelineRunner::Create(m.program, {.cut_vars = {m.layer_outputs[0], m.layer_outputs[2]},
                                           .micro_batches = 4,
                                           .schedule = schedule}));
    TensorMap batch = MakeMlpBatch(kMlp, 8, 1);
    batch["label"] = at::zeros({8, 3});  // The last stage's loss op fails on every micro-batch.
    const Status s = runner->ComputeGradients(batch).status();
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.code(), StatusCode::kAborted) << s;
    // The runner is usable afterwards.
    COLONY_EXPECT_OK(runner->ComputeGradients(MakeMlpBatch(kMlp, 8, 1)).status());
  }
}

}  // namespace
}  // namespace colony::pipeline
