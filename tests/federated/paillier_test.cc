#include "colony/federated/paillier.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

// 512-bit keys keep the tests fast; production keys are >= 2048 bits.
constexpr PaillierKeyPolicy kInsecure{.allow_insecure_key_bits_for_tests = true};

class PaillierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto key = PaillierPrivateKey::Generate(512, kInsecure);
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = new PaillierPrivateKey(std::move(key).value());
  }
  static void TearDownTestSuite() { delete key_; }
  static PaillierPrivateKey* key_;
};
PaillierPrivateKey* PaillierTest::key_ = nullptr;

TEST_F(PaillierTest, DecryptsWhatBothEncryptionsProduce) {
  EXPECT_EQ(key_->public_key().bits(), 512);
  for (int64_t m : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{42}, int64_t{-123456789},
                    int64_t{1} << 62, -(int64_t{1} << 62)}) {
    COLONY_ASSERT_OK_AND_ASSIGN(std::string a, key_->Decrypt(key_->public_key().Encrypt(m)));
    COLONY_ASSERT_OK_AND_ASSIGN(std::string b, key_->Decrypt(key_->Encrypt(m)));
    EXPECT_EQ(a, std::to_string(m));
    EXPECT_EQ(b, std::to_string(m));
  }
}

TEST_F(PaillierTest, EncryptionIsRandomized) {
  EXPECT_NE(key_->Encrypt(7), key_->Encrypt(7));
  EXPECT_NE(key_->public_key().Encrypt(7), key_->public_key().Encrypt(7));
}

TEST_F(PaillierTest, WeightedSumIsHomomorphic) {
  const std::vector<int64_t> plain = {3, -5, 1000, 0, -77};
  const std::vector<int64_t> weights = {2, 7, -3, 11, -1};
  std::vector<std::string> cts;
  for (int64_t m : plain) cts.push_back(key_->Encrypt(m));
  // Only the holder of n (a copy made from its bytes) computes the sum.
  COLONY_ASSERT_OK_AND_ASSIGN(PaillierPublicKey other,
                              PaillierPublicKey::FromBytes(key_->public_key().n_bytes(), kInsecure));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string sum, other.WeightedSum(cts, weights, "-12"));
  int64_t want = -12;
  for (size_t i = 0; i < plain.size(); ++i) want += plain[i] * weights[i];
  COLONY_ASSERT_OK_AND_ASSIGN(std::string got, key_->Decrypt(sum));
  EXPECT_EQ(got, std::to_string(want));
}

TEST_F(PaillierTest, MaskedValueUnmasksToScaledDouble) {
  const std::string mask = RandomDecimal(200);
  std::vector<std::string> cts = {key_->Encrypt(3 << 20)};
  std::vector<int64_t> weights = {-(1 << 19)};  // -0.5 at 20 fraction bits.
  COLONY_ASSERT_OK_AND_ASSIGN(std::string masked,
                              key_->public_key().WeightedSum(cts, weights, mask));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string decrypted, key_->Decrypt(masked));
  EXPECT_NE(decrypted, std::to_string(-(int64_t{3} << 39)));  // The holder sees it masked.
  COLONY_ASSERT_OK_AND_ASSIGN(double value, UnmaskDecimal(decrypted, mask, 40));
  EXPECT_DOUBLE_EQ(value, -1.5);
}

TEST_F(PaillierTest, RefusesInsecureAndHugeKeysByDefault) {
  EXPECT_THAT(PaillierPrivateKey::Generate(1024),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("in [2048, 8192], got 1024; smaller keys are not secure")));
  EXPECT_THAT(PaillierPrivateKey::Generate(256),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("in [2048, 8192]")));
  // The 512-bit key of the suite, as a peer would send it.
  EXPECT_THAT(PaillierPublicKey::FromBytes(key_->public_key().n_bytes()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("n has 512 bits")));
  // A peer's 65536-bit n is refused before any arithmetic on it.
  std::string huge(8192, '\xff');
  EXPECT_THAT(PaillierPublicKey::FromBytes(huge, kInsecure),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("8192 bytes; at most 8192 bits")));
  std::string odd_8193_bits(1025, '\0');  // Within the byte bound, one bit over the limit.
  odd_8193_bits[0] = '\x01';
  odd_8193_bits.back() = '\x01';
  EXPECT_THAT(PaillierPublicKey::FromBytes(odd_8193_bits, kInsecure),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("n has 8193 bits")));
}

TEST_F(PaillierTest, RejectsBadInput) {
  EXPECT_THAT(PaillierPrivateKey::Generate(100, kInsecure),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("key_bits")));
  EXPECT_THAT(PaillierPrivateKey::Generate(1000, kInsecure),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("multiple of 64")));
  EXPECT_THAT(PaillierPublicKey::FromBytes(std::string(8, '\x01'), kInsecure),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("need an odd n of 256 to 8192")));
  EXPECT_THAT(key_->Decrypt(std::string(200, '\xff')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a ciphertext")));
  std::vector<std::string> cts = {std::string(1, '\0')};
  std::vector<int64_t> weights = {1};
  EXPECT_THAT(key_->public_key().WeightedSum(cts, weights, "0"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("ciphertext 0")));
  EXPECT_THAT(key_->public_key().WeightedSum({}, {}, "12x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("decimal")));
  EXPECT_THAT(UnmaskDecimal("1", "", 0), StatusIs(StatusCode::kInvalidArgument, HasSubstr("mask")));
}

}  // namespace
}  // namespace colony::fl
