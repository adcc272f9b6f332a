#include "colony/models/session_models.h"

#include "colony/graph/program.h"
#include "program_testing.h"
#include "testing/status_matchers.h"

namespace colony::models {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

using testing::CountOps;

bool HasVar(const graph::ProgramDesc& p, const std::string& name) {
  return graph::FindVar(p, 0, name) != nullptr;
}

TEST(SessionModelsTest, BothModelsFollowTheSessionContract) {
  for (const auto& [name, doc] : SessionModelNames()) {
    SessionModelOptions o;
    o.name = name;
    o.num_items = 50;
    o.embedding_dim = 8;
    o.steps = 2;
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, BuildSessionModel(o));
    COLONY_EXPECT_OK(graph::Validate(p));
    EXPECT_TRUE(IsSessionModel(name));
    EXPECT_FALSE(doc.empty());
    ASSERT_EQ(p.fetches_size(), 1);
    const graph::VarDesc* scores = graph::FindVar(p, 0, p.fetches(0));
    ASSERT_NE(scores, nullptr);
    EXPECT_EQ(scores->shape(1), 51) << name;  // num_items + padding
    const graph::VarDesc* items = graph::FindVar(p, 0, kItemEmbedding);
    ASSERT_NE(items, nullptr);
    EXPECT_EQ(items->shape(0), 51);
    EXPECT_EQ(CountOps(p, "softmax_cross_entropy"), 1);
    EXPECT_TRUE(HasVar(p, "pos_emb")) << name;
    // Two propagation steps: two message-passing ops per step for SR-GNN, one for attention.
    EXPECT_EQ(CountOps(p, "sparse_adj_matmul"), name == "srgnn" ? 4 : 2) << name;
    EXPECT_EQ(CountOps(p, "segment_softmax"), name == "srgnn" ? 0 : 2) << name;
    EXPECT_EQ(CountOps(p, "gru_cell"), name == "srgnn" ? 2 : 0) << name;
  }
}

TEST(SessionModelsTest, PositionNoneDropsThePositionEmbeddings) {
  SessionModelOptions o;
  o.num_items = 10;
  o.position = "none";
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, BuildSessionModel(o));
  EXPECT_FALSE(HasVar(p, "pos_emb"));
  o.position = "reverse";
  COLONY_ASSERT_OK_AND_ASSIGN(p, BuildSessionModel(o));
  EXPECT_TRUE(HasVar(p, "pos_emb"));
  EXPECT_FALSE(HasVar(p, "combine.w"));
  o.combine = "mlp";
  COLONY_ASSERT_OK_AND_ASSIGN(p, BuildSessionModel(o));
  EXPECT_TRUE(HasVar(p, "combine.w"));
}

TEST(SessionModelsTest, BadOptions) {
  const std::vector<std::pair<std::function<void(SessionModelOptions&)>, std::string>> cases = {
      {[](SessionModelOptions& o) { o.num_items = 0; }, "model.num_items must be > 0"},
      {[](SessionModelOptions& o) { o.embedding_dim = 0; }, "model.embedding_dim"},
      {[](SessionModelOptions& o) { o.steps = 0; }, "model.steps"},
      {[](SessionModelOptions& o) { o.position = "left"; }, "model.position"},
      {[](SessionModelOptions& o) { o.max_position = 0; }, "model.max_position"},
      {[](SessionModelOptions& o) { o.combine = "mul"; }, "model.combine"},
  };
  for (const auto& [mutate, message] : cases) {
    SessionModelOptions o;
    o.num_items = 10;
    mutate(o);
    EXPECT_THAT(BuildSessionModel(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)));
  }
  SessionModelOptions o;
  o.num_items = 10;
  o.name = "gru4rec";
  EXPECT_THAT(BuildSessionModel(o),
              StatusIs(StatusCode::kNotFound, HasSubstr("known: attention_graph, srgnn")));
  EXPECT_FALSE(IsSessionModel("dnn"));
}

}  // namespace
}  // namespace colony::models
