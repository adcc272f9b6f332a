#include "colony/models/ctr_models.h"

#include "colony/graph/program.h"
#include "program_testing.h"
#include "testing/status_matchers.h"

namespace colony::models {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

using testing::CountOps;

TEST(CtrModelsTest, EveryModelFollowsTheCtrContract) {
  for (const auto& [name, doc] : CtrModelNames()) {
    CtrModelOptions o;
    o.name = name;
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, BuildCtrModel(o));
    COLONY_EXPECT_OK(graph::Validate(p));
    EXPECT_THAT(p.feeds(), ::testing::ElementsAre(kDenseFeed, kSparseIdsFeed, kLabelFeed)) << name;
    EXPECT_EQ(p.fetches_size(), 1) << name;
    EXPECT_FALSE(p.loss().empty()) << name;
    EXPECT_EQ(CountOps(p, "sigmoid_bce"), 1) << name;
    EXPECT_GE(CountOps(p, "sparse_lookup"), 1) << name;
    EXPECT_FALSE(doc.empty());
  }
}

TEST(CtrModelsTest, BagInputUsesWeightedFeatureFeeds) {
  for (const char* name : {"lr", "dnn", "wide_deep"}) {
    CtrModelOptions o;
    o.name = name;
    o.input = "bag";
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p, BuildCtrModel(o));
    EXPECT_THAT(p.feeds(), ::testing::ElementsAre(kFeatureIdsFeed, kFeatureOffsetsFeed,
                                                  kFeatureValuesFeed, kLabelFeed))
        << name;
    for (const auto& op : p.blocks(0).ops()) {
      if (op.type() == "sparse_lookup") {
        EXPECT_EQ(op.inputs_size(), 4) << name;
      }
    }
  }
  CtrModelOptions o;
  o.input = "lists";
  EXPECT_THAT(BuildCtrModel(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr("model.input")));
}

TEST(CtrModelsTest, ModelsDifferInTheirParts) {
  CtrModelOptions o;
  o.name = "lr";
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc lr, BuildCtrModel(o));
  EXPECT_EQ(CountOps(lr, "fc"), 1);  // Only the dense linear term.
  o.name = "dnn";
  o.hidden = {32, 16, 8};
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc dnn, BuildCtrModel(o));
  EXPECT_EQ(CountOps(dnn, "fc"), 4);
  o.name = "deepfm";
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc deepfm, BuildCtrModel(o));
  EXPECT_EQ(CountOps(deepfm, "sparse_lookup"), 2);  // First-order weights and embeddings.
  EXPECT_EQ(CountOps(deepfm, "sub"), 1);            // FM: square of sum - sum of squares.
  o.dropout = 0.2f;
  COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc dropped, BuildCtrModel(o));
  EXPECT_EQ(CountOps(dropped, "dropout"), 3);
}

TEST(CtrModelsTest, BadOptionsNameTheField) {
  struct Case {
    CtrModelOptions options;
    StatusCode code;
    const char* fragment;
  };
  std::vector<Case> cases(6);
  cases[0].options.name = "xgboost";
  cases[0].code = StatusCode::kNotFound;
  cases[0].fragment = "known: deepfm, dnn, lr, wide_deep";
  cases[1].options.embedding_dim = 0;
  cases[1].fragment = "model.embedding_dim must be > 0";
  cases[2].options.hidden = {8, 0};
  cases[2].fragment = "model.hidden";
  cases[3].options.dropout = 1.0f;
  cases[3].fragment = "model.dropout";
  cases[4].options.num_slots = 0;
  cases[4].fragment = "model.num_slots";
  cases[5].options.init_scale = -1;
  cases[5].fragment = "model.init_scale";
  for (size_t i = 1; i < cases.size(); ++i) cases[i].code = StatusCode::kInvalidArgument;
  for (const Case& c : cases) {
    EXPECT_THAT(BuildCtrModel(c.options), StatusIs(c.code, HasSubstr(c.fragment)));
  }
}

}  // namespace
}  // namespace colony::models
