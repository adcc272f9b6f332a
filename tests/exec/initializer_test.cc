#include "colony/exec/initializer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "colony/graph/builder.h"
#include "testing/status_matchers.h"

namespace colony::exec {
namespace {

using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

graph::VarDesc Param(const std::string& name, std::vector<int64_t> shape, graph::Initializer init) {
  graph::VarDesc v;
  v.set_name(name);
  v.mutable_shape()->Add(shape.begin(), shape.end());
  v.set_persistable(true);
  *v.mutable_initializer() = std::move(init);
  return v;
}

TEST(InitializerTest, FillsEachKind) {
  COLONY_ASSERT_OK_AND_ASSIGN(at::Tensor z,
                              MakeInitialValue(Param("z", {2, 3}, graph::Zeros()), 1));
  EXPECT_EQ(z.sizes().vec(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(z.scalar_type(), at::kFloat);
  EXPECT_EQ(z.abs().sum().item<float>(), 0.0f);
  COLONY_ASSERT_OK_AND_ASSIGN(at::Tensor c,
                              MakeInitialValue(Param("c", {4}, graph::Constant(0.5f)), 1));
  EXPECT_TRUE(at::allclose(c, at::full({4}, 0.5f)));
  COLONY_ASSERT_OK_AND_ASSIGN(at::Tensor u,
                              MakeInitialValue(Param("u", {1000}, graph::Uniform(-0.2f, 0.3f)), 1));
  EXPECT_GE(u.min().item<float>(), -0.2f);
  EXPECT_LE(u.max().item<float>(), 0.3f);
  EXPECT_NEAR(u.mean().item<float>(), 0.05f, 0.02f);
  COLONY_ASSERT_OK_AND_ASSIGN(at::Tensor n,
                              MakeInitialValue(Param("n", {4000}, graph::Normal(1.0f, 2.0f)), 1));
  EXPECT_NEAR(n.mean().item<float>(), 1.0f, 0.15f);
  EXPECT_NEAR(n.std().item<float>(), 2.0f, 0.15f);
  COLONY_ASSERT_OK_AND_ASSIGN(at::Tensor x,
                              MakeInitialValue(Param("x", {30, 20}, graph::XavierUniform()), 1));
  const float bound = std::sqrt(6.0f / 50.0f);
  EXPECT_LE(x.abs().max().item<float>(), bound);
  EXPECT_GT(x.abs().max().item<float>(), 0.8f * bound);
}

TEST(InitializerTest, SeedAndNameDecideTheDraw) {
  auto draw = [](const std::string& name, uint64_t seed) {
    return *MakeInitialValue(Param(name, {16}, graph::Uniform(-1, 1)), seed);
  };
  EXPECT_TRUE(at::equal(draw("a", 3), draw("a", 3)));
  EXPECT_FALSE(at::equal(draw("a", 3), draw("a", 4)));
  EXPECT_FALSE(at::equal(draw("a", 3), draw("b", 3)));
}

TEST(InitializerTest, RejectsBadVars) {
  EXPECT_THAT(
      MakeInitialValue(Param("emb", {-1, 4}, graph::Zeros()), 0),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("parameter 'emb' needs positive dims")));
  EXPECT_THAT(MakeInitialValue(Param("w", {2}, graph::Initializer()), 0).status().ok(), true);
  graph::Initializer odd;
  odd.set_type("orthogonal");
  EXPECT_THAT(
      MakeInitialValue(Param("w", {2}, odd), 0),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown initializer type 'orthogonal'")));
  graph::VarDesc ints = Param("i", {2}, graph::Zeros());
  ints.set_dtype(graph::INT64);
  EXPECT_THAT(MakeInitialValue(ints, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("float32 or float64")));
}

}  // namespace
}  // namespace colony::exec
