#include "colony/cluster/child_process.h"

#include <chrono>
#include <mutex>

#include "testing/status_matchers.h"

namespace colony::cluster {
namespace {
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ChildProcessTest, StreamsEachLineAndReturnsTheExitCode) {
  std::mutex mu;
  std::vector<std::string> lines;
  auto sink = [&](const std::string& name, const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(name + ": " + line);
  };
  ChildSpec spec{"shell",
                 {"/bin/sh", "-c", "echo one; echo \"two $X\" >&2; printf three; exit 3"},
                 {{"X", "env"}},
                 {}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(spec, sink));
  COLONY_ASSERT_OK_AND_ASSIGN(int code, child->Wait());
  EXPECT_EQ(code, 3);
  EXPECT_EQ(child->Poll(), 3);
  EXPECT_THAT(lines, ElementsAre("shell: one", "shell: two env", "shell: three"));
}

TEST(ChildProcessTest, TerminateAndKillEndARunningChild) {
  ChildSpec sleeper{"sleeper", {"/bin/sleep", "30"}, {}, {}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(sleeper, nullptr));
  EXPECT_FALSE(child->Poll().has_value());
  child->Terminate();
  EXPECT_EQ(*child->Wait(), 128 + 15);
  COLONY_ASSERT_OK_AND_ASSIGN(auto other, ChildProcess::Spawn(sleeper, nullptr));
  other->Kill();
  EXPECT_EQ(*other->Wait(), 128 + 9);
}

TEST(ChildProcessTest, AwaitLineReturnsTheRestOfTheFirstLineWithThePrefix) {
  ChildSpec spec{"server",
                 {"/bin/sh", "-c",
                  "echo starting; echo 'listening on 127.0.0.1:7001'; "
                  "echo 'listening on 127.0.0.1:7002'; exec /bin/sleep 30"},
                 {},
                 {"listening on "}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(spec, nullptr));
  COLONY_ASSERT_OK_AND_ASSIGN(std::string address,
                              child->AwaitLine("listening on ", std::chrono::seconds(30)));
  EXPECT_EQ(address, "127.0.0.1:7001");
  // Asked again: still the first such line, whatever followed it.
  COLONY_ASSERT_OK_AND_ASSIGN(address, child->AwaitLine("listening on ", std::chrono::seconds(30)));
  EXPECT_EQ(address, "127.0.0.1:7001");
  EXPECT_THAT(child->AwaitLine("ready ", std::chrono::seconds(1)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'ready '")));
  child->Kill();
}

TEST(ChildProcessTest, AwaitLineIsUnavailableWhenTheChildEndsAndTimesOutWhileItRuns) {
  ChildSpec quitter{"quitter", {"/bin/sh", "-c", "echo other; exit 4"}, {}, {"listening on "}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(quitter, nullptr));
  EXPECT_THAT(child->AwaitLine("listening on ", std::chrono::seconds(30)),
              StatusIs(StatusCode::kUnavailable,
                       HasSubstr("quitter ended before printing 'listening on '")));
  EXPECT_EQ(*child->Wait(), 4);
  ChildSpec mute{"mute", {"/bin/sleep", "30"}, {}, {"listening on "}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto sleeper, ChildProcess::Spawn(mute, nullptr));
  EXPECT_THAT(
      sleeper->AwaitLine("listening on ", std::chrono::milliseconds(100)),
      StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("mute printed no 'listening on '")));
  EXPECT_FALSE(sleeper->Poll().has_value());
}

TEST(ChildProcessTest, WaitWithATimeoutKillsAChildThatRunsLonger) {
  COLONY_ASSERT_OK_AND_ASSIGN(
      auto quick, ChildProcess::Spawn({"quick", {"/bin/sh", "-c", "exit 2"}, {}, {}}, nullptr));
  COLONY_ASSERT_OK_AND_ASSIGN(int code, quick->Wait(std::chrono::seconds(30)));
  EXPECT_EQ(code, 2);
  COLONY_ASSERT_OK_AND_ASSIGN(auto slow,
                              ChildProcess::Spawn({"slow", {"/bin/sleep", "30"}, {}, {}}, nullptr));
  EXPECT_THAT(slow->Wait(std::chrono::milliseconds(100)),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("slow did not finish in 0.1 s")));
  EXPECT_EQ(slow->Poll(), 128 + 9);
}

TEST(ChildProcessTest, MissingExecutableIsNotFound) {
  EXPECT_THAT(ChildProcess::Spawn({"ghost", {"/no/such/binary"}, {}, {}}, nullptr),
              StatusIs(StatusCode::kNotFound, HasSubstr("/no/such/binary")));
  EXPECT_THAT(ChildProcess::Spawn({"empty", {}, {}, {}}, nullptr),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty argv")));
}

}  // namespace
}  // namespace colony::cluster
