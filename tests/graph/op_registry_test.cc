#include "colony/graph/op_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::graph {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

OpSchema TrivialSchema(const std::string& name) {
  OpSchema s;
  s.name = name;
  s.inputs = {"X"};
  s.outputs = {"Out"};
  s.infer_shapes = [](const OpDesc&, const ShapeEnv&) -> StatusOr<std::vector<VarShape>> {
    return std::vector<VarShape>{};
  };
  s.cost = [](const OpDesc&, const ShapeEnv&, const DeviceProfile&) { return OpCost{}; };
  return s;
}

TEST(OpRegistryTest, GlobalHasEveryStandardOp) {
  const std::vector<std::string> expected = {"add",
                                             "attention",
                                             "concat",
                                             "conv2d",
                                             "div",
                                             "dropout",
                                             "fc",
                                             "flatten",
                                             "gather",
                                             "gelu",
                                             "gru_cell",
                                             "layer_norm",
                                             "leaky_relu",
                                             "lookup",
                                             "lstm_cell",
                                             "matmul",
                                             "mul",
                                             "pool2d",
                                             "recurrent",
                                             "reduce_mean",
                                             "reduce_sum",
                                             "relu",
                                             "reshape",
                                             "rnn_end",
                                             "rnn_start",
                                             "scale",
                                             "scatter_add",
                                             "segment_softmax",
                                             "sequence_pool",
                                             "sigmoid",
                                             "sigmoid_bce",
                                             "softmax",
                                             "softmax_cross_entropy",
                                             "sparse_adj_matmul",
                                             "sparse_lookup",
                                             "split",
                                             "sub",
                                             "tanh"};
  EXPECT_EQ(OpRegistry::Global().Names(), expected);
  for (const std::string& name : expected) {
    COLONY_ASSERT_OK_AND_ASSIGN(const OpSchema* s, OpRegistry::Global().Find(name));
    EXPECT_FALSE(s->doc.empty()) << name;
  }
}

TEST(OpRegistryTest, DuplicateIsAlreadyExists) {
  OpRegistry r;
  COLONY_ASSERT_OK(r.Register(TrivialSchema("a")));
  EXPECT_THAT(r.Register(TrivialSchema("a")),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("'a'")));
  EXPECT_THAT(RegisterStandardOps(OpRegistry::Global()),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("already")));
}

TEST(OpRegistryTest, UnknownNameIsNotFoundListingKnownNames) {
  OpRegistry r;
  COLONY_ASSERT_OK(r.Register(TrivialSchema("beta")));
  COLONY_ASSERT_OK(r.Register(TrivialSchema("alpha")));
  EXPECT_THAT(
      r.Find("gamma"),
      StatusIs(StatusCode::kNotFound, HasSubstr("'gamma' is not registered; known: alpha, beta")));
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"alpha", "beta"}));
}

TEST(OpRegistryTest, SchemaWithoutFunctionsIsRejected) {
  OpRegistry r;
  OpSchema s = TrivialSchema("x");
  s.cost = nullptr;
  EXPECT_THAT(r.Register(s), StatusIs(StatusCode::kInvalidArgument, HasSubstr("cost")));
}

struct InferCase {
  std::string name;
  std::string type;
  std::vector<std::pair<std::string, std::vector<std::string>>> inputs;
  AttrMap attrs;
  std::vector<VarShape> want;  // Empty: expect an error containing `error`.
  std::string error;
};

OpDesc MakeOp(const InferCase& c) {
  OpDesc op;
  op.set_type(c.type);
  for (const auto& [slot, vars] : c.inputs) {
    Slot* s = op.add_inputs();
    s->set_name(slot);
    for (const std::string& v : vars) s->add_vars(v);
  }
  for (const auto& [k, v] : c.attrs) (*op.mutable_attrs())[k] = v;
  return op;
}

TEST(OpRegistryTest, ShapeInferencePerOp) {
  ShapeEnv env;
  env.Set("ids", {INT64, {-1, 3}});
  env.Set("flat_ids", {INT64, {-1}});
  env.Set("offsets", {INT64, {-1}});
  env.Set("rows", {FLOAT32, {-1, 8}});
  env.Set("x", {FLOAT32, {-1, 4}});
  env.Set("x3", {FLOAT32, {-1, 5, 4}});
  env.Set("w", {FLOAT32, {4, 6}});
  env.Set("bias", {FLOAT32, {6}});
  env.Set("row4", {FLOAT32, {4}});
  env.Set("y", {FLOAT32, {-1, 2}});
  env.Set("m", {FLOAT32, {2, 4, 3}});
  env.Set("n", {FLOAT32, {2, 5, 3}});
  env.Set("mask", {FLOAT32, {-1, 5}});
  env.Set("lens", {INT64, {-1}});
  env.Set("label_i", {INT64, {-1}});
  env.Set("label_f", {FLOAT32, {-1, 4}});
  env.Set("h", {FLOAT32, {-1, 3}});
  env.Set("wx3", {FLOAT32, {4, 9}});
  env.Set("wh3", {FLOAT32, {3, 9}});
  env.Set("wx4", {FLOAT32, {4, 12}});
  env.Set("wh4", {FLOAT32, {3, 12}});
  env.Set("v", {FLOAT32, {-1, 5, 7}});
  env.Set("index", {INT64, {9}});
  env.Set("upd", {FLOAT32, {9, 4}});
  env.Set("lens_f", {FLOAT32, {-1}});
  env.Set("img", {FLOAT32, {-1, 3, 28, 27}});
  env.Set("kern", {FLOAT32, {8, 3, 5, 3}});
  env.Set("bias8", {FLOAT32, {8}});
  const std::vector<InferCase> cases = {
      {"sparse_lookup",
       "sparse_lookup",
       {{"Ids", {"ids"}}, {"W", {"rows"}}},
       {},
       {{FLOAT32, {-1, 3, 8}}},
       ""},
      {"sparse_lookup bag",
       "sparse_lookup",
       {{"Ids", {"flat_ids"}}, {"W", {"rows"}}, {"Offsets", {"offsets"}}},
       {{"combiner", StringAttr("mean")}},
       {{FLOAT32, {-1, 8}}},
       ""},
      {"sparse_lookup bad combiner",
       "sparse_lookup",
       {{"Ids", {"ids"}}, {"W", {"rows"}}},
       {{"combiner", StringAttr("max")}},
       {},
       "combiner"},
      {"sparse_lookup float ids",
       "sparse_lookup",
       {{"Ids", {"x"}}, {"W", {"rows"}}},
       {},
       {},
       "Ids must be int64"},
      {"lookup", "lookup", {{"Ids", {"ids"}}, {"W", {"w"}}}, {}, {{FLOAT32, {-1, 3, 6}}}, ""},
      {"fc", "fc", {{"X", {"x"}}, {"W", {"w"}}, {"B", {"bias"}}}, {}, {{FLOAT32, {-1, 6}}}, ""},
      {"fc 3d", "fc", {{"X", {"x3"}}, {"W", {"w"}}}, {}, {{FLOAT32, {-1, 5, 6}}}, ""},
      {"fc mismatch", "fc", {{"X", {"y"}}, {"W", {"w"}}}, {}, {}, "does not match W"},
      {"fc bad activation",
       "fc",
       {{"X", {"x"}}, {"W", {"w"}}},
       {{"activation", StringAttr("elu")}},
       {},
       "activation"},
      {"matmul",
       "matmul",
       {{"X", {"m"}}, {"Y", {"n"}}},
       {{"transpose_y", BoolAttr(true)}},
       {{FLOAT32, {2, 4, 5}}},
       ""},
      {"matmul mismatch", "matmul", {{"X", {"m"}}, {"Y", {"n"}}}, {}, {}, "inner dims"},
      {"add broadcast", "add", {{"X", {"x"}}, {"Y", {"row4"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"mul no broadcast", "mul", {{"X", {"x"}}, {"Y", {"y"}}}, {}, {}, "do not broadcast"},
      {"sub broadcast rank", "sub", {{"X", {"x3"}}, {"Y", {"x"}}}, {}, {{FLOAT32, {-1, 5, 4}}}, ""},
      {"div", "div", {{"X", {"x"}}, {"Y", {"x"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"scale", "scale", {{"X", {"x"}}}, {{"scale", FloatAttr(2)}}, {{FLOAT32, {-1, 4}}}, ""},
      {"relu", "relu", {{"X", {"x3"}}}, {}, {{FLOAT32, {-1, 5, 4}}}, ""},
      {"sigmoid", "sigmoid", {{"X", {"x"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"tanh", "tanh", {{"X", {"x"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"gelu", "gelu", {{"X", {"x"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"softmax", "softmax", {{"X", {"x"}}}, {}, {{FLOAT32, {-1, 4}}}, ""},
      {"concat", "concat", {{"X", {"x", "y"}}}, {{"axis", IntAttr(1)}}, {{FLOAT32, {-1, 6}}}, ""},
      {"concat bad axis",
       "concat",
       {{"X", {"x", "y"}}},
       {{"axis", IntAttr(2)}},
       {},
       "out of range"},
      {"concat mismatch",
       "concat",
       {{"X", {"x", "y"}}},
       {{"axis", IntAttr(0)}},
       {},
       "off the axis"},
      {"split",
       "split",
       {{"X", {"x"}}},
       {{"axis", IntAttr(1)}, {"sections", IntsAttr({1, 3})}},
       {{FLOAT32, {-1, 1}}, {FLOAT32, {-1, 3}}},
       ""},
      {"split bad sum",
       "split",
       {{"X", {"x"}}},
       {{"axis", IntAttr(1)}, {"sections", IntsAttr({1, 2})}},
       {},
       "sum to 3"},
      {"reshape",
       "reshape",
       {{"X", {"x3"}}},
       {{"shape", IntsAttr({-1, 20})}},
       {{FLOAT32, {-1, 20}}},
       ""},
      {"reshape static",
       "reshape",
       {{"X", {"m"}}},
       {{"shape", IntsAttr({4, -1})}},
       {{FLOAT32, {4, 6}}},
       ""},
      {"reshape bad",
       "reshape",
       {{"X", {"m"}}},
       {{"shape", IntsAttr({5, -1})}},
       {},
       "cannot reshape"},
      {"flatten",
       "flatten",
       {{"X", {"m"}}},
       {{"start_axis", IntAttr(1)}},
       {{FLOAT32, {2, 12}}},
       ""},
      {"reduce_sum",
       "reduce_sum",
       {{"X", {"x3"}}},
       {{"axes", IntsAttr({1})}},
       {{FLOAT32, {-1, 4}}},
       ""},
      {"reduce_mean keep",
       "reduce_mean",
       {{"X", {"x3"}}},
       {{"axes", IntsAttr({-1})}, {"keep_dim", BoolAttr(true)}},
       {{FLOAT32, {-1, 5, 1}}},
       ""},
      {"reduce_sum all", "reduce_sum", {{"X", {"x3"}}}, {}, {{FLOAT32, {}}}, ""},
      {"sequence_pool",
       "sequence_pool",
       {{"X", {"x3"}}, {"Mask", {"mask"}}},
       {{"pool", StringAttr("max")}},
       {{FLOAT32, {-1, 4}}},
       ""},
      {"sequence_pool lengths",
       "sequence_pool",
       {{"X", {"x3"}}, {"Lengths", {"lens"}}},
       {{"pool", StringAttr("last")}},
       {{FLOAT32, {-1, 4}}},
       ""},
      {"sequence_pool bad pool",
       "sequence_pool",
       {{"X", {"x3"}}},
       {{"pool", StringAttr("min")}},
       {},
       "pool must be"},
      {"softmax_cross_entropy",
       "softmax_cross_entropy",
       {{"Logits", {"x"}}, {"Label", {"label_i"}}},
       {},
       {{FLOAT32, {}}},
       ""},
      {"softmax_cross_entropy float label",
       "softmax_cross_entropy",
       {{"Logits", {"x"}}, {"Label", {"label_f"}}},
       {},
       {},
       "int64"},
      {"sigmoid_bce",
       "sigmoid_bce",
       {{"Logits", {"x"}}, {"Label", {"label_f"}}},
       {},
       {{FLOAT32, {}}},
       ""},
      {"sigmoid_bce mismatch",
       "sigmoid_bce",
       {{"Logits", {"y"}}, {"Label", {"label_f"}}},
       {},
       {},
       "differ"},
      {"layer_norm",
       "layer_norm",
       {{"X", {"x"}}, {"Scale", {"row4"}}, {"Bias", {"row4"}}},
       {},
       {{FLOAT32, {-1, 4}}},
       ""},
      {"layer_norm bad scale",
       "layer_norm",
       {{"X", {"x"}}, {"Scale", {"bias"}}},
       {},
       {},
       "Scale must be [4]"},
      {"dropout", "dropout", {{"X", {"x"}}}, {{"p", FloatAttr(0.1f)}}, {{FLOAT32, {-1, 4}}}, ""},
      {"dropout bad p",
       "dropout",
       {{"X", {"x"}}},
       {{"p", FloatAttr(1.0f)}},
       {},
       "p must be in [0, 1)"},
      {"gru_cell",
       "gru_cell",
       {{"X", {"x"}}, {"H", {"h"}}, {"Wx", {"wx3"}}, {"Wh", {"wh3"}}},
       {},
       {{FLOAT32, {-1, 3}}},
       ""},
      {"gru_cell bad weight",
       "gru_cell",
       {{"X", {"x"}}, {"H", {"h"}}, {"Wx", {"wx4"}}, {"Wh", {"wh3"}}},
       {},
       {},
       "Wx must be [4, 9]"},
      {"lstm_cell",
       "lstm_cell",
       {{"X", {"x"}}, {"H", {"h"}}, {"C", {"h"}}, {"Wx", {"wx4"}}, {"Wh", {"wh4"}}},
       {},
       {{FLOAT32, {-1, 3}}, {FLOAT32, {-1, 3}}},
       ""},
      {"attention",
       "attention",
       {{"Q", {"x3"}}, {"K", {"x3"}}, {"V", {"v"}}, {"Mask", {"mask"}}},
       {},
       {{FLOAT32, {-1, 5, 7}}},
       ""},
      {"gather",
       "gather",
       {{"X", {"rows"}}, {"Index", {"index"}}},
       {{"axis", IntAttr(0)}},
       {{FLOAT32, {9, 8}}},
       ""},
      {"gather float index",
       "gather",
       {{"X", {"rows"}}, {"Index", {"x"}}},
       {},
       {},
       "Index must be int64"},
      {"scatter_add",
       "scatter_add",
       {{"X", {"x"}}, {"Index", {"index"}}, {"Updates", {"upd"}}},
       {},
       {{FLOAT32, {-1, 4}}},
       ""},
      {"scatter_add bad updates",
       "scatter_add",
       {{"X", {"x"}}, {"Index", {"index"}}, {"Updates", {"x3"}}},
       {},
       {},
       "Updates"},
      {"segment_softmax",
       "segment_softmax",
       {{"X", {"upd"}}, {"Segment", {"index"}}},
       {},
       {{FLOAT32, {9, 4}}},
       ""},
      {"segment_softmax run-time rows",
       "segment_softmax",
       {{"X", {"rows"}}, {"Segment", {"index"}}},
       {},
       {{FLOAT32, {-1, 8}}},
       ""},
      {"segment_softmax length mismatch",
       "segment_softmax",
       {{"X", {"w"}}, {"Segment", {"index"}}},
       {},
       {},
       "with X's first dim"},
      {"segment_softmax float segment",
       "segment_softmax",
       {{"X", {"upd"}}, {"Segment", {"x"}}},
       {},
       {},
       "Segment must be int64 [E]"},
      {"segment_softmax rank 3",
       "segment_softmax",
       {{"X", {"x3"}}, {"Segment", {"index"}}},
       {},
       {},
       "X must be [E] or [E, H]"},
      {"sparse_adj_matmul",
       "sparse_adj_matmul",
       {{"X", {"upd"}}, {"Row", {"index"}}, {"Col", {"index"}}, {"Value", {"lens_f"}}},
       {},
       {{FLOAT32, {9, 4}}},
       ""},
      {"sparse_adj_matmul float row",
       "sparse_adj_matmul",
       {{"X", {"upd"}}, {"Row", {"x"}}, {"Col", {"index"}}, {"Value", {"lens_f"}}},
       {},
       {},
       "Row and Col must be int64 [E]"},
      {"sparse_adj_matmul int value",
       "sparse_adj_matmul",
       {{"X", {"upd"}}, {"Row", {"index"}}, {"Col", {"index"}}, {"Value", {"index"}}},
       {},
       {},
       "Value of X's dtype"},
      {"leaky_relu", "leaky_relu", {{"X", {"x3"}}}, {}, {{FLOAT32, {-1, 5, 4}}}, ""},
      {"conv2d",
       "conv2d",
       {{"X", {"img"}}, {"W", {"kern"}}, {"B", {"bias8"}}},
       {{"strides", IntsAttr({2, 1})}, {"paddings", IntsAttr({1})}},
       {{FLOAT32, {-1, 8, 13, 27}}},
       ""},
      {"conv2d channels", "conv2d", {{"X", {"img"}}, {"W", {"w"}}}, {}, {}, "W must be [O, C"},
      {"conv2d bad stride",
       "conv2d",
       {{"X", {"img"}}, {"W", {"kern"}}},
       {{"strides", IntsAttr({0})}},
       {},
       "strides must be one or two ints >= 1"},
      {"conv2d bias",
       "conv2d",
       {{"X", {"img"}}, {"W", {"kern"}}, {"B", {"bias"}}},
       {},
       {},
       "B must be [8]"},
      {"pool2d", "pool2d", {{"X", {"img"}}}, {}, {{FLOAT32, {-1, 3, 14, 13}}}, ""},
      {"pool2d avg stride",
       "pool2d",
       {{"X", {"img"}}},
       {{"pool", StringAttr("avg")}, {"kernel", IntsAttr({3})}, {"strides", IntsAttr({1})}},
       {{FLOAT32, {-1, 3, 26, 25}}},
       ""},
      {"pool2d rank", "pool2d", {{"X", {"x"}}}, {}, {}, "X must be [N, C, H, W]"},
      {"pool2d kind",
       "pool2d",
       {{"X", {"img"}}},
       {{"pool", StringAttr("min")}},
       {},
       "pool must be max or avg"},
      {"pool2d too large",
       "pool2d",
       {{"X", {"img"}}},
       {{"kernel", IntsAttr({29})}},
       {},
       "larger than the padded input"},
      {"unbound input", "fc", {{"X", {"x"}}}, {}, {}, "input slot W is not bound"},
      {"unknown var", "relu", {{"X", {"nope"}}}, {}, {}, "'nope' has no known shape"},
  };
  // FLOPs of each valid case on the default profile (run-time dims are n rows), from each op's
  // arithmetic: e.g. fc does 2 * in per output for the product plus 2 for bias and activation.
  const double n = static_cast<double>(DeviceProfile{}.batch_size);
  const std::map<std::string, double> flops = {
      {"sparse_lookup", n * 3 * 8},                    // One per gathered value.
      {"sparse_lookup bag", n * 8},                    // One per pooled value.
      {"lookup", n * 3 * 6},                           // One per gathered value.
      {"fc", n * 6 * (2 * 4 + 2)},                     // [B, 4] x [4, 6].
      {"fc 3d", n * 5 * 6 * (2 * 4 + 2)},              // [B, 5, 4] x [4, 6].
      {"matmul", 2 * 3 * (2 * 4 * 5)},                 // 2 * k per output, k = 3.
      {"add broadcast", n * 4},                        // One per output.
      {"sub broadcast rank", n * 5 * 4},               // One per output.
      {"div", n * 4},                                  // One per output.
      {"scale", 2 * n * 4},                            // A multiply and an add per output.
      {"relu", n * 5 * 4},                             // One per output.
      {"sigmoid", 4 * n * 4},                          // exp, add, divide, negate.
      {"tanh", 4 * n * 4},                             // As sigmoid.
      {"gelu", 8 * n * 4},                             // erf and the products around it.
      {"softmax", 5 * n * 4},                          // max, sub, exp, sum, divide.
      {"concat", 0},                                   // Copies only.
      {"split", 0},                                    // Copies only.
      {"reshape", 0},                                  // A view.
      {"reshape static", 0},                           // A view.
      {"flatten", 0},                                  // A view.
      {"reduce_sum", n * 5 * 4},                       // One per input value.
      {"reduce_mean keep", n * 5 * 4},                 // One per input value.
      {"reduce_sum all", n * 5 * 4},                   // One per input value.
      {"sequence_pool", 2 * (n * 5 * 4 + n * 5)},      // Two per input value, mask included.
      {"sequence_pool lengths", 2 * (n * 5 * 4 + n)},  // Two per input value, lengths included.
      {"softmax_cross_entropy", 6 * (n * 4 + n)},      // Six per input value.
      {"sigmoid_bce", 6 * (n * 4 + n * 4)},            // Six per input value.
      {"layer_norm", 8 * n * 4},                       // Mean, variance, normalize, affine.
      {"dropout", 2 * n * 4},                          // A mask test and a scale.
      // Gates: 2 * n * (in + hidden) * gates * hidden for the products, 10 per gate value.
      {"gru_cell", 2 * n * (4 + 3) * 3 * 3 + 10 * n * 3 * 3},
      {"lstm_cell", 2 * n * (4 + 3) * 4 * 3 + 10 * n * 4 * 3},
      // Scores Q K^T (n x 5 x 5, depth 4), 5 per score for the softmax, then scores x V (7).
      {"attention", 2 * (n * 5 * 5) * 4 + 5 * (n * 5 * 5) + 2 * (n * 5 * 7) * 5},
      {"gather", 0},                                    // Copies only.
      {"scatter_add", n * 4 + 9 + 9 * 4},               // One per input value.
      {"segment_softmax", 6 * 9 * 4},                   // Six per output.
      {"segment_softmax run-time rows", 6 * n * 8},     // Six per output.
      {"sparse_adj_matmul", 2 * 9 * 4},                 // A multiply-add per edge and column.
      {"leaky_relu", 2 * n * 5 * 4},                    // A test and a multiply.
      {"conv2d", 2 * (3 * 5 * 3) * (n * 8 * 13 * 27)},  // 2 * C * KH * KW per output.
      {"pool2d", n * 3 * 28 * 27},                      // One per input value.
      {"pool2d avg stride", n * 3 * 28 * 27},           // One per input value.
  };
  for (const InferCase& c : cases) {
    SCOPED_TRACE(c.name);
    COLONY_ASSERT_OK_AND_ASSIGN(const OpSchema* schema, OpRegistry::Global().Find(c.type));
    StatusOr<std::vector<VarShape>> got = schema->infer_shapes(MakeOp(c), env);
    if (c.want.empty()) {
      EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.error)));
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), c.want.size());
    for (size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_EQ((*got)[i].dims, c.want[i].dims) << i;
      EXPECT_EQ((*got)[i].dtype, c.want[i].dtype) << i;
    }
    // Every op's cost counts at least its output bytes, and its FLOPs are the table's.
    DeviceProfile device;
    const OpCost cost = schema->cost(MakeOp(c), env, device);
    EXPECT_GT(cost.bytes, 0);
    ASSERT_TRUE(flops.count(c.name)) << "add the expected FLOPs of case '" << c.name << "'";
    EXPECT_DOUBLE_EQ(cost.flops, flops.at(c.name));
    EXPECT_GT(cost.Seconds(device), 0);
  }
}

TEST(OpRegistryTest, FcCostUsesProfileBatchForRuntimeDims) {
  ShapeEnv env;
  env.Set("x", {FLOAT32, {-1, 4}});
  env.Set("w", {FLOAT32, {4, 6}});
  InferCase c{"fc", "fc", {{"X", {"x"}}, {"W", {"w"}}}, {}, {}, ""};
  DeviceProfile device;
  device.batch_size = 10;
  COLONY_ASSERT_OK_AND_ASSIGN(const OpSchema* fc, OpRegistry::Global().Find("fc"));
  const OpCost cost = fc->cost(MakeOp(c), env, device);
  // 2 * in * out per row for the product plus 2 per output for bias and activation.
  EXPECT_DOUBLE_EQ(cost.flops, 10 * (2.0 * 4 * 6 + 2 * 6));
  // X (10 x 4) + W (4 x 6) + Out (10 x 6) floats.
  EXPECT_DOUBLE_EQ(cost.bytes, 4.0 * (40 + 24 + 60));
  device.batch_size = 20;
  EXPECT_DOUBLE_EQ(fc->cost(MakeOp(c), env, device).flops, 20 * (2.0 * 4 * 6 + 2 * 6));
}

TEST(OpRegistryTest, AttrOfWrongKindIsInvalidArgument) {
  OpDesc op;
  op.set_type("dropout");
  (*op.mutable_attrs())["p"] = StringAttr("half");
  EXPECT_THAT(
      GetFloatAttr(op, "p", 0.5f),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("op 'dropout' attr 'p' must be a float")));
  COLONY_ASSERT_OK_AND_ASSIGN(int64_t fallback, GetIntAttr(op, "axis", 3));
  EXPECT_EQ(fallback, 3);
}

}  // namespace
}  // namespace colony::graph
