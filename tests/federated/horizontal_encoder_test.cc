// Horizontal FL encoders as executor programs: the mlp, conv and embedding programs, the
// exchanged parameter set (encoder only, or with the head), and sessions that train each over
// real gRPC on 127.0.0.1; FedProx and server momentum.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "colony/federated/horizontal.h"
#include "colony/federated/internal/hfl_model.h"
#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kTiny[] = R"(horizontal:
  data:
    train_samples: 900
    test_samples: 300
  encoder:
    hidden: [16]
    channels: [4]
    embedding_dim: 8
  train:
    rounds: 3
    local_epochs: 2
    learning_rate: 0.05
    round_timeout_s: 60
)";

HorizontalConfig Tiny(const std::vector<std::string>& overrides = {}) {
  return testing::LoadHorizontal("enc_tiny.yaml", kTiny, overrides);
}

StatusOr<MasterResult> RunSession(const HorizontalConfig& config, int k) {
  return testing::RunHorizontalSession(config, k);
}

std::set<std::string> OpTypes(const graph::ProgramDesc& p) {
  std::set<std::string> types;
  for (const graph::OpDesc& op : p.blocks(0).ops()) types.insert(op.type());
  return types;
}

std::vector<float> InitialShared(const HorizontalConfig& config) {
  StatusOr<std::unique_ptr<internal::EncoderModel>> model =
      internal::EncoderModel::Create(784, config.encoder, 10, config.train, 0);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? (*model)->SharedParameters() : std::vector<float>{};
}

double Distance(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(sum);
}

TEST(EncoderProgramTest, EachTypeIsAProgramWithItsOpsAndParameters) {
  struct Case {
    std::string type, name;
    std::vector<std::string> ops;
    size_t shared;
  } cases[] = {
      {"mlp", "mlp:784-16", {"fc", "softmax_cross_entropy"}, 784 * 16 + 16},
      {"conv",
       "conv:1x28x28-c4-16",
       {"reshape", "conv2d", "pool2d", "flatten", "fc"},
       (4 * 9 + 4) + (4 * 14 * 14 * 16 + 16)},
      {"embedding", "embedding:3136x8-16", {"lookup", "fc"}, 3136 * 8 + (8 * 16 + 16)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    const HorizontalConfig config = Tiny({"horizontal.encoder.type=" + c.type});
    EXPECT_EQ(config.encoder.TypeName(784), c.name);
    COLONY_ASSERT_OK_AND_ASSIGN(graph::ProgramDesc p,
                                models::BuildImageClassifier(784, config.encoder, 10));
    const std::set<std::string> types = OpTypes(p);
    for (const std::string& op : c.ops) EXPECT_TRUE(types.count(op)) << op;
    int head = 0;
    for (const graph::VarDesc& v : p.blocks(0).vars()) {
      if (!v.persistable()) continue;
      EXPECT_TRUE(v.name().rfind("enc.", 0) == 0 || v.name().rfind("head.", 0) == 0) << v.name();
      head += v.name().rfind("head.", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(head, 2);
    EXPECT_EQ(InitialShared(config).size(), c.shared);
    // With a shared head the exchanged set also holds the head's 16 x 10 + 10 values.
    EXPECT_EQ(InitialShared(
                  Tiny({"horizontal.encoder.type=" + c.type, "horizontal.train.share_head=true"}))
                  .size(),
              c.shared + 170);
  }
}

TEST(EncoderProgramTest, SharedParametersRoundTripAndBadLengthIsRejected) {
  const HorizontalConfig config = Tiny({"horizontal.encoder.type=conv"});
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto model, internal::EncoderModel::Create(784, config.encoder, 10, config.train, 3));
  std::vector<float> values = model->SharedParameters();
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 7) * 0.01f;
  COLONY_ASSERT_OK(model->SetSharedParameters(values));
  EXPECT_EQ(model->SharedParameters(), values);
  values.pop_back();
  EXPECT_THAT(model->SetSharedParameters(values),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the encoder has")));
}

TEST(EncoderConfigTest, BadEncoderAndOptimizationKeysAreNamed) {
  const std::string path = WriteTemp("enc_bad.yaml", kTiny);
  struct Case {
    std::string override, message;
  } cases[] = {
      {"horizontal.encoder.type=cnn", "'cnn' is unknown; use mlp, conv or embedding"},
      {"horizontal.encoder.channels=[]", "the conv encoder needs 1 to 4 conv layers"},
      {"horizontal.encoder.channels=[4, 0]", "channels"},
      {"horizontal.encoder.levels=1", "levels"},
      {"horizontal.encoder.embedding_dim=0", "embedding_dim"},
      {"horizontal.train.prox_mu=-1", "train.prox_mu must be >= 0"},
      {"horizontal.train.server_momentum=1", "train.server_momentum must be in [0, 1)"},
      {"horizontal.train.local_steps=-1", "train.local_steps must be >= 0"},
      {"horizontal.train.lr_schedule=step", "'step' is unknown; use constant or cosine"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> overrides = {c.override};
    if (c.override.find("channels") != std::string::npos) {
      overrides.push_back("horizontal.encoder.type=conv");
    }
    EXPECT_THAT(LoadHorizontalConfig(path, overrides).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.override;
  }
}

TEST(EncoderConfigTest, CosineScheduleFallsFromOneToNearZero) {
  HorizontalTrainOptions train;
  EXPECT_EQ(train.LearningRateScale(0.7), 1.0);
  train.lr_schedule = "cosine";
  EXPECT_DOUBLE_EQ(train.LearningRateScale(0), 1.0);
  EXPECT_NEAR(train.LearningRateScale(0.5), 0.5, 1e-12);
  EXPECT_NEAR(train.LearningRateScale(0.99), 0.0, 1e-3);
  EXPECT_GT(train.LearningRateScale(0.99), 0.0);
}

StatusOr<ImageSet> TinyTrainImages(const HorizontalConfig& config) {
  return LoadFashionMnist(config.data.dir, true, config.data.train_samples);
}

TEST(EncoderModelTest, LocalStepsOfOnePassAreOneEpochAndALearningRateOfZeroStandsStill) {
  const HorizontalConfig config = Tiny();
  COLONY_ASSERT_OK_AND_ASSIGN(const ImageSet data, TinyTrainImages(config));
  const int64_t per_pass = (data.rows() + config.train.batch_size - 1) / config.train.batch_size;
  auto trained = [&](int epochs, int64_t steps, double learning_rate) {
    StatusOr<std::unique_ptr<internal::EncoderModel>> model =
        internal::EncoderModel::Create(784, config.encoder, 10, config.train, 0);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!model.ok()) return std::vector<float>{};
    (*model)->SetLearningRate(learning_rate);
    EXPECT_TRUE((*model)->Train(data, epochs, steps, 11).ok());
    return (*model)->SharedParameters();
  };
  const double lr = config.train.learning_rate;
  const std::vector<float> one_epoch = trained(1, 0, lr);
  EXPECT_EQ(trained(5, per_pass, lr), one_epoch);  // steps override epochs.
  EXPECT_GT(Distance(trained(1, per_pass + 1, lr), one_epoch), 1e-4);
  EXPECT_GT(Distance(trained(1, 3, lr), InitialShared(config)), 1e-4);
  EXPECT_EQ(trained(1, 0, 0.0), InitialShared(config));
}

// One child, so the master's encoder is that child's: a replica trained here with the
// schedule's learning rate and local_steps batches per round must end where the session does.
TEST(EncoderSessionTest, MasterSendsLocalStepsAndTheScheduledLearningRate) {
  const HorizontalConfig config =
      Tiny({"horizontal.train.local_steps=3", "horizontal.train.lr_schedule=cosine",
            "horizontal.train.rounds=4", "horizontal.data.split=iid"});
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult session, RunSession(config, 1));

  COLONY_ASSERT_OK_AND_ASSIGN(const ImageSet train, TinyTrainImages(config));
  COLONY_ASSERT_OK_AND_ASSIGN(
      const std::vector<std::vector<int>> parts,
      SplitByChild(train.labels, 1, config.data.split, config.data.alpha, config.data.seed));
  const ImageSet local = SelectImages(train, parts[0]);
  const HorizontalTrainOptions& t = config.train;
  COLONY_ASSERT_OK_AND_ASSIGN(auto replica, internal::EncoderModel::Create(
                                                784, config.encoder, 10, t, t.seed * 1000003 + 1));
  for (int round = 1; round <= t.rounds; ++round) {
    replica->SetLearningRate(t.learning_rate *
                             t.LearningRateScale(static_cast<double>(round - 1) / t.rounds));
    COLONY_ASSERT_OK(replica->Train(local, 1, t.local_steps, t.seed * 7919 + round * 131).status());
  }
  EXPECT_LT(Distance(replica->SharedParameters(), session.encoder), 1e-5);
  // A constant rate ends elsewhere.
  COLONY_ASSERT_OK_AND_ASSIGN(
      MasterResult constant,
      RunSession(Tiny({"horizontal.train.local_steps=3", "horizontal.train.rounds=4"}), 1));
  EXPECT_GT(Distance(constant.encoder, session.encoder), 1e-4);
}

TEST(EncoderSessionTest, ConvAndEmbeddingEncodersLearnFederated) {
  for (const std::vector<std::string>& o :
       {std::vector<std::string>{"horizontal.encoder.type=conv", "horizontal.train.rounds=6"},
        std::vector<std::string>{"horizontal.encoder.type=embedding", "horizontal.train.rounds=6",
                                 "horizontal.train.optimizer=adam",
                                 "horizontal.train.learning_rate=0.005"}}) {
    SCOPED_TRACE(o[0]);
    const HorizontalConfig config = Tiny(o);
    COLONY_ASSERT_OK_AND_ASSIGN(MasterResult r, RunSession(config, 3));
    EXPECT_EQ(r.encoder_type, config.encoder.TypeName(784));
    EXPECT_EQ(r.encoder.size(), InitialShared(config).size());
    EXPECT_GT(r.test_accuracy, 0.3);  // Ten classes: chance is 0.1; 300 samples per child.
  }
}

TEST(EncoderSessionTest, SharedHeadIsOneGlobalModel) {
  const HorizontalConfig config = Tiny({"horizontal.train.share_head=true"});
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult r, RunSession(config, 3));
  EXPECT_EQ(r.encoder.size(), 784u * 16 + 16 + 16 * 10 + 10);
  EXPECT_GT(r.test_accuracy, 0.6);
}

TEST(EncoderSessionTest, ProximalTermKeepsUpdatesNearTheReceivedEncoder) {
  const std::vector<float> initial = InitialShared(Tiny());
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult plain, RunSession(Tiny(), 2));
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult prox,
                              RunSession(Tiny({"horizontal.train.prox_mu=10"}), 2));
  const double moved_plain = Distance(plain.encoder, initial);
  const double moved_prox = Distance(prox.encoder, initial);
  EXPECT_LT(moved_prox, 0.5 * moved_plain) << moved_prox << " vs " << moved_plain;
  EXPECT_GT(moved_prox, 0);
}

TEST(EncoderSessionTest, ServerMomentumChangesTheTrajectoryAndStillLearns) {
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult plain, RunSession(Tiny(), 2));
  COLONY_ASSERT_OK_AND_ASSIGN(
      MasterResult momentum,
      RunSession(Tiny({"horizontal.train.server_momentum=0.5", "horizontal.train.rounds=6"}), 2));
  EXPECT_GT(Distance(plain.encoder, momentum.encoder), 1e-3);
  EXPECT_GT(momentum.test_accuracy, 0.3);  // Chance is 0.1.
}

}  // namespace
}  // namespace colony::fl
