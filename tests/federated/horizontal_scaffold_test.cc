// SCAFFOLD drift correction for horizontal FL: the control variate arithmetic on tiny vectors,
// the config combinations it refuses, and sessions with in-process children over real gRPC on
// 127.0.0.1 (every child's c_i rebuilt from the delta_c it sends).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "colony/federated/horizontal.h"
#include "colony/federated/internal/hfl_model.h"
#include "colony/federated/internal/scaffold.h"
#include "colony/horizontal.pb.h"
#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;

constexpr char kTiny[] = R"(horizontal:
  data:
    train_samples: 1000
    test_samples: 400
  encoder:
    hidden: [16]
  train:
    rounds: 3
    local_epochs: 1
    learning_rate: 0.02
    round_timeout_s: 30
    share_head: true
    scaffold: true
)";

HorizontalConfig TinyConfig(const std::vector<std::string>& overrides = {}) {
  return testing::LoadHorizontal("scaffold.yaml", kTiny, overrides);
}

TEST(ScaffoldMathTest, ChildUpdateFollowsOptionTwo) {
  // c_i+ = c_i - c + (x - y) / (K eta) with K = 2, eta = 0.1: (x - y) / 0.2 = {1, -1}.
  const std::vector<float> c = {1, 2}, x = {1, 1}, y = {0.8f, 1.2f};
  std::vector<float> local = {0.5f, 0};
  COLONY_ASSERT_OK_AND_ASSIGN(std::vector<float> delta,
                              internal::ScaffoldChildUpdate(c, x, y, 2, 0.1, &local));
  EXPECT_THAT(local, ElementsAre(FloatNear(0.5f, 1e-5), FloatNear(-3, 1e-5)));
  EXPECT_THAT(delta, ElementsAre(FloatNear(0, 1e-5), FloatNear(-3, 1e-5)));
  COLONY_ASSERT_OK_AND_ASSIGN(std::vector<float> correction,
                              internal::ScaffoldCorrection(c, local));
  EXPECT_THAT(correction, ElementsAre(FloatNear(0.5f, 1e-5), FloatNear(5, 1e-5)));
}

TEST(ScaffoldMathTest, OptionOneTakesTheGradient) {
  std::vector<float> local = {0.5f, -1};
  COLONY_ASSERT_OK_AND_ASSIGN(std::vector<float> delta, internal::ScaffoldChildUpdateOptionOne(
                                                            std::vector<float>{2, 1}, &local));
  EXPECT_THAT(local, ElementsAre(FloatNear(2, 1e-6), FloatNear(1, 1e-6)));
  EXPECT_THAT(delta, ElementsAre(FloatNear(1.5f, 1e-6), FloatNear(2, 1e-6)));
  EXPECT_THAT(internal::ScaffoldChildUpdateOptionOne(std::vector<float>{1}, &local).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("child's control variate")));
}

TEST(ScaffoldModelTest, MeanGradientIsWhatOneFullBatchSgdStepMoves) {
  // One batch holding every sample, plain SGD: y = x - lr * gradient(x), so the option I
  // gradient at x equals (x - y) / lr.
  HorizontalConfig config =
      TinyConfig({"horizontal.train.momentum=0", "horizontal.train.batch_size=200"});
  COLONY_ASSERT_OK_AND_ASSIGN(ImageSet data, LoadFashionMnist(config.data.dir, true, 200));
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto model, internal::EncoderModel::Create(784, config.encoder, 10, config.train, 5));
  const std::vector<float> x = model->SharedParameters();
  COLONY_ASSERT_OK_AND_ASSIGN(const std::vector<float> gradient, model->MeanGradient(data));
  EXPECT_EQ(model->SharedParameters(), x);  // No step.
  COLONY_ASSERT_OK(model->Train(data, 1, 0, 7).status());
  const std::vector<float> y = model->SharedParameters();
  ASSERT_EQ(gradient.size(), x.size());
  double most = 0, largest = 0;
  for (size_t j = 0; j < x.size(); ++j) {
    const double moved = (static_cast<double>(x[j]) - y[j]) / config.train.learning_rate;
    most = std::max(most, std::abs(moved - gradient[j]));
    largest = std::max(largest, std::abs(static_cast<double>(gradient[j])));
  }
  EXPECT_GT(largest, 1e-3);
  EXPECT_LT(most, 1e-3 * largest + 1e-5);
}

TEST(ScaffoldMathTest, MasterAddsParticipantShareOfTheMeanDelta) {
  // Two of four children answered: c += 2 / 4 * mean = sum / 4.
  std::vector<float> c = {1, 0};
  ASSERT_TRUE(internal::ScaffoldMasterUpdate({{1, 2}, {3, 4}}, {1, 1}, 4, &c).ok());
  EXPECT_THAT(c, ElementsAre(FloatNear(2, 1e-6), FloatNear(1.5f, 1e-6)));
  // By samples: 100 and 300 of 800 samples answered: c += (100 d0 + 300 d1) / 800.
  c = {0, 0};
  ASSERT_TRUE(internal::ScaffoldMasterUpdate({{1, 2}, {3, 4}}, {100, 300}, 800, &c).ok());
  EXPECT_THAT(c, ElementsAre(FloatNear(1.25f, 1e-6), FloatNear(1.75f, 1e-6)));
}

TEST(ScaffoldMathTest, GlobalStaysTheMeanOfTheChildrenAndIdenticalChildrenNeedNoCorrection) {
  // Three children with full participation, over rounds: c stays mean(c_i). When every child
  // moves the same way (IID in the limit) the correction c - c_i is zero.
  const std::vector<float> x = {0.5f, -1, 2};
  const std::vector<std::vector<float>> moves = {{0.1f, 0, -0.2f}, {0, 0.3f, 0}, {-0.1f, 0, 0.4f}};
  std::vector<float> c(3, 0);
  std::vector<std::vector<float>> local(3, std::vector<float>(3, 0));
  std::vector<std::vector<float>> identical = local;
  std::vector<float> c_identical(3, 0);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::vector<float>> deltas, identical_deltas;
    for (int i = 0; i < 3; ++i) {
      std::vector<float> y = x, y_same = x;
      for (int j = 0; j < 3; ++j) {
        y[j] -= moves[i][j] * (round + 1);
        y_same[j] -= moves[0][j] * (round + 1);
      }
      COLONY_ASSERT_OK_AND_ASSIGN(std::vector<float> d,
                                  internal::ScaffoldChildUpdate(c, x, y, 5, 0.01, &local[i]));
      deltas.push_back(d);
      COLONY_ASSERT_OK_AND_ASSIGN(
          d, internal::ScaffoldChildUpdate(c_identical, x, y_same, 5, 0.01, &identical[i]));
      identical_deltas.push_back(d);
    }
    ASSERT_TRUE(internal::ScaffoldMasterUpdate(deltas, {1, 1, 1}, 3, &c).ok());
    ASSERT_TRUE(internal::ScaffoldMasterUpdate(identical_deltas, {1, 1, 1}, 3, &c_identical).ok());
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(c[j], (local[0][j] + local[1][j] + local[2][j]) / 3, 1e-3) << round;
      for (int i = 0; i < 3; ++i) EXPECT_NEAR(c_identical[j], identical[i][j], 1e-3) << round;
    }
  }
  EXPECT_GT(std::abs(c[1] - local[1][1]), 1);  // Different children: a real correction.
}

TEST(ScaffoldMathTest, BadInputIsNamed) {
  std::vector<float> local = {0, 0};
  const std::vector<float> two = {1, 1}, three = {1, 1, 1};
  EXPECT_THAT(internal::ScaffoldChildUpdate(three, two, two, 1, 0.1, &local).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("global control variate")));
  EXPECT_THAT(internal::ScaffoldChildUpdate(two, two, three, 1, 0.1, &local).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("trained parameter set")));
  EXPECT_THAT(internal::ScaffoldChildUpdate(two, two, two, 0, 0.1, &local).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no local step")));
  EXPECT_THAT(internal::ScaffoldCorrection(two, three).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("child's control variate")));
  std::vector<float> c = {0, 0};
  EXPECT_THAT(internal::ScaffoldMasterUpdate({}, {}, 2, &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no control variate update")));
  EXPECT_THAT(internal::ScaffoldMasterUpdate({three}, {1}, 2, &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a control variate update")));
  EXPECT_THAT(internal::ScaffoldMasterUpdate({two}, {1, 1}, 2, &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 control variate updates but 2")));
  EXPECT_THAT(internal::ScaffoldMasterUpdate({two, two}, {2, 1}, 2, &c),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than all children")));
  EXPECT_THAT(internal::ScaffoldStepSize("adam", 0.01, 0.9).status(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("needs optimizer sgd")));
  COLONY_ASSERT_OK_AND_ASSIGN(double step, internal::ScaffoldStepSize("sgd", 0.01, 0.9));
  EXPECT_NEAR(step, 0.1, 1e-12);
}

TEST(ScaffoldConfigTest, RefusesCombinationsWithoutAMeaning) {
  const std::string path = WriteTemp("scaffold_bad.yaml", kTiny);
  testing::ExpectHorizontalConfigErrors(
      path, {
                {"horizontal.train.aggregation=median", "scaffold needs aggregation fedavg"},
                {"horizontal.train.aggregation=trimmed_mean", "scaffold needs aggregation fedavg"},
                {"horizontal.train.optimizer=adam", "scaffold needs optimizer sgd, not 'adam'"},
                {"horizontal.train.momentum=1", "train.momentum must be in [0, 1)"},
                {"horizontal.train.scaffold_weights=equal",
                 "'equal' is unknown; use children or samples"},
            });
  EXPECT_TRUE(TinyConfig().train.scaffold);
  EXPECT_FALSE(TinyConfig({"horizontal.train.scaffold=false"}).train.scaffold);
}

// Every Train response of each child ("child I"), as the master receives it.
struct ChildResponses {
  std::mutex mu;
  std::map<std::string, std::vector<hrpc::TrainResponse>> by_child;
  MessageObserver Observer() {
    return [this](const FlMessage& m) {
      if (m.method != "/colony.fl.hrpc.HorizontalChild/Train") return;
      hrpc::TrainResponse r;
      ASSERT_TRUE(r.ParseFromString(m.bytes));
      std::lock_guard<std::mutex> lock(mu);
      by_child[m.sender].push_back(r);
    };
  }
  // Each child's c_i: the sum of its delta_c over the rounds.
  std::vector<std::vector<float>> Controls() {
    std::vector<std::vector<float>> out;
    for (const auto& [child, responses] : by_child) {
      std::vector<float> c(responses.front().control_delta_size(), 0);
      for (const hrpc::TrainResponse& r : responses) {
        EXPECT_EQ(r.control_delta_size(), static_cast<int>(c.size()));
        for (int j = 0; j < r.control_delta_size(); ++j) c[j] += r.control_delta(j);
      }
      out.push_back(c);
    }
    return out;
  }
};

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double most = 0;
  for (size_t j = 0; j < a.size(); ++j) most = std::max(most, std::abs(double{a[j]} - b[j]));
  return most;
}

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

// Mean over the children of |c - c_i| / |c|: how far the children's gradients disagree.
double Spread(const std::vector<float>& c, const std::vector<std::vector<float>>& locals) {
  double sum = 0;
  for (const std::vector<float>& l : locals) {
    std::vector<float> d(c.size());
    for (size_t j = 0; j < c.size(); ++j) d[j] = c[j] - l[j];
    sum += Norm(d);
  }
  return sum / static_cast<double>(locals.size()) / Norm(c);
}

TEST(ScaffoldSessionTest, GlobalControlIsTheChildrenMeanAndSmallerSpreadForIid) {
  ChildResponses iid_seen;
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult iid, testing::RunHorizontalSession(
                                                    TinyConfig(), 3, nullptr, iid_seen.Observer()));
  const size_t params = 784 * 16 + 16 + 16 * 10 + 10;  // Encoder and the shared head.
  ASSERT_EQ(iid.control.size(), params);
  ASSERT_EQ(iid_seen.by_child.size(), 3u);
  for (const auto& [child, responses] : iid_seen.by_child) {
    ASSERT_EQ(responses.size(), 3u) << child;
    // K = ceil(334 or 333 samples / 32) = 11 steps of one epoch.
    for (const hrpc::TrainResponse& r : responses) EXPECT_EQ(r.local_steps(), 11) << child;
  }
  const std::vector<std::vector<float>> locals = iid_seen.Controls();
  std::vector<float> mean(params, 0);
  for (const std::vector<float>& l : locals) {
    for (size_t j = 0; j < params; ++j) mean[j] += l[j] / 3;
  }
  EXPECT_LT(MaxDiff(iid.control, mean), 1e-4);  // Full participation: c = mean(c_i).
  EXPECT_GT(Norm(iid.control), 0);
  EXPECT_GT(iid.test_accuracy, 0.6);

  ChildResponses skewed_seen;
  const HorizontalConfig skewed_config =
      TinyConfig({"horizontal.data.split=dirichlet", "horizontal.data.alpha=0.1"});
  COLONY_ASSERT_OK_AND_ASSIGN(
      MasterResult skewed,
      testing::RunHorizontalSession(skewed_config, 3, nullptr, skewed_seen.Observer()));
  const double iid_spread = Spread(iid.control, locals);
  const double skewed_spread = Spread(skewed.control, skewed_seen.Controls());
  EXPECT_LT(iid_spread, 0.5 * skewed_spread) << iid_spread << " vs " << skewed_spread;
}

TEST(ScaffoldSessionTest, OptionOneSendsEachChildsMeanGradientAtTheReceivedParameters) {
  // Option I with sample weights: c_i is the child's gradient at the received x, and c the
  // sample-weighted mean of the c_i.
  ChildResponses seen;
  COLONY_ASSERT_OK_AND_ASSIGN(
      MasterResult r,
      testing::RunHorizontalSession(
          TinyConfig({"horizontal.train.scaffold_option=1",
                      "horizontal.train.scaffold_weights=samples", "horizontal.train.momentum=0",
                      "horizontal.train.learning_rate=0.05"}),
          2, nullptr, seen.Observer()));
  const std::vector<std::vector<float>> locals = seen.Controls();
  ASSERT_EQ(locals.size(), 2u);
  std::vector<float> mean(r.control.size(), 0);
  for (size_t j = 0; j < mean.size(); ++j)
    mean[j] = (locals[0][j] + locals[1][j]) / 2;  // 500 each.
  EXPECT_LT(MaxDiff(r.control, mean), 1e-4);
  EXPECT_GT(Norm(locals[0]), 0);
  EXPECT_GT(r.test_accuracy, 0.5);
}

// Under secure aggregation the control variate updates travel masked with the parameters, and
// the master's c and parameters are those of the session in the clear (up to 2^-24 fixed
// point), for both weightings and with a child left out of a round.
TEST(ScaffoldSessionTest, SecureAggregationMasksTheControlUpdatesAndKeepsTheResult) {
  const std::vector<std::string> slow = {
      "horizontal.children.slow=[2]", "horizontal.children.slow_rounds=[2]",
      "horizontal.children.slow_delay_s=4.5", "horizontal.train.round_timeout_s=3",
      "horizontal.train.quorum=2"};
  for (const std::string weights : {"children", "samples"}) {
    SCOPED_TRACE(weights);
    std::vector<std::string> overrides = slow;
    overrides.push_back("horizontal.train.scaffold_weights=" + weights);
    COLONY_ASSERT_OK_AND_ASSIGN(MasterResult clear,
                                testing::RunHorizontalSession(TinyConfig(overrides), 3));
    overrides.push_back("horizontal.train.secure_aggregation=true");
    ChildResponses seen;
    COLONY_ASSERT_OK_AND_ASSIGN(
        MasterResult secure,
        testing::RunHorizontalSession(TinyConfig(overrides), 3, nullptr, seen.Observer()));
    EXPECT_EQ(secure.rounds[1].participants, (std::vector<int>{0, 1}));
    EXPECT_LT(MaxDiff(clear.control, secure.control), 1e-4);
    EXPECT_LT(MaxDiff(clear.encoder, secure.encoder), 1e-4);
    EXPECT_GT(Norm(secure.control), 0);
    const size_t params = 784 * 16 + 16 + 16 * 10 + 10;
    for (const auto& [child, responses] : seen.by_child) {
      for (const hrpc::TrainResponse& r : responses) {
        EXPECT_EQ(r.control_delta_size(), 0) << child;
        EXPECT_EQ(r.parameters_size(), 0) << child;
        EXPECT_EQ(r.masked_size(), static_cast<int>(2 * params)) << child;
      }
    }
  }
}

TEST(ScaffoldSessionTest, ChildWithAdamRefusesTheMastersScaffoldRound) {
  HorizontalConfig child_config = TinyConfig({"horizontal.train.scaffold=false"});
  child_config.train.optimizer = "adam";
  EXPECT_THAT(testing::RunHorizontalSession(TinyConfig(), 2, &child_config).status(),
              StatusIs(StatusCode::kAborted, HasSubstr("round 1 got 0 of 2 updates")));
}

}  // namespace
}  // namespace colony::fl
