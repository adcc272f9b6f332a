// The session recommenders through the real `colony` binary: generate sessions, train SR-GNN
// with a checkpoint, evaluate, predict top-k, and the errors for bad sessions and flags.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "colony/base/file_util.h"
#include "run_colony.h"
#include "testing/json_fields.h"
#include "testing/status_matchers.h"

namespace colony {
namespace {
namespace fs = std::filesystem;
using ::colony::testing::JsonNumber;
using ::colony::testing::JsonNumbersAnywhere;
using ::colony::testing::ParseJsonOrFail;
using ::testing::HasSubstr;

TEST(SessionCliTest, GenTrainEvalPredictAndErrors) {
  const std::string r = ::testing::TempDir() + "/colony_session_cli_" + std::to_string(getpid());
  fs::remove_all(r);
  const Result gen = RunColony("gen sessions --sessions 600 --items 40 --out " + r + "/data");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string truth = ReadFile(r + "/data/truth.json").value_or("");
  EXPECT_GT(JsonNumber(truth, "oracle_p20"), 0) << truth;
  EXPECT_GT(JsonNumber(truth, "oracle_mrr20"), 0) << truth;

  const Result train =
      RunColony("train examples/session/srgnn.yaml --set data.dir=" + r +
                "/data --set model.embedding_dim=8 --set train.epochs=1 " +
                "--set checkpoint.dir=" + r + "/ckpt --summary-json " + r + "/s.json");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_THAT(train.output, HasSubstr("P@20"));
  const std::string json = ReadFile(r + "/s.json").value_or("");
  // A trained model ranks the next item no better than the generator's oracle.
  EXPECT_LE(JsonNumber(json, "p20"), JsonNumber(truth, "oracle_p20") + 0.05) << json;
  EXPECT_LE(JsonNumber(json, "mrr20"), JsonNumber(truth, "oracle_mrr20") + 0.05) << json;

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
  const Result dump =
      RunColony("program dump examples/session/attention.yaml --set model.num_items=9");
  EXPECT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_THAT(dump.output, HasSubstr("segment_softmax"));
  const Result no_items = RunColony("program dump examples/session/srgnn.yaml");
  EXPECT_EQ(no_items.exit_code, 2);
  EXPECT_THAT(no_items.output, HasSubstr("model.num_items"));
  fs::remove_all(r);
}

// Distributed training of the session models with real processes (colony launch: parameter
// servers and workers on 127.0.0.1), checkpoints and --resume, locally and under launch.
TEST(SessionCliTest, LaunchTrainsAndJobsResume) {
  const std::string r = ::testing::TempDir() + "/colony_session_launch_" + std::to_string(getpid());
  fs::remove_all(r);
  const Result gen = RunColony("gen sessions --sessions 500 --items 40 --out " + r + "/data");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const std::string job = "examples/session/srgnn.yaml --set data.dir=" + r +
                          "/data --set model.embedding_dim=8 --set train.epochs=1";

  // Async: the workers share the epoch's batches; worker 0 tests the shared model.
  const Result async =
      RunColony("launch --servers 2 --workers 2 " + job + " --set strategy=async --run-dir " + r +
                "/run_async " + "--summary-json " + r + "/async.json");
  ASSERT_EQ(async.exit_code, 0) << async.output;
  EXPECT_THAT(async.output, HasSubstr("[server 1] pserver listening on 127.0.0.1:"));
  EXPECT_THAT(async.output, HasSubstr("worker 1 of 2: async training of srgnn on 2 parameter"));
  EXPECT_THAT(async.output, HasSubstr("launch summary: 2 servers, 2 workers"));
  EXPECT_THAT(async.output, HasSubstr("test P@20"));
  std::smatch samples;
  ASSERT_TRUE(std::regex_search(async.output, samples, std::regex("sessions \\(([0-9]+) samples")))
      << async.output;
  const std::string json = ReadFile(r + "/async.json").value_or("");
  EXPECT_EQ(JsonNumber(json, "samples"), std::stod(samples[1])) << json;  // Each sample once.
  // Above chance with 40 items (P@20 0.5, MRR@20 H(20) / 40 = 0.090) and below the
  // generator's oracle (0.965 and 0.393): measured 0.60 to 0.62 and 0.155 to 0.156 (3 runs).
  const std::string truth = ReadFile(r + "/data/truth.json").value_or("");
  EXPECT_GT(JsonNumber(json, "p20"), 0.55) << json;
  EXPECT_GT(JsonNumber(json, "mrr20"), 0.12) << json;
  EXPECT_LT(JsonNumber(json, "p20"), JsonNumber(truth, "oracle_p20")) << json;
  EXPECT_LT(JsonNumber(json, "mrr20"), JsonNumber(truth, "oracle_mrr20")) << json;
  EXPECT_GT(JsonNumber(json, "test_samples"), 0) << json;

  // Sync, stopped at step 4 and resumed from the workers' and servers' checkpoints.
  const std::string sync = "launch --servers 2 --workers 2 " + job +
                           " --set strategy=sync --set checkpoint.dir=" + r +
                           "/workers --checkpoint-dir " + r + "/servers";
  const Result first = RunColony(sync + " --set train.max_steps=4 --run-dir " + r + "/run1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(fs::exists(r + "/workers/worker-1/ckpt-000000004/state.yaml"));
  const Result second =
      RunColony(sync + " --set train.max_steps=7 --resume " + r + "/workers --run-dir " + r +
                "/run2 --summary-json " + r + "/sync.json");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // item_emb on both servers, the 14 dense tables spread over them by name.
  EXPECT_THAT(second.output, HasSubstr("[server 0] pserver restored 7 tables"));
  EXPECT_THAT(second.output, HasSubstr("[server 1] pserver restored 9 tables"));
  EXPECT_THAT(second.output, HasSubstr("[worker 1] [colony I"));
  EXPECT_THAT(second.output, HasSubstr("resumed from"));
  const std::string resumed = ReadFile(r + "/sync.json").value_or("");
  const nlohmann::json resumed_job = ParseJsonOrFail(resumed);
  // Each worker ran steps 5..7 of the 7.
  EXPECT_EQ(JsonNumbersAnywhere(resumed_job.value("worker_summaries", nlohmann::json()), "steps"),
            (std::vector<double>{3, 3}))
      << resumed;
  EXPECT_EQ(JsonNumbersAnywhere(resumed, "global_step"), (std::vector<double>{7, 7}))
      << "both workers'";
  // Worker 0's last checkpoint holds a copy of the servers' parameters; worker 1's none.
  const Result eval = RunColony("eval --checkpoint " + r + "/workers/worker-0");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_THAT(eval.output, HasSubstr(fmt::format("P@20 {:.4f}", JsonNumber(resumed, "p20"))));
  const Result predict =
      RunColony("predict --checkpoint " + r + "/workers/worker-0 --session \"3 5\" --k 2");
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  const Result no_tables = RunColony("eval --checkpoint " + r + "/workers/worker-1");
  EXPECT_EQ(no_tables.exit_code, 1);
  EXPECT_THAT(no_tables.output, HasSubstr("tables are the servers'"));
  const Result geo =
      RunColony("train " + job + " --set strategy=geo --set ps.servers=[127.0.0.1:1]");
  EXPECT_EQ(geo.exit_code, 2);
  EXPECT_THAT(geo.output, HasSubstr("'local', 'async' or 'sync', got 'geo'"));

  // Locally: a run stopped at step 5 continues to step 9.
  const std::string local = "train " + job + " --set checkpoint.dir=" + r + "/local";
  const Result part = RunColony(local + " --set train.max_steps=5");
  ASSERT_EQ(part.exit_code, 0) << part.output;
  const Result rest = RunColony(local + " --set train.max_steps=9 --resume " + r +
                                "/local --summary-json " + r + "/local.json");
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_THAT(rest.output, HasSubstr("resumed from"));
  const std::string local_json = ReadFile(r + "/local.json").value_or("");
  EXPECT_EQ(JsonNumber(local_json, "steps"), 4) << local_json;
  EXPECT_EQ(JsonNumber(local_json, "global_step"), 9) << local_json;
  const Result other = RunColony(local + " --set model.embedding_dim=4 --resume " + r + "/local");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.output, HasSubstr("holds a different model than the config"));
  const Result missing = RunColony(local + " --resume " + r + "/nowhere");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("no checkpoint in"));
  const Result every = RunColony("train " + job + " --set checkpoint.every_steps=-2");
  EXPECT_EQ(every.exit_code, 2);
  EXPECT_THAT(every.output, HasSubstr("checkpoint.every_steps must be >= 0"));
  fs::remove_all(r);
}

}  // namespace
}  // namespace colony
