#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "colony/federated/vertical.h"
#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kGood[] = R"(vertical:
  data:
    format: sklearn_diabetes
  party_a:
    columns: [0, 1]
  party_b:
    columns: [2, 3]
    address: 127.0.0.1:7400
  train:
    model: linear
    iterations: 50
    l2: 0.5
  paillier:
    enabled: true
    key_bits: 512
    allow_insecure_key_bits_for_tests: true
)";

TEST(VerticalConfigTest, ReadsEveryKey) {
  COLONY_ASSERT_OK_AND_ASSIGN(VerticalConfig c, LoadVerticalConfig(WriteTemp("good.yaml", kGood),
                                                                   {"vertical.train.seed=9"}));
  EXPECT_EQ(c.party_a.columns, (std::vector<int>{0, 1}));
  EXPECT_TRUE(c.party_a.with_label);
  EXPECT_FALSE(c.party_b.with_label);
  EXPECT_EQ(c.party_b.format, "sklearn_diabetes");
  EXPECT_EQ(c.party_b_address, "127.0.0.1:7400");
  EXPECT_EQ(c.train.iterations, 50);
  EXPECT_EQ(c.train.l2, 0.5);
  EXPECT_EQ(c.train.seed, 9u);
  EXPECT_TRUE(c.paillier.enabled);
  EXPECT_EQ(c.paillier.key_bits, 512);
  EXPECT_TRUE(c.paillier.allow_insecure_key_bits_for_tests);
}

TEST(VerticalConfigTest, PaillierDefaultsTo2048BitsAndRefusesSmallerKeys) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      VerticalConfig c,
      LoadVerticalConfig(WriteTemp("default_bits.yaml", kGood),
                         {"vertical.paillier={enabled: true}"}));
  EXPECT_EQ(c.paillier.key_bits, 2048);
  EXPECT_FALSE(c.paillier.allow_insecure_key_bits_for_tests);
  EXPECT_THAT(LoadVerticalConfig(WriteTemp("small_bits.yaml", kGood),
                                 {"vertical.paillier.allow_insecure_key_bits_for_tests=false"}),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("paillier.key_bits must be a multiple of 64 in [2048, 8192], "
                                 "got 512; smaller keys are not secure")));
}

TEST(VerticalConfigTest, BadConfigsNameTheKey) {
  const std::string path = WriteTemp("base.yaml", kGood);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"vertical.train.model=tree", "train.model 'tree' is unknown"},
      {"vertical.train.iterations=0", "train.iterations must be > 0"},
      {"vertical.train.learning_rate=-1", "train.learning_rate must be > 0"},
      {"vertical.train.l2=-1", "train.l2 must be >= 0"},
      {"vertical.train.test_fraction=1", "train.test_fraction must be in [0, 1)"},
      {"vertical.train.itrations=5", "itrations"},
      {"vertical.paillier.key_bits=100", "paillier.key_bits must be a multiple of 64"},
      {"vertical.paillier.precision_bits=60", "paillier.precision_bits must be in [8, 40]"},
      {"vertical.party_b.columns=[1,2]", "column 1 is also in party_a.columns"},
      {"vertical.party_a.columns=[]", "party_a.columns: is required: the 0-based columns"},
      {"vertical.data.format=csv", "is required with data.format csv"},
      {"vertical.party_b.idle_timeout_s=0", "must be > 0"},
      {"vertical.train.iterations=many", "vertical.train.iterations"},
  };
  for (const auto& [override_text, fragment] : cases) {
    EXPECT_THAT(LoadVerticalConfig(path, {override_text}),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(fragment)))
        << override_text;
  }
  EXPECT_THAT(LoadVerticalConfig(WriteTemp("none.yaml", "train:\n  epochs: 1\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no 'vertical:' section")));
  EXPECT_THAT(LoadVerticalConfig(::testing::TempDir() + "/absent.yaml"),
              StatusIs(StatusCode::kNotFound, HasSubstr("absent.yaml")));
}

TEST(PartyModelTest, FileRoundTripsExactlyWithANonFiniteMetric) {
  PartyModel m;
  m.party = "a";
  m.model = "logistic";
  m.feature_names = {"age", "bmi \"raw\""};
  m.coefficients = {0.1, -1.0 / 3.0};
  m.intercept = 2.0 / 3.0;
  m.scaling.mean = {50.25, 26.5};
  m.scaling.std = {13.1, 4.4};
  m.iterations = 12;
  m.metrics = {{"auc", 0.9375}, {"train_loss", std::numeric_limits<double>::quiet_NaN()}};
  const std::string path = WriteTemp("party_a_model.json", "");
  COLONY_ASSERT_OK(WritePartyModel(path, m));
  COLONY_ASSERT_OK_AND_ASSIGN(PartyModel back, ReadPartyModel(path));
  EXPECT_EQ(back.party, "a");
  EXPECT_EQ(back.feature_names, m.feature_names);
  EXPECT_EQ(back.coefficients, m.coefficients);  // Bit for bit.
  EXPECT_EQ(back.intercept, m.intercept);
  EXPECT_EQ(back.scaling.std, m.scaling.std);
  EXPECT_EQ(back.iterations, 12);
  ASSERT_EQ(back.metrics.size(), 2u);
  EXPECT_EQ(back.metrics[0], (std::pair<std::string, double>("auc", 0.9375)));
  EXPECT_EQ(back.metrics[1].first, "train_loss");
  EXPECT_TRUE(std::isnan(back.metrics[1].second));
}

TEST(PartyModelTest, BadFilesAreDataLossNamingTheKey) {
  const std::string missing =
      WriteTemp("party_missing.json", R"({"party": "b", "model": "linear"})");
  EXPECT_THAT(ReadPartyModel(missing).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("key 'iterations'")));
  const std::string yaml = WriteTemp("party_yaml.json", "party: b\nmodel: linear\n");
  EXPECT_THAT(ReadPartyModel(yaml).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("party_yaml.json': not valid JSON")));
}

}  // namespace
}  // namespace colony::fl
