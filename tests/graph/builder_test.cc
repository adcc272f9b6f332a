#include "colony/graph/builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/graph/program.h"
#include "testing/status_matchers.h"

namespace colony::graph {
namespace {

using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<int64_t> Dims(const ProgramDesc& p, int block, const std::string& name) {
  const VarDesc* v = FindVar(p, block, name);
  if (v == nullptr) return {-999};
  return {v->shape().begin(), v->shape().end()};
}

TEST(ProgramBuilderTest, BuildsCtrStyleProgramWithInferredShapes) {
  ProgramBuilder b;
  const std::string ids = b.Feed("ids", INT64, {-1, 3});
  const std::string dense = b.Feed("dense", FLOAT32, {-1, 2});
  const std::string label = b.Feed("label", FLOAT32, {-1, 1});
  const std::string emb = b.SparseParameter("emb", 4, Uniform(-0.1f, 0.1f));
  const std::string e = b.Op1("sparse_lookup", {{"Ids", {ids}}, {"W", {emb}}});
  EXPECT_EQ(e, "sparse_lookup_0.Out");
  const std::string flat = b.Op1("reshape", {{"X", {e}}}, {{"shape", IntsAttr({-1, 12})}});
  const std::string x = b.Op1("concat", {{"X", {flat, dense}}}, {{"axis", IntAttr(1)}});
  const std::string w = b.Parameter("w", {14, 1}, XavierUniform());
  const std::string logit = b.Op1("fc", {{"X", {x}}, {"W", {w}}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  b.AddFetch(b.Op1("sigmoid", {{"X", {logit}}}));
  COLONY_ASSERT_OK_AND_ASSIGN(ProgramDesc p, b.Build());
  EXPECT_THAT(p.feeds(), ElementsAre("ids", "dense", "label"));
  EXPECT_EQ(p.loss(), "sigmoid_bce_4.Out");
  EXPECT_THAT(p.fetches(), ElementsAre("sigmoid_5.Out"));
  EXPECT_EQ(Dims(p, 0, e), (std::vector<int64_t>{-1, 3, 4}));
  EXPECT_EQ(Dims(p, 0, x), (std::vector<int64_t>{-1, 14}));
  EXPECT_EQ(Dims(p, 0, logit), (std::vector<int64_t>{-1, 1}));
  EXPECT_EQ(Dims(p, 0, p.loss()), std::vector<int64_t>{});
  const VarDesc* emb_var = FindVar(p, 0, "emb");
  ASSERT_NE(emb_var, nullptr);
  EXPECT_TRUE(emb_var->sparse());
  EXPECT_TRUE(emb_var->persistable());
  EXPECT_EQ(Dims(p, 0, "emb"), (std::vector<int64_t>{-1, 4}));
  EXPECT_TRUE(FindVar(p, 0, "ids")->stop_gradient());
  EXPECT_EQ(FindVar(p, 0, "w")->initializer().type(), "xavier_uniform");
}

TEST(ProgramBuilderTest, MultiOutputOpsReturnOneNamePerVar) {
  ProgramBuilder b;
  const std::string x = b.Feed("x", FLOAT32, {-1, 5});
  std::vector<std::string> parts =
      b.Op("split", {{"X", {x}}}, {{"axis", IntAttr(1)}, {"sections", IntsAttr({2, 3})}});
  EXPECT_THAT(parts, ElementsAre("split_0.Out_0", "split_0.Out_1"));
  const std::string h = b.Feed("h", FLOAT32, {-1, 2});
  const std::string wx = b.Parameter("wx", {5, 8}, Zeros());
  const std::string wh = b.Parameter("wh", {2, 8}, Zeros());
  std::vector<std::string> hc =
      b.Op("lstm_cell", {{"X", {x}}, {"H", {h}}, {"C", {h}}, {"Wx", {wx}}, {"Wh", {wh}}});
  EXPECT_THAT(hc, ElementsAre("lstm_cell_1.HOut", "lstm_cell_1.COut"));
  COLONY_ASSERT_OK_AND_ASSIGN(ProgramDesc p, b.Build());
  EXPECT_EQ(Dims(p, 0, parts[1]), (std::vector<int64_t>{-1, 3}));
}

TEST(ProgramBuilderTest, FirstErrorIsReturnedByBuild) {
  ProgramBuilder b;
  const std::string x = b.Feed("x", FLOAT32, {-1, 4});
  const std::string w = b.Parameter("w", {3, 2}, Zeros());
  const std::string bad = b.Op1("fc", {{"X", {x}}, {"W", {w}}});  // 4 != 3
  EXPECT_EQ(bad, "");
  b.Op1("no_such_op", {{"X", {x}}});  // A later error does not replace the first.
  EXPECT_THAT(b.Build(), StatusIs(StatusCode::kInvalidArgument,
                                  HasSubstr("op 0 ('fc'): op 'fc': X [-1, 4] does not match W")));
}

TEST(ProgramBuilderTest, ReportsUnknownOpUndeclaredVarAndDuplicates) {
  {
    ProgramBuilder b;
    b.Op1("no_such_op", {});
    EXPECT_THAT(b.Build(), StatusIs(StatusCode::kNotFound, HasSubstr("'no_such_op'")));
  }
  {
    ProgramBuilder b;
    b.Op1("relu", {{"X", {"ghost"}}});
    EXPECT_THAT(b.Build(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("undeclared var 'ghost'")));
  }
  {
    ProgramBuilder b;
    b.Feed("x", FLOAT32, {2});
    b.Parameter("x", {2}, Zeros());
    EXPECT_THAT(b.Build(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("'x' is declared twice")));
  }
  {
    ProgramBuilder b;
    b.Parameter("w", {0, 2}, Zeros());
    EXPECT_THAT(b.Build(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("positive dims")));
  }
  {
    ProgramBuilder b;
    const std::string x = b.Feed("x", FLOAT32, {2, 3});
    b.Op1("split", {{"X", {x}}}, {{"axis", IntAttr(1)}, {"sections", IntsAttr({1, 2})}});
    EXPECT_THAT(b.Build(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("one output")));
  }
}

TEST(ProgramBuilderTest, SubBlocksNestAndMustBeClosed) {
  ProgramBuilder b;
  const std::string seq = b.Feed("seq", FLOAT32, {-1, 7, 3});
  const std::string h0 = b.Feed("h0", FLOAT32, {-1, 4});
  const std::string wx = b.Parameter("wx", {3, 12}, XavierUniform());
  const std::string wh = b.Parameter("wh", {4, 12}, XavierUniform());
  const int step = b.BeginBlock();
  EXPECT_EQ(step, 1);
  EXPECT_EQ(b.current_block(), 1);
  const std::string x_t = b.Var("x_t", FLOAT32, {-1, 3});
  const std::string h_prev = b.Var("h_prev", FLOAT32, {-1, 4});
  const std::string h =
      b.Op1("gru_cell", {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}});
  b.EndBlock();
  EXPECT_EQ(b.current_block(), 0);
  std::vector<std::string> outs =
      b.Op("recurrent", {{"X", {seq}}, {"InitStates", {h0}}, {"Params", {wx, wh}}},
           {{"block", BlockAttr(step)},
            {"step_inputs", StringsAttr({x_t})},
            {"states", StringsAttr({h_prev})},
            {"state_updates", StringsAttr({h})},
            {"step_outputs", StringsAttr({h})}});
  EXPECT_THAT(outs, ElementsAre("recurrent_1.Out", "recurrent_1.FinalStates"));
  COLONY_ASSERT_OK_AND_ASSIGN(ProgramDesc p, b.Build());
  ASSERT_EQ(p.blocks_size(), 2);
  EXPECT_EQ(p.blocks(1).parent_idx(), 0);
  EXPECT_EQ(Dims(p, 0, outs[0]), (std::vector<int64_t>{-1, 7, 4}));
  EXPECT_EQ(Dims(p, 0, outs[1]), (std::vector<int64_t>{-1, 4}));

  ProgramBuilder open;
  open.BeginBlock();
  EXPECT_THAT(open.Build(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("EndBlock")));
  ProgramBuilder unbalanced;
  unbalanced.EndBlock();
  EXPECT_THAT(unbalanced.Build(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("BeginBlock")));
}

}  // namespace
}  // namespace colony::graph

namespace colony::graph {
namespace {

TEST(ProgramBuilderTest, CustomRegistryIsUsedForInferenceAndValidation) {
  OpRegistry registry;
  OpSchema twice;
  twice.name = "twice";
  twice.doc = "X concatenated with itself along axis 0";
  twice.inputs = {"X"};
  twice.outputs = {"Out"};
  twice.infer_shapes = [](const OpDesc& op,
                          const ShapeEnv& env) -> StatusOr<std::vector<VarShape>> {
    COLONY_ASSIGN_OR_RETURN(VarShape x, env.Get(op.inputs(0).vars(0)));
    if (x.dims[0] > 0) x.dims[0] *= 2;
    return std::vector<VarShape>{x};
  };
  twice.cost = [](const OpDesc&, const ShapeEnv&, const DeviceProfile&) { return OpCost{}; };
  COLONY_ASSERT_OK(registry.Register(twice));
  ProgramBuilder b(registry);
  const std::string y = b.Op1("twice", {{"X", {b.Feed("x", FLOAT32, {3, 2})}}});
  COLONY_ASSERT_OK_AND_ASSIGN(ProgramDesc p, b.Build());
  EXPECT_EQ(Dims(p, 0, y), (std::vector<int64_t>{6, 2}));
  EXPECT_THAT(Validate(p), StatusIs(StatusCode::kNotFound, HasSubstr("'twice'")));
  COLONY_EXPECT_OK(Validate(p, registry));
}

}  // namespace
}  // namespace colony::graph
