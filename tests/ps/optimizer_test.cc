#include "colony/ps/optimizer.h"

#include <cmath>

#include "testing/status_matchers.h"

namespace colony::ps {
namespace {
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;

// The three gradients every reference below applies to a 2-dim row, one per step.
const float kGrads[3][2] = {{2.0f, -1.0f}, {-1.0f, 0.5f}, {0.5f, 3.0f}};

// Runs the optimizer over kGrads from `w` and returns the weights after each step.
std::vector<std::vector<float>> RunSteps(const OptimizerOptions& o, std::vector<float> w,
                                         std::vector<float>* final_state = nullptr) {
  auto opt = Optimizer::Create(o);
  EXPECT_TRUE(opt.ok()) << opt.status();
  if (!opt.ok()) return {};
  std::vector<float> state((*opt)->StateWidth(2));
  (*opt)->InitState(state.data(), 2);
  std::vector<std::vector<float>> after;
  for (const auto& g : kGrads) {
    (*opt)->Update(w.data(), state.data(), g, 2);
    after.push_back(w);
  }
  if (final_state != nullptr) *final_state = state;
  return after;
}

// The expected values were worked out by hand (in double precision) from the formulas in
// docs/ps.md, independently of the code under test; float rounding stays below 1e-6.
constexpr float kTol = 2e-6f;

TEST(OptimizerTest, SgdMatchesHandComputedSteps) {
  const auto w = RunSteps({.name = "sgd", .learning_rate = 0.1f}, {1.0f, -0.5f});
  ASSERT_EQ(w.size(), 3u);
  // w -= 0.1 g: (1, -0.5) -> (0.8, -0.4) -> (0.9, -0.45) -> (0.85, -0.75).
  EXPECT_THAT(w[0], ElementsAre(FloatNear(0.8f, kTol), FloatNear(-0.4f, kTol)));
  EXPECT_THAT(w[1], ElementsAre(FloatNear(0.9f, kTol), FloatNear(-0.45f, kTol)));
  EXPECT_THAT(w[2], ElementsAre(FloatNear(0.85f, kTol), FloatNear(-0.75f, kTol)));
}

TEST(OptimizerTest, AdagradMatchesHandComputedSteps) {
  std::vector<float> acc;
  const auto w = RunSteps(
      {.name = "adagrad", .learning_rate = 0.1f, .epsilon = 0.01f, .initial_accumulator = 0.1f},
      {1.0f, -0.5f}, &acc);
  ASSERT_EQ(w.size(), 3u);
  // a = 0.1 + sum g^2; w -= 0.1 g / (sqrt(a) + 0.01).
  // Step 1: a = (4.1, 1.1): w0 = 1 - 0.2 / 2.034846 = 0.9017124.
  EXPECT_THAT(w[0], ElementsAre(FloatNear(0.9017124f, kTol), FloatNear(-0.4055542f, kTol)));
  EXPECT_THAT(w[1], ElementsAre(FloatNear(0.9457980f, kTol), FloatNear(-0.4482202f, kTol)));
  EXPECT_THAT(w[2], ElementsAre(FloatNear(0.9242741f, kTol), FloatNear(-0.5411817f, kTol)));
  EXPECT_THAT(acc, ElementsAre(FloatNear(5.35f, kTol), FloatNear(10.35f, kTol)));
}

TEST(OptimizerTest, AdamMatchesHandComputedSteps) {
  std::vector<float> state;
  const auto w =
      RunSteps({.name = "adam", .learning_rate = 0.1f, .epsilon = 1e-3f}, {1.0f, -0.5f}, &state);
  ASSERT_EQ(w.size(), 3u);
  // m_hat / (sqrt(v_hat) + eps) with bias correction 1 - beta^t; step 1 is lr * g/(|g|+eps).
  EXPECT_THAT(w[0], ElementsAre(FloatNear(0.9000500f, kTol), FloatNear(-0.4000999f, kTol)));
  EXPECT_THAT(w[1], ElementsAre(FloatNear(0.8734331f, kTol), FloatNear(-0.3734998f, kTol)));
  EXPECT_THAT(w[2], ElementsAre(FloatNear(0.8394159f, kTol), FloatNear(-0.4261536f, kTol)));
  // State: m [2], v [2], then this row's step count.
  ASSERT_EQ(state.size(), 5u);
  EXPECT_EQ(state[4], 3.0f);
  // m = 0.1 (0.81 g1 + 0.9 g2 + g3).
  EXPECT_NEAR(state[0], 0.1 * (0.81 * 2 + 0.9 * -1 + 0.5), 1e-6);
}

TEST(OptimizerTest, FtrlMatchesHandComputedSteps) {
  std::vector<float> state;
  const auto w =
      RunSteps({.name = "ftrl", .learning_rate = 0.1f, .l1 = 0.05f, .l2 = 0.1f, .beta = 1.0f},
               {0.0f, 0.0f}, &state);
  ASSERT_EQ(w.size(), 3u);
  // sigma = (sqrt(n + g^2) - sqrt(n)) / alpha; z += g - sigma w; n += g^2;
  // w = -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2). Step 1: z = 2, n = 4:
  // w0 = -(1.95) / (30 + 0.1) = -0.0647841.
  EXPECT_THAT(w[0], ElementsAre(FloatNear(-0.0647841f, kTol), FloatNear(0.0472637f, kTol)));
  EXPECT_THAT(w[1], ElementsAre(FloatNear(-0.0339776f, kTol), FloatNear(0.0237678f, kTol)));
  EXPECT_THAT(w[2], ElementsAre(FloatNear(-0.0491232f, kTol), FloatNear(-0.0450902f, kTol)));
  // State: z [2], n [2].
  EXPECT_THAT(state, ElementsAre(FloatNear(1.6716968f, 1e-5f), FloatNear(1.9490037f, 1e-5f),
                                 FloatNear(5.25f, kTol), FloatNear(10.25f, kTol)));
}

TEST(OptimizerTest, FtrlL1KeepsSmallWeightsExactlyZero) {
  // z is the running gradient sum while w stays 0: (2, -1), (1, -0.5), (1.5, 2.5), all
  // within l1 = 3.5, so the weights are exactly zero after every step.
  const auto w = RunSteps({.name = "ftrl", .learning_rate = 0.1f, .l1 = 3.5f}, {0.0f, 0.0f});
  ASSERT_EQ(w.size(), 3u);
  for (const auto& step : w) EXPECT_THAT(step, ElementsAre(0.0f, 0.0f));
}

TEST(OptimizerTest, StateWidthsFollowTheRule) {
  for (const auto& [name, width] : std::vector<std::pair<std::string, int>>{
           {"sgd", 0}, {"adagrad", 8}, {"adam", 17}, {"ftrl", 16}}) {
    COLONY_ASSERT_OK_AND_ASSIGN(auto opt, Optimizer::Create({.name = name}));
    EXPECT_EQ(opt->StateWidth(8), width) << name;
    EXPECT_EQ(opt->name(), name);
  }
}

TEST(OptimizerTest, BadOptionsAreRefused) {
  struct Case {
    OptimizerOptions options;
    StatusCode code;
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {{.name = "lamb"}, StatusCode::kNotFound, "known: adagrad, adam, ftrl, sgd"},
      {{.name = "sgd", .learning_rate = -1}, StatusCode::kInvalidArgument, "learning_rate"},
      {{.name = "sgd", .learning_rate = 0}, StatusCode::kInvalidArgument, "learning_rate"},
      {{.name = "sgd", .learning_rate = NAN}, StatusCode::kInvalidArgument, "learning_rate"},
      {{.name = "adagrad", .epsilon = -1}, StatusCode::kInvalidArgument, "epsilon"},
      {{.name = "adagrad", .initial_accumulator = -0.1f},
       StatusCode::kInvalidArgument,
       "initial_accumulator"},
      {{.name = "adam", .beta1 = 1.0f}, StatusCode::kInvalidArgument, "beta1"},
      {{.name = "adam", .beta2 = -0.5f}, StatusCode::kInvalidArgument, "beta2"},
      {{.name = "ftrl", .l1 = -1}, StatusCode::kInvalidArgument, "l1 must be >= 0"},
      {{.name = "ftrl", .l2 = -1}, StatusCode::kInvalidArgument, "l2 must be >= 0"},
      {{.name = "ftrl", .lr_power = 0.5f}, StatusCode::kInvalidArgument, "lr_power"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Optimizer::Create(c.options), StatusIs(c.code, HasSubstr(c.fragment)))
        << c.options.name;
  }
}

TEST(OptimizerTest, OnlyTheChosenOptimizersFieldsAreChecked) {
  // Fields another rule reads may hold anything (a client that left them at 0, say).
  const std::vector<OptimizerOptions> fine = {
      {.name = "sgd", .epsilon = -1, .beta1 = 2, .l1 = -1, .lr_power = 0},
      {.name = "adagrad", .beta1 = 1, .beta2 = -1, .lr_power = 0.5f},
      {.name = "adam", .initial_accumulator = -1, .l2 = -1, .lr_power = 0},
      {.name = "ftrl", .epsilon = -1, .initial_accumulator = -1, .beta1 = 1},
  };
  for (const OptimizerOptions& o : fine) COLONY_EXPECT_OK(o.Validate()) << o.name;
}

TEST(OptimizerRegistryTest, HoldsTheStandardOptimizers) {
  EXPECT_EQ(OptimizerRegistry::Global().Names(),
            (std::vector<std::string>{"adagrad", "adam", "ftrl", "sgd"}));
  EXPECT_EQ(OptimizerNames(), OptimizerRegistry::Global().Names());
  COLONY_ASSERT_OK_AND_ASSIGN(const OptimizerEntry* adam, OptimizerRegistry::Global().Find("adam"));
  EXPECT_EQ(adam->name, "adam");
  EXPECT_FALSE(adam->doc.empty());
  EXPECT_THAT(OptimizerRegistry::Global().Find("rmsprop"),
              StatusIs(StatusCode::kNotFound, HasSubstr("'rmsprop' is not known; known: adagrad")));
}

TEST(OptimizerRegistryTest, DuplicateAndEmptyEntriesAreRefused) {
  OptimizerRegistry registry;
  COLONY_ASSERT_OK(RegisterStandardOptimizers(registry));
  EXPECT_THAT(RegisterStandardOptimizers(registry),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("'sgd'")));
  EXPECT_THAT(registry.Register({.name = "nothing", .doc = "", .create = nullptr}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("create function")));
  COLONY_ASSERT_OK_AND_ASSIGN(const OptimizerEntry* sgd, registry.Find("sgd"));
  COLONY_ASSERT_OK(registry.Register({.name = "sgd2", .doc = "", .create = sgd->create}));
  EXPECT_EQ(registry.Names().size(), 5u);
}

}  // namespace
}  // namespace colony::ps
