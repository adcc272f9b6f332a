// The session recommenders through the real `colony` binary: generate sessions, train SR-GNN
// with a checkpoint, evaluate, predict top-k, and the errors for bad sessions and flags.
#include <unistd.h>

#include <filesystem>

#include "colony/base/file_util.h"
#include "run_colony.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(SessionCliTest, GenTrainEvalPredictAndErrors) {
  const std::string r = ::testing::TempDir() + "/colony_session_cli_" + std::to_string(getpid());
  fs::remove_all(r);
  const Result gen = RunColony("gen sessions --sessions 600 --items 40 --out " + r + "/data");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  auto truth = ReadFile(r + "/data/truth.json");
  ASSERT_TRUE(truth.ok());
  EXPECT_THAT(*truth, HasSubstr("\"oracle_p20\""));
  EXPECT_THAT(*truth, HasSubstr("\"oracle_mrr20\""));

  const Result train =
      RunColony("train examples/session/srgnn.yaml --set data.dir=" + r +
                "/data --set model.embedding_dim=8 --set train.epochs=1 " +
                "--set checkpoint.dir=" + r + "/ckpt --summary-json " + r + "/s.json");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("P@20"));
  auto json = ReadFile(r + "/s.json");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"p20\": "));
  EXPECT_THAT(*json, HasSubstr("\"mrr20\": "));

  const Result eval = RunColony("eval --checkpoint " + r + "/ckpt");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_THAT(eval.output, HasSubstr("P@20"));

  const Result predict = RunColony("predict --checkpoint " + r + "/ckpt --session \"3 5 7\" --k 3");
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  EXPECT_EQ(std::count(predict.output.begin(), predict.output.end(), ':'), 3) << predict.output;

  const std::string file = r + "/sessions.txt";
  ASSERT_TRUE(WriteFileAtomic(file, "1 2\n4\n").ok());
  const Result from_file = RunColony("predict --checkpoint " + r + "/ckpt --session-file " + file +
                                     " --k 2 --out " + r + "/top.txt");
  ASSERT_EQ(from_file.exit_code, 0) << from_file.output;
  auto top = ReadFile(r + "/top.txt");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(std::count(top->begin(), top->end(), '\n'), 2);

  const Result bad_id = RunColony("predict --checkpoint " + r + "/ckpt --session \"3 99\"");
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.output, HasSubstr("session 1, click 2: item id 99 is not an item"));
  const Result empty = RunColony("predict --checkpoint " + r + "/ckpt --session \" \"");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.output, HasSubstr("session 1 is empty"));
  const Result both =
      RunColony("predict --checkpoint " + r + "/ckpt --session 1 --session-file " + file);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.output, HasSubstr("not both"));
  const Result bad_gen = RunColony("gen sessions --out " + r + "/x --noise 1.5");
  EXPECT_EQ(bad_gen.exit_code, 2);
  EXPECT_THAT(bad_gen.output, HasSubstr("noise must be in [0, 1)"));
  const Result bad_prep = RunColony("prep sessions --log " + r + "/none.csv --out " + r + "/p");
  EXPECT_EQ(bad_prep.exit_code, 2);
  EXPECT_THAT(bad_prep.output, HasSubstr("none.csv"));
  const Result resume = RunColony("train examples/session/srgnn.yaml --resume " + r + "/ckpt");
  EXPECT_EQ(resume.exit_code, 2);
  EXPECT_THAT(resume.output, HasSubstr("--resume is not available for session models"));
  const Result dump =
      RunColony("program dump examples/session/attention.yaml --set model.num_items=9");
  EXPECT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_THAT(dump.output, HasSubstr("segment_softmax"));
  const Result no_items = RunColony("program dump examples/session/srgnn.yaml");
  EXPECT_EQ(no_items.exit_code, 2);
  EXPECT_THAT(no_items.output, HasSubstr("model.num_items"));
  fs::remove_all(r);
}

}  // namespace
}  // namespace colony
