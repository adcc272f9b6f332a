#include "colony/models/multitask_models.h"

#include <set>

#include "colony/graph/program.h"
#include "program_testing.h"
#include "testing/status_matchers.h"

namespace colony::models {
namespace {
using ::colony::testing::StatusIs;
using testing::CountOps;
using ::testing::HasSubstr;

std::set<std::string> Parameters(const graph::ProgramDesc& p) {
  std::set<std::string> names;
  for (const graph::VarDesc& v : p.blocks(0).vars()) {
    if (v.persistable()) names.insert(v.name());
  }
  return names;
}

MultitaskModelOptions Small(const std::string& name) {
  MultitaskModelOptions o;
  o.name = name;
  o.num_tasks = 3;
  o.input_dim = 5;
  o.experts = 4;
  return o;
}

TEST(MultitaskModelsTest, EachTaskProgramHoldsTheSharedLayersAndItsOwnTower) {
  for (const auto& [name, doc] : MultitaskModelNames()) {
    EXPECT_TRUE(IsMultitaskModel(name));
    EXPECT_FALSE(doc.empty());
    COLONY_ASSERT_OK_AND_ASSIGN(MultitaskPrograms p, BuildMultitaskModel(Small(name)));
    COLONY_EXPECT_OK(graph::Validate(p.all));
    ASSERT_EQ(p.tasks.size(), 3u);
    EXPECT_EQ(p.all.fetches_size(), 3);
    EXPECT_TRUE(p.all.loss().empty());
    const std::set<std::string> all = Parameters(p.all);
    std::set<std::string> union_of_tasks;
    for (int k = 0; k < 3; ++k) {
      const graph::ProgramDesc& t = p.tasks[k];
      COLONY_EXPECT_OK(graph::Validate(t));
      EXPECT_EQ(t.fetches_size(), 1);
      EXPECT_FALSE(t.loss().empty());
      for (const std::string& param : Parameters(t)) {
        EXPECT_TRUE(all.count(param)) << param;
        union_of_tasks.insert(param);
        // A task's program reaches no other task's tower or gate.
        for (int j = 0; j < 3; ++j) {
          if (j == k) continue;
          EXPECT_EQ(param.find("tower" + std::to_string(j)), std::string::npos) << param;
          EXPECT_EQ(param.find("gate" + std::to_string(j)), std::string::npos) << param;
        }
      }
      EXPECT_TRUE(Parameters(t).count("tower" + std::to_string(k) + "_out.w"));
      // Regression: MSE as mean((out - label)^2).
      EXPECT_EQ(CountOps(t, "reduce_mean"), 1);
      EXPECT_EQ(CountOps(t, "sigmoid_bce"), 0);
    }
    EXPECT_EQ(union_of_tasks, all) << name;
    if (name == "mmoe") {
      EXPECT_TRUE(all.count("expert3_0.w"));
      EXPECT_EQ(CountOps(p.tasks[0], "softmax"), 1);  // One gate per task.
      EXPECT_EQ(CountOps(p.all, "softmax"), 3);
      EXPECT_EQ(CountOps(p.all, "fc"), 4 + 3 * 3);  // Experts; gate, tower hidden, out.
    } else {
      EXPECT_TRUE(all.count("bottom_0.w"));
      EXPECT_EQ(CountOps(p.all, "softmax"), 0);
    }
  }
}

TEST(MultitaskModelsTest, ClassificationUsesBceAndFetchesProbabilities) {
  MultitaskModelOptions o = Small("mmoe");
  o.task_type = "classification";
  COLONY_ASSERT_OK_AND_ASSIGN(MultitaskPrograms p, BuildMultitaskModel(o));
  EXPECT_EQ(CountOps(p.tasks[1], "sigmoid_bce"), 1);
  EXPECT_EQ(CountOps(p.tasks[1], "sigmoid"), 1);
  EXPECT_EQ(CountOps(p.all, "sigmoid"), 3);
}

TEST(MultitaskModelsTest, BadOptions) {
  const std::vector<std::pair<std::function<void(MultitaskModelOptions&)>, std::string>> cases = {
      {[](auto& o) { o.num_tasks = 0; }, "model.num_tasks"},
      {[](auto& o) { o.input_dim = 0; }, "model.input_dim"},
      {[](auto& o) { o.task_type = "rank"; }, "model.task_type"},
      {[](auto& o) { o.experts = 0; }, "model.experts"},
      {[](auto& o) { o.expert_hidden = {}; }, "model.expert_hidden needs"},
      {[](auto& o) { o.bottom_hidden = {-1}; }, "model.bottom_hidden widths"},
      {[](auto& o) { o.tower_hidden = {0}; }, "model.tower_hidden widths"},
  };
  for (const auto& [mutate, message] : cases) {
    MultitaskModelOptions o = Small("mmoe");
    mutate(o);
    EXPECT_THAT(BuildMultitaskModel(o), StatusIs(StatusCode::kInvalidArgument, HasSubstr(message)));
  }
  EXPECT_THAT(BuildMultitaskModel(Small("dnn")),
              StatusIs(StatusCode::kNotFound, HasSubstr("known: mmoe, shared_bottom")));
}

}  // namespace
}  // namespace colony::models
