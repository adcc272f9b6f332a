#include "colony/models/mlp_model.h"

#include "colony/graph/program.h"
#include "program_testing.h"
#include "testing/status_matchers.h"

namespace colony::models {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

using testing::CountOps;

TEST(MlpModelTest, LayersOfEqualWidthThenALogit) {
  COLONY_ASSERT_OK_AND_ASSIGN(MlpModel m, BuildMlpModel({.input_dim = 6, .width = 5, .layers = 3}));
  COLONY_EXPECT_OK(graph::Validate(m.program));
  EXPECT_EQ(m.layer_outputs.size(), 3u);
  EXPECT_EQ(CountOps(m.program, "fc"), 3 + 1);
  EXPECT_EQ(CountOps(m.program, "add"), 0);
  EXPECT_EQ(CountOps(m.program, "sigmoid_bce"), 1);
  COLONY_ASSERT_OK_AND_ASSIGN(
      MlpModel skip, BuildMlpModel({.input_dim = 6, .width = 5, .layers = 3, .skip = true}));
  EXPECT_EQ(CountOps(skip.program, "add"), 1);
}

TEST(MlpModelTest, BadOptionsNameTheKey) {
  EXPECT_THAT(BuildMlpModel({.input_dim = 0}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("model.input_dim must be >= 1")));
  EXPECT_THAT(BuildMlpModel({.width = 0}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("model.width must be >= 1")));
  EXPECT_THAT(BuildMlpModel({.layers = 0}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("model.layers must be >= 1")));
}

}  // namespace
}  // namespace colony::models
