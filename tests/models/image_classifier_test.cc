#include "colony/models/image_classifier.h"

#include <vector>

#include "colony/graph/program.h"
#include "program_testing.h"
#include "testing/status_matchers.h"

namespace colony::models {
namespace {
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::CountOps;

TEST(ImageClassifierTest, EachEncoderFeedsItsInputsAndEndsInASoftmaxHead) {
  struct Case {
    std::string type;
    std::vector<std::string> feeds;
    std::string first_op;
  };
  for (const Case& c : std::vector<Case>{{"mlp", {"x", "label"}, "fc"},
                                         {"conv", {"x", "label"}, "reshape"},
                                         {"embedding", {"ids", "offsets", "label"}, "lookup"}}) {
    SCOPED_TRACE(c.type);
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p,
                                BuildImageClassifier(784, {.type = c.type, .hidden = {16}}, 10));
    COLONY_EXPECT_OK(graph::Validate(p));
    EXPECT_EQ(std::vector<std::string>(p.feeds().begin(), p.feeds().end()), c.feeds);
    EXPECT_EQ(p.blocks(0).ops(0).type(), c.first_op);
    EXPECT_EQ(CountOps(p, "softmax_cross_entropy"), 1);
    EXPECT_EQ(p.fetches_size(), 1);
    for (const graph::VarDesc& v : p.blocks(0).vars()) {
      if (!v.persistable()) continue;
      const bool encoder = v.name().rfind(kEncoderParameterPrefix, 0) == 0;
      EXPECT_TRUE(encoder || v.name() == "head.w" || v.name() == "head.b") << v.name();
    }
  }
}

TEST(ImageClassifierTest, ConvNeedsTwentyEightByTwentyEightImages) {
  EXPECT_THAT(BuildImageClassifier(100, {.type = "conv"}, 10).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs 28 x 28 images, got 100")));
}

TEST(ImageClassifierTest, TypeNamesTheArchitecture) {
  EXPECT_EQ(ImageEncoderOptions{}.TypeName(784), "mlp:784-128-64");
  EXPECT_EQ((ImageEncoderOptions{.type = "conv", .hidden = {64}}).TypeName(784),
            "conv:1x28x28-c8-c16-64");
  EXPECT_EQ((ImageEncoderOptions{.type = "embedding", .hidden = {64}}).TypeName(784),
            "embedding:3136x32-64");
}

TEST(ImageClassifierTest, PixelIdsArePositionTimesLevelsPlusTheLevel) {
  std::vector<int64_t> ids;
  // Levels of 4: 0.1 -> 0 (background), 0.3 -> 1, 0.6 -> 2, 1.0 -> 3 (capped).
  AppendPixelIds(std::vector<float>{0.1f, 0.3f, 0.6f, 1.0f}, 4, &ids);
  EXPECT_THAT(ids, ElementsAre(1 * 4 + 1, 2 * 4 + 2, 3 * 4 + 3));
  // An all-background image is the one id 0, appended after what is there.
  AppendPixelIds(std::vector<float>{0.0f, 0.2f}, 4, &ids);
  EXPECT_THAT(ids, ElementsAre(5, 10, 15, 0));
}

}  // namespace
}  // namespace colony::models
