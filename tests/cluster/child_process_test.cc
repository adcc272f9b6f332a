#include "colony/cluster/child_process.h"

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
                 {{"X", "env"}}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(spec, sink));
  COLONY_ASSERT_OK_AND_ASSIGN(int code, child->Wait());
  EXPECT_EQ(code, 3);
  EXPECT_EQ(child->Poll(), 3);
  EXPECT_THAT(lines, ElementsAre("shell: one", "shell: two env", "shell: three"));
}

TEST(ChildProcessTest, TerminateAndKillEndARunningChild) {
  ChildSpec sleeper{"sleeper", {"/bin/sleep", "30"}, {}};
  COLONY_ASSERT_OK_AND_ASSIGN(auto child, ChildProcess::Spawn(sleeper, nullptr));
  EXPECT_FALSE(child->Poll().has_value());
  child->Terminate();
  EXPECT_EQ(*child->Wait(), 128 + 15);
  COLONY_ASSERT_OK_AND_ASSIGN(auto other, ChildProcess::Spawn(sleeper, nullptr));
  other->Kill();
  EXPECT_EQ(*other->Wait(), 128 + 9);
}

TEST(ChildProcessTest, MissingExecutableIsNotFound) {
  EXPECT_THAT(ChildProcess::Spawn({"ghost", {"/no/such/binary"}, {}}, nullptr),
              StatusIs(StatusCode::kNotFound, HasSubstr("/no/such/binary")));
  EXPECT_THAT(ChildProcess::Spawn({"empty", {}, {}}, nullptr),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty argv")));
}

}  // namespace
}  // namespace colony::cluster
