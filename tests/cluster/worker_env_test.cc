#include "colony/cluster/worker_env.h"

#include <map>

#include "testing/status_matchers.h"

namespace colony::cluster {
namespace {
using ::colony::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

StatusOr<WorkerEnv> Read(const std::map<std::string, std::string>& vars) {
  return ReadWorkerEnv([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(WorkerEnvTest, ReadsEachLauncherInOrderOfPrecedence) {
  COLONY_ASSERT_OK_AND_ASSIGN(WorkerEnv none, Read({}));
  EXPECT_FALSE(none.rank.has_value());
  EXPECT_TRUE(none.servers.empty());

  COLONY_ASSERT_OK_AND_ASSIGN(WorkerEnv slurm,
                              Read({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}}));
  EXPECT_EQ(*slurm.rank, 3);
  EXPECT_EQ(*slurm.count, 4);
  EXPECT_EQ(slurm.source, "SLURM_PROCID/SLURM_NTASKS");

  COLONY_ASSERT_OK_AND_ASSIGN(WorkerEnv mpi, Read({{"OMPI_COMM_WORLD_RANK", "1"},
                                                   {"OMPI_COMM_WORLD_SIZE", "2"},
                                                   {"SLURM_PROCID", "3"},
                                                   {"SLURM_NTASKS", "4"}}));
  EXPECT_EQ(*mpi.rank, 1);
  EXPECT_EQ(*mpi.count, 2);

  COLONY_ASSERT_OK_AND_ASSIGN(WorkerEnv colony,
                              Read({{"COLONY_RANK", "0"},
                                    {"COLONY_WORKERS", "2"},
                                    {"OMPI_COMM_WORLD_RANK", "1"},
                                    {"OMPI_COMM_WORLD_SIZE", "2"},
                                    {"COLONY_SERVERS", "127.0.0.1:1,127.0.0.1:2,"},
                                    {"COLONY_TOKEN", "s3"}}));
  EXPECT_EQ(*colony.rank, 0);
  EXPECT_THAT(colony.servers, ElementsAre("127.0.0.1:1", "127.0.0.1:2"));
  EXPECT_EQ(colony.token, "s3");
}

TEST(WorkerEnvTest, BadValuesNameTheVariable) {
  EXPECT_THAT(Read({{"COLONY_RANK", "one"}, {"COLONY_WORKERS", "2"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("COLONY_RANK='one'")));
  EXPECT_THAT(Read({{"COLONY_RANK", "-1"}, {"COLONY_WORKERS", "2"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("COLONY_RANK")));
  EXPECT_THAT(Read({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("SLURM_NTASKS='0'")));
  EXPECT_THAT(Read({{"OMPI_COMM_WORLD_RANK", "0"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("set together")));
}

}  // namespace
}  // namespace colony::cluster
