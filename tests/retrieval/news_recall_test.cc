#include "colony/retrieval/news_recall.h"

#include <nlohmann/json.hpp>

#include "testing/status_matchers.h"

namespace colony::retrieval {
namespace {
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NewsRecallTest, TagVectorsRecallClickedNewsAndTheTreeTracksExactSearch) {
  NewsRecallOptions o;
  o.num_news = 4000;
  o.num_users = 200;
  o.num_tags = 60;
  o.k = 50;
  COLONY_ASSERT_OK_AND_ASSIGN(NewsRecallReport r, RunNewsRecall(o));
  EXPECT_EQ(r.clicks, 200 * o.clicks_per_user);
  EXPECT_GT(r.exact_recall, 3 * r.random_recall);
  EXPECT_GT(r.tree_recall, 0.8 * r.exact_recall);
  EXPECT_GT(r.tree_overlap_with_exact, 0.7);
  EXPECT_EQ(r.ToJson().at("tree_recall"), r.tree_recall);
}

TEST(NewsRecallTest, BadOptionsAreInvalidArguments) {
  EXPECT_THAT(RunNewsRecall({.num_news = 10, .k = 20}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must not exceed num_news")));
  EXPECT_THAT(RunNewsRecall({.num_users = 0}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("positive")));
}

}  // namespace
}  // namespace colony::retrieval
