#include "colony/ps/optimizer.h"

#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

// Runs `steps` updates of one row with the same gradient each step.
std::vector<float> Steps(const OptimizerOptions& o, std::vector<float> w,
                         const std::vector<float>& g, int steps) {
  auto opt = Optimizer::Create(o);
  EXPECT_TRUE(opt.ok()) << opt.status();
  const int dim = static_cast<int>(w.size());
  std::vector<float> state((*opt)->StateWidth(dim));
  (*opt)->InitState(state.data(), dim);
  for (int i = 0; i < steps; ++i) (*opt)->Update(w.data(), state.data(), g.data(), dim);
  return w;
}

TEST(OptimizerTest, SgdStepsAgainstTheGradient) {
  OptimizerOptions o{.name = "sgd", .learning_rate = 0.5f};
  EXPECT_EQ(Steps(o, {1, 2}, {1, -2}, 2), (std::vector<float>{0, 4}));
}

TEST(OptimizerTest, AdagradMatchesHandComputedSteps) {
  OptimizerOptions o{
      .name = "adagrad", .learning_rate = 0.1f, .epsilon = 0.0f, .initial_accumulator = 0.1f};
  // acc = 0.1 + 4k; w -= 0.1 * 2 / sqrt(acc), three times.
  EXPECT_NEAR(Steps(o, {1}, {2}, 1)[0], 0.901227f, 1e-6);
  EXPECT_NEAR(Steps(o, {1}, {2}, 3)[0], 0.773458f, 1e-6);
}

TEST(OptimizerTest, AdamTakesLearningRateSizedStepsOnAConstantGradient) {
  OptimizerOptions o{.name = "adam", .learning_rate = 0.1f};
  // With bias correction, m_hat / sqrt(v_hat) = sign(g) for a constant gradient.
  const std::vector<float> w = Steps(o, {1, 1}, {0.5f, -1.0f}, 3);
  EXPECT_NEAR(w[0], 0.7f, 1e-5);
  EXPECT_NEAR(w[1], 1.3f, 1e-5);
}

TEST(OptimizerTest, FtrlMatchesHandComputedStepsAndL1Zeroes) {
  OptimizerOptions o{.name = "ftrl", .learning_rate = 0.1f};
  EXPECT_NEAR(Steps(o, {0}, {1}, 1)[0], -0.05f, 1e-6);
  EXPECT_NEAR(Steps(o, {0}, {1}, 2)[0], -0.0914214f, 1e-6);
  o.l1 = 3.0f;  // |z| stays below l1: the weight is exactly zero.
  EXPECT_EQ(Steps(o, {0}, {1}, 2)[0], 0.0f);
}

TEST(OptimizerTest, BadOptionsAreRefused) {
  EXPECT_THAT(Optimizer::Create({.name = "lamb"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("known: adagrad, adam, ftrl, sgd")));
  EXPECT_THAT(Optimizer::Create({.name = "adam", .beta1 = 1.0f}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("beta1")));
  EXPECT_THAT(Optimizer::Create({.name = "ftrl", .lr_power = 0.5f}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("lr_power")));
  EXPECT_THAT(Optimizer::Create({.name = "sgd", .learning_rate = -1}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("learning_rate")));
}

}  // namespace
}  // namespace colony::ps
