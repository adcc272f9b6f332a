#include "colony/exec/executor.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::exec {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

// x [-1, 2] -> fc(8, relu) -> fc(1) -> sigmoid_bce(label); fetches the probability.
graph::ProgramDesc Mlp() {
  graph::ProgramBuilder b;
  const std::string x = b.Feed("x", graph::FLOAT32, {-1, 2});
  const std::string label = b.Feed("label", graph::FLOAT32, {-1, 1});
  const std::string w1 = b.Parameter("w1", {2, 8}, graph::XavierUniform());
  const std::string b1 = b.Parameter("b1", {8}, graph::Zeros());
  const std::string w2 = b.Parameter("w2", {8, 1}, graph::XavierUniform());
  const std::string b2 = b.Parameter("b2", {1}, graph::Zeros());
  const std::string h = b.Op1("fc", {{"X", {x}}, {"W", {w1}}, {"B", {b1}}},
                              {{"activation", graph::StringAttr("relu")}});
  const std::string logit = b.Op1("fc", {{"X", {h}}, {"W", {w2}}, {"B", {b2}}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  b.AddFetch(b.Op1("sigmoid", {{"X", {logit}}}));
  return *b.Build();
}

TEST(ExecutorTest, MlpLearnsSeparableToyProblem) {
  const graph::ProgramDesc program = Mlp();
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {.seed = 1}));
  std::map<std::string, at::Tensor> params;
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (!v.persistable()) continue;
    COLONY_ASSERT_OK_AND_ASSIGN(params[v.name()], MakeInitialValue(v, 42));
  }
  at::manual_seed(0);
  const at::Tensor x = at::randn({256, 2});
  const at::Tensor label =
      (x.select(1, 0) - 0.5 * x.select(1, 1)).gt(0).to(at::kFloat).view({-1, 1});
  Scope scope;
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    scope.Clear();
    scope.Set("x", x);
    scope.Set("label", label);
    for (auto& [name, p] : params) scope.Set(name, p.detach().requires_grad_(true));
    COLONY_ASSERT_OK(executor->Forward(scope, /*training=*/true, step));
    COLONY_ASSERT_OK(executor->Backward(scope));
    const double loss = scope.Get(program.loss())->item<double>();
    if (step == 0) first = loss;
    last = loss;
    at::NoGradGuard no_grad;
    for (auto& [name, p] : params) {
      at::Tensor grad = scope.Get(name)->grad();
      ASSERT_TRUE(grad.defined()) << name;
      p = p - 0.5 * grad;
    }
  }
  EXPECT_LT(last, first / 5) << "first " << first << " last " << last;
  at::Tensor prob = *scope.Get(program.fetches(0));
  const double accuracy =
      prob.gt(0.5).to(at::kFloat).eq(label).to(at::kFloat).mean().item<double>();
  EXPECT_GT(accuracy, 0.95);
  EXPECT_EQ(executor->stats().Runs("fc"), 600);
  EXPECT_EQ(executor->stats().Runs("sigmoid_bce"), 300);
  EXPECT_EQ(executor->stats().Runs("dropout"), 0);
  EXPECT_EQ(executor->stats().forward_calls, 300);
  EXPECT_EQ(executor->stats().backward_calls, 300);
}

graph::ProgramDesc DropoutProgram() {
  graph::ProgramBuilder b;
  const std::string x = b.Feed("x", graph::FLOAT32, {-1, 64});
  b.AddFetch(b.Op1("dropout", {{"X", {x}}}, {{"p", graph::FloatAttr(0.5f)}}));
  return *b.Build();
}

at::Tensor RunDropout(uint64_t seed, bool training, int64_t step) {
  auto executor = Executor::Create(DropoutProgram(), {.seed = seed});
  EXPECT_TRUE(executor.ok());
  Scope scope;
  scope.Set("x", at::ones({8, 64}));
  EXPECT_TRUE((*executor)->Forward(scope, training, step).ok());
  return *scope.Get((*executor)->program().fetches(0));
}

TEST(ExecutorTest, DropoutIsDeterministicPerSeedAndStep) {
  const at::Tensor a = RunDropout(7, true, 3);
  EXPECT_TRUE(at::equal(a, RunDropout(7, true, 3)));
  EXPECT_FALSE(at::equal(a, RunDropout(7, true, 4)));
  EXPECT_FALSE(at::equal(a, RunDropout(8, true, 3)));
  // Kept units are scaled by 1 / (1 - p); about half are dropped.
  EXPECT_TRUE(at::logical_or(a.eq(0), a.eq(2)).all().item<bool>());
  const double kept = a.ne(0).to(at::kFloat).mean().item<double>();
  EXPECT_GT(kept, 0.4);
  EXPECT_LT(kept, 0.6);
  EXPECT_TRUE(at::equal(RunDropout(7, false, 3), at::ones({8, 64})));
}

TEST(ExecutorTest, MissingVarIsNotFoundNamingVarAndOp) {
  const graph::ProgramDesc program = Mlp();
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {}));
  Scope scope;
  scope.Set("x", at::ones({2, 2}));
  EXPECT_THAT(executor->Forward(scope, false, 0),
              StatusIs(StatusCode::kNotFound, HasSubstr("var 'w1' read by op 0 ('fc')")));
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (v.persistable()) scope.Set(v.name(), *MakeInitialValue(v, 0));
  }
  EXPECT_THAT(
      executor->Forward(scope, false, 0),
      StatusIs(StatusCode::kNotFound, HasSubstr("var 'label' read by op 2 ('sigmoid_bce')")));
}

TEST(ExecutorTest, TorchErrorIsInvalidArgumentNamingOp) {
  const graph::ProgramDesc program = Mlp();
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {}));
  Scope scope;
  scope.Set("x", at::ones({2, 3}));  // The program says [-1, 2].
  scope.Set("label", at::ones({2, 1}));
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (v.persistable()) scope.Set(v.name(), *MakeInitialValue(v, 0));
  }
  EXPECT_THAT(executor->Forward(scope, false, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("op 0 ('fc') failed: ")));
}

TEST(ExecutorTest, CreateRejectsUnknownKernelAndBadOptions) {
  KernelRegistry empty;
  EXPECT_THAT(Executor::Create(Mlp(), {}, empty),
              StatusIs(StatusCode::kNotFound, HasSubstr("op 0 ('fc')")));
  EXPECT_THAT(Executor::Create(Mlp(), {.num_threads = -1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("num_threads")));
  graph::ProgramDesc broken = Mlp();
  broken.set_loss("nope");
  EXPECT_THAT(Executor::Create(broken, {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("loss 'nope'")));
}

TEST(ExecutorTest, BackwardNeedsALossThatRequiresGrad) {
  graph::ProgramDesc program = Mlp();
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(program, {}));
  Scope scope;
  EXPECT_THAT(executor->Backward(scope),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("run Forward")));
  scope.Set("x", at::ones({2, 2}));
  scope.Set("label", at::ones({2, 1}));
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (v.persistable()) scope.Set(v.name(), *MakeInitialValue(v, 0));  // No requires_grad.
  }
  COLONY_ASSERT_OK(executor->Forward(scope, true, 0));
  EXPECT_THAT(executor->Backward(scope),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("does not require grad")));
  graph::ProgramDesc inference = Mlp();
  inference.clear_loss();
  COLONY_ASSERT_OK_AND_ASSIGN(auto infer, Executor::Create(inference, {}));
  EXPECT_THAT(infer->Backward(scope),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no loss")));
}

TEST(ExecutorTest, ScopeBasics) {
  Scope scope;
  EXPECT_FALSE(scope.Has("a"));
  EXPECT_THAT(scope.Get("a"), StatusIs(StatusCode::kNotFound, HasSubstr("'a'")));
  scope.Set("b", at::ones({1}));
  scope.Set("a", at::zeros({2}));
  EXPECT_TRUE(scope.Has("a"));
  EXPECT_EQ(scope.Names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scope.Get("a")->numel(), 2);
  scope.Clear();
  EXPECT_FALSE(scope.Has("b"));
}

TEST(ExecutorTest, KernelRegistryCoversEveryOpButControlFlow) {
  // recurrent, rnn_start and rnn_end are run by the Executor itself.
  std::vector<std::string> ops = graph::OpRegistry::Global().Names();
  for (const char* control : {"recurrent", "rnn_start", "rnn_end"}) {
    ops.erase(std::find(ops.begin(), ops.end(), control));
  }
  EXPECT_EQ(KernelRegistry::Global().Names(), ops);
  KernelRegistry r;
  COLONY_ASSERT_OK(RegisterStandardKernels(r));
  EXPECT_THAT(RegisterStandardKernels(r),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("already")));
}

}  // namespace
}  // namespace colony::exec

namespace colony::exec {
namespace {

TEST(ExecutorTest, OutOfRangeIdsAreInvalidArgumentNotACrash) {
  graph::ProgramBuilder b;
  const std::string ids = b.Feed("ids", graph::INT64, {-1, 2});
  const std::string rows = b.SparseParameter("emb", 3, graph::Zeros());
  b.AddFetch(b.Op1("sparse_lookup", {{"Ids", {ids}}, {"W", {rows}}}));
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, b.Build());
  COLONY_ASSERT_OK_AND_ASSIGN(auto executor, Executor::Create(p, {}));
  Scope scope;
  scope.Set("ids", at::tensor(std::vector<int64_t>{0, 1, 2, 5}, at::kLong).view({2, 2}));
  scope.Set("emb", at::zeros({4, 3}));  // Row 5 does not exist.
  EXPECT_THAT(executor->Forward(scope, false, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("op 0 ('sparse_lookup') failed")));
  scope.Set("ids", at::tensor(std::vector<int64_t>{0, 1, 2, 3}, at::kLong).view({2, 2}));
  COLONY_ASSERT_OK(executor->Forward(scope, false, 0));
  EXPECT_EQ(scope.Get(p.fetches(0))->sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
}

}  // namespace
}  // namespace colony::exec
