#include "colony/cluster/worker_env.h"

#include <charconv>

namespace colony::cluster {
namespace {

StatusOr<std::optional<int>> ReadInt(const GetEnvFn& getenv, const char* name, int min) {
  const char* text = getenv(name);
  if (text == nullptr) return std::optional<int>();
  const std::string_view s(text);
  int value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || error != std::errc() || end != s.data() + s.size() || value < min) {
    return InvalidArgumentError("environment variable " + std::string(name) + "='" +
                                std::string(s) + "' must be an integer >= " + std::to_string(min));
  }
  return std::optional<int>(value);
}

}  // namespace

StatusOr<WorkerEnv> ReadWorkerEnv(const GetEnvFn& getenv) {
  WorkerEnv env;
  static const char* const kPairs[][2] = {{"COLONY_RANK", "COLONY_WORKERS"},
                                          {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                          {"SLURM_PROCID", "SLURM_NTASKS"}};
  for (const auto& [rank_name, count_name] : kPairs) {
    COLONY_ASSIGN_OR_RETURN(std::optional<int> rank, ReadInt(getenv, rank_name, 0));
    COLONY_ASSIGN_OR_RETURN(std::optional<int> count, ReadInt(getenv, count_name, 1));
    if (rank.has_value() != count.has_value()) {
      return InvalidArgumentError(std::string("environment variables ") + rank_name + " and " +
                                  count_name + " must be set together");
    }
    if (!rank) continue;
    env.rank = rank;
    env.count = count;
    env.source = std::string(rank_name) + "/" + count_name;
    break;
  }
  if (const char* servers = getenv("COLONY_SERVERS"); servers != nullptr) {
    std::string list(servers);
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) env.servers.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  if (const char* token = getenv("COLONY_TOKEN"); token != nullptr) env.token = token;
  return env;
}

}  // namespace colony::cluster
