#include "colony/pipeline/partition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "colony/graph/builder.h"
#include "colony/models/mlp_model.h"
#include "testing/status_matchers.h"

namespace colony::pipeline {
namespace {

using ::colony::models::BuildMlpModel;
using ::colony::models::MlpModel;
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Ops of the 4-layer MLP: fc 0..3 (hidden), fc 4 (logit), sigmoid 5, sigmoid_bce 6.
MlpModel Mlp(bool skip) {
  auto m = BuildMlpModel({.input_dim = 6, .width = 5, .layers = 4, .skip = skip});
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(SplitProgramTest, CutsIntoSectionsInOpOrder) {
  const MlpModel m = Mlp(false);
  COLONY_ASSERT_OK_AND_ASSIGN(auto sections,
                              SplitProgram(m.program, {m.layer_outputs[0], m.layer_outputs[2]}));
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].first_op, 0);
  EXPECT_EQ(sections[0].num_ops, 1);
  EXPECT_EQ(sections[1].first_op, 1);
  EXPECT_EQ(sections[1].num_ops, 2);
  EXPECT_EQ(sections[2].num_ops, 4);
  EXPECT_THAT(sections[0].feeds, ElementsAre("x"));
  EXPECT_THAT(sections[0].params, ElementsAre("layer0.b", "layer0.w"));
  EXPECT_THAT(sections[0].received, IsEmpty());
  EXPECT_THAT(sections[0].sent, ElementsAre(m.layer_outputs[0]));
  EXPECT_THAT(sections[1].feeds, IsEmpty());
  EXPECT_THAT(sections[1].received, ElementsAre(m.layer_outputs[0]));
  EXPECT_THAT(sections[1].sent, ElementsAre(m.layer_outputs[2]));
  EXPECT_THAT(sections[2].feeds, ElementsAre("label"));
  EXPECT_THAT(sections[2].params, ElementsAre("layer3.b", "layer3.w", "logit.b", "logit.w"));
  EXPECT_TRUE(sections[0].program.loss().empty());
  EXPECT_TRUE(sections[1].program.loss().empty());
  EXPECT_EQ(sections[2].program.loss(), m.program.loss());
  // The original fetch (the probability) is written by the last section.
  EXPECT_THAT(sections[2].program.fetches(), ElementsAre(m.program.fetches(0)));
  EXPECT_THAT(sections[1].program.feeds(), ElementsAre(m.layer_outputs[0]));
}

TEST(SplitProgramTest, NoCutsGiveTheWholeProgram) {
  const MlpModel m = Mlp(false);
  COLONY_ASSERT_OK_AND_ASSIGN(auto sections, SplitProgram(m.program, {}));
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0].num_ops, m.program.blocks(0).ops_size());
  EXPECT_THAT(sections[0].feeds, ElementsAre("label", "x"));
}

TEST(SplitProgramTest, VarUsedAcrossSeveralCutsIsPassedAlong) {
  const MlpModel m = Mlp(true);  // layer 0's output is added to layer 3's.
  COLONY_ASSERT_OK_AND_ASSIGN(auto sections,
                              SplitProgram(m.program, {m.layer_outputs[0], m.layer_outputs[1]}));
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_THAT(sections[1].received, ElementsAre(m.layer_outputs[0]));
  EXPECT_THAT(sections[1].sent, ElementsAre(m.layer_outputs[0], m.layer_outputs[1]));
  EXPECT_THAT(sections[2].received, ElementsAre(m.layer_outputs[0], m.layer_outputs[1]));
}

graph::ProgramDesc TiedWeights() {
  graph::ProgramBuilder b;
  const std::string x = b.Feed("x", graph::FLOAT32, {-1, 4});
  const std::string label = b.Feed("label", graph::FLOAT32, {-1, 1});
  const std::string w = b.Parameter("shared.w", {4, 4}, graph::XavierUniform());
  const std::string h1 = b.Op1("fc", {{"X", {x}}, {"W", {w}}});
  const std::string h2 = b.Op1("fc", {{"X", {h1}}, {"W", {w}}});
  const std::string v = b.Parameter("logit.w", {4, 1}, graph::XavierUniform());
  const std::string s = b.Op1("fc", {{"X", {h2}}, {"W", {v}}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {s}}, {"Label", {label}}}));
  auto p = b.Build();
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

struct BadCut {
  std::string name;
  std::vector<std::string> cuts;  // "#i" is the output of hidden layer i.
  std::string message;
};

TEST(SplitProgramTest, BadCutsAreInvalidArgumentNamingTheVar) {
  const MlpModel m = Mlp(false);
  const std::vector<BadCut> cases = {
      {"unknown", {"nope"}, "'nope' is not a variable"},
      {"feed", {"x"}, "'x' is a feed"},
      {"parameter", {"layer1.w"}, "'layer1.w' is a parameter"},
      {"out of order", {"#2", "#1"}, "list cuts in op order"},
      {"repeated", {"#1", "#1"}, "list cuts in op order"},
      {"read by no later op", {m.program.fetches(0)}, "does not separate the graph"},
      {"the loss", {m.program.loss()}, "does not separate the graph"},
  };
  for (const BadCut& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> cuts;
    for (const std::string& v : c.cuts) {
      cuts.push_back(v[0] == '#' ? m.layer_outputs[v[1] - '0'] : v);
    }
    EXPECT_THAT(SplitProgram(m.program, cuts).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(SplitProgramTest, TiedWeightsAcrossACutAreRefused) {
  const graph::ProgramDesc p = TiedWeights();
  const std::string h1 = p.blocks(0).ops(0).outputs(0).vars(0);
  EXPECT_THAT(SplitProgram(p, {h1}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'shared.w' is read by pipeline")));
}

}  // namespace
}  // namespace colony::pipeline
