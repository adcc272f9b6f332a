#include "colony/graph/program.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::graph {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

// x [-1, 4] -> fc(W [4, 2], B [2]) -> sigmoid_bce against label.
ProgramDesc SmallProgram() {
  ProgramBuilder b;
  const std::string x = b.Feed("x", FLOAT32, {-1, 4});
  const std::string label = b.Feed("label", FLOAT32, {-1, 2});
  const std::string w = b.Parameter("w", {4, 2}, XavierUniform());
  const std::string bias = b.Parameter("b", {2}, Zeros());
  const std::string out =
      b.Op1("fc", {{"X", {x}}, {"W", {w}}, {"B", {bias}}}, {{"activation", StringAttr("relu")}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {out}}, {"Label", {label}}}));
  b.AddFetch(out);
  StatusOr<ProgramDesc> p = b.Build();
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(ProgramTest, TextRoundTripIsExact) {
  const ProgramDesc p = SmallProgram();
  const std::string text = ToText(p);
  EXPECT_THAT(text, HasSubstr("type: \"fc\""));
  COLONY_ASSERT_OK_AND_ASSIGN(ProgramDesc back, ParseText(text));
  EXPECT_EQ(back.SerializeAsString(), p.SerializeAsString());
  EXPECT_EQ(ToText(back), text);
}

TEST(ProgramTest, ParseTextReportsLine) {
  EXPECT_THAT(ParseText("blocks {\n  idx: 0\n  bogus_field: 3\n}\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 3")));
}

TEST(ProgramTest, SmallProgramValidates) { COLONY_EXPECT_OK(Validate(SmallProgram())); }

TEST(ProgramTest, FindVarLooksInParentBlocks) {
  ProgramDesc p = SmallProgram();
  BlockDesc* sub = p.add_blocks();
  sub->set_idx(1);
  sub->set_parent_idx(0);
  sub->add_vars()->set_name("inner");
  ASSERT_NE(FindVar(p, 1, "w"), nullptr);
  EXPECT_EQ(FindVar(p, 1, "w")->shape_size(), 2);
  EXPECT_NE(FindVar(p, 1, "inner"), nullptr);
  EXPECT_EQ(FindVar(p, 0, "inner"), nullptr);
  EXPECT_EQ(FindVar(p, 0, "missing"), nullptr);
  EXPECT_EQ(FindVar(p, 7, "w"), nullptr);
}

struct BadProgramCase {
  std::string name;
  std::function<void(ProgramDesc&)> edit;
  StatusCode code;
  std::string fragment;
};

TEST(ProgramTest, ValidateRejectsBadPrograms) {
  const std::vector<BadProgramCase> cases = {
      {"no blocks", [](ProgramDesc& p) { p.clear_blocks(); }, StatusCode::kInvalidArgument,
       "no blocks"},
      {"unknown op",
       [](ProgramDesc& p) { p.mutable_blocks(0)->mutable_ops(0)->set_type("conv9d"); },
       StatusCode::kNotFound, "block 0 op 0 ('conv9d')"},
      {"undeclared input",
       [](ProgramDesc& p) {
         p.mutable_blocks(0)->mutable_ops(0)->mutable_inputs(0)->set_vars(0, "nope");
       },
       StatusCode::kInvalidArgument, "op 0 ('fc') input X reads var 'nope'"},
      {"undeclared output",
       [](ProgramDesc& p) {
         p.mutable_blocks(0)->mutable_ops(1)->mutable_outputs(0)->set_vars(0, "ghost");
       },
       StatusCode::kInvalidArgument, "op 1 ('sigmoid_bce') output Out writes var 'ghost'"},
      {"missing required slot",
       [](ProgramDesc& p) {
         p.mutable_blocks(0)->mutable_ops(0)->mutable_inputs()->RemoveLast();
         p.mutable_blocks(0)->mutable_ops(0)->mutable_inputs()->RemoveLast();
       },
       StatusCode::kInvalidArgument, "missing required input slot 'W'"},
      {"unknown slot",
       [](ProgramDesc& p) {
         p.mutable_blocks(0)->mutable_ops(0)->mutable_inputs(0)->set_name("Q");
       },
       StatusCode::kInvalidArgument, "unknown input slot 'Q'"},
      {"bad block attr",
       [](ProgramDesc& p) {
         (*p.mutable_blocks(0)->mutable_ops(0)->mutable_attrs())["block"] = BlockAttr(3);
       },
       StatusCode::kInvalidArgument, "names block 3"},
      {"bad parent",
       [](ProgramDesc& p) {
         BlockDesc* b = p.add_blocks();
         b->set_idx(1);
         b->set_parent_idx(5);
       },
       StatusCode::kInvalidArgument, "block 1 has parent_idx 5"},
      {"block idx out of order", [](ProgramDesc& p) { p.mutable_blocks(0)->set_idx(2); },
       StatusCode::kInvalidArgument, "block 0 has idx 2"},
      {"duplicate var",
       [](ProgramDesc& p) { *p.mutable_blocks(0)->add_vars() = p.blocks(0).vars(0); },
       StatusCode::kInvalidArgument, "declares var 'x' twice"},
      {"feed not declared", [](ProgramDesc& p) { p.add_feeds("zz"); }, StatusCode::kInvalidArgument,
       "feed 'zz'"},
      {"fetch not declared", [](ProgramDesc& p) { p.add_fetches("yy"); },
       StatusCode::kInvalidArgument, "fetch 'yy'"},
      {"loss not declared", [](ProgramDesc& p) { p.set_loss("ll"); }, StatusCode::kInvalidArgument,
       "loss 'll'"},
  };
  for (const BadProgramCase& c : cases) {
    SCOPED_TRACE(c.name);
    ProgramDesc p = SmallProgram();
    c.edit(p);
    EXPECT_THAT(Validate(p), StatusIs(c.code, HasSubstr(c.fragment)));
  }
}

TEST(ProgramTest, SubBlockMayReadParentVars) {
  ProgramDesc p = SmallProgram();
  BlockDesc* sub = p.add_blocks();
  sub->set_idx(1);
  sub->set_parent_idx(0);
  VarDesc* v = sub->add_vars();
  v->set_name("y");
  OpDesc* op = sub->add_ops();
  op->set_type("relu");
  Slot* in = op->add_inputs();
  in->set_name("X");
  in->add_vars("x");  // Declared in block 0.
  Slot* out = op->add_outputs();
  out->set_name("Out");
  out->add_vars("y");
  COLONY_EXPECT_OK(Validate(p));
  out->set_vars(0, "x");  // Outputs must be declared in the op's own block.
  EXPECT_THAT(Validate(p), StatusIs(StatusCode::kInvalidArgument, HasSubstr("block 1 op 0")));
}

}  // namespace
}  // namespace colony::graph
