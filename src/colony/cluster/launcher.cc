#include "colony/cluster/launcher.h"

#include <fmt/format.h>

#include <chrono>
#include <random>
#include <thread>

#include "colony/base/file_util.h"

namespace colony::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using Children = std::vector<std::unique_ptr<ChildProcess>>;

std::string RandomToken() {
  std::random_device device;
  return fmt::format("{:016x}{:016x}", (uint64_t{device()} << 32) | device(),
                     (uint64_t{device()} << 32) | device());
}

// What a server prints once it listens: "pserver listening on 127.0.0.1:7001".
constexpr char kListeningPrefix[] = "pserver listening on ";

// SIGTERM to each that runs, then SIGKILL to those still running after `grace`.
void StopAll(Children& children, std::chrono::milliseconds grace) {
  for (auto& child : children) child->Terminate();
  const auto deadline = Clock::now() + grace;
  for (auto& child : children) {
    while (!child->Poll() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    child->Kill();
  }
}

// The first child that ended with a non-zero code ("worker 1 exited with code 1").
std::string FirstFailure(Children& children, bool ended_is_failure) {
  for (auto& child : children) {
    std::optional<int> code = child->Poll();
    if (code && (*code != 0 || ended_is_failure)) {
      return fmt::format("{} exited with code {}", child->name(), *code);
    }
  }
  return "";
}

Status Validate(const LaunchOptions& o) {
  if (o.binary.empty() || o.config.empty() || o.run_dir.empty()) {
    return InvalidArgumentError("launch: binary, config and run_dir are required");
  }
  if (o.servers < 1 || o.workers < 1) {
    return InvalidArgumentError(fmt::format(
        "launch: --servers and --workers must be >= 1, got {} and {}", o.servers, o.workers));
  }
  if (!PathExists(o.config)) return NotFoundError("launch: config '" + o.config + "' not found");
  return OkStatus();
}

}  // namespace

StatusOr<LaunchResult> Launch(const LaunchOptions& o, const LineSink& sink) {
  COLONY_RETURN_IF_ERROR(Validate(o));
  COLONY_RETURN_IF_ERROR(MakeDirs(o.run_dir));
  const std::string token = o.token.empty() ? RandomToken() : o.token;
  const Clock::time_point start = Clock::now();
  LaunchResult result;
  result.servers.resize(o.servers);
  Children servers, workers;
  for (int i = 0; i < o.servers; ++i) {
    ChildSpec spec;
    spec.name = fmt::format("server {}", i);
    spec.argv = {o.binary, "serve", "--role", "pserver", "--port", "0"};
    spec.argv.insert(spec.argv.end(),
                     {"--shard", std::to_string(i), "--num-shards", std::to_string(o.servers)});
    if (!o.checkpoint_dir.empty()) {
      // The job's folder: server i saves under server-<i> and, at start, takes its share of
      // what the last run saved there, whatever its number of servers.
      for (const char* flag : {"--checkpoint-dir", "--checkpoint-root"}) {
        spec.argv.push_back(flag);
        spec.argv.push_back(o.checkpoint_dir);
      }
      spec.argv.push_back("--checkpoint-every-seconds");
      spec.argv.push_back(std::to_string(o.checkpoint_every_seconds));
    }
    if (!o.ssd_dir.empty()) {
      spec.argv.push_back("--ssd-dir");
      spec.argv.push_back(fmt::format("{}/server-{}", o.ssd_dir, i));
    }
    if (o.inject_delay_ms > 0) {
      spec.argv.push_back("--inject-delay-ms");
      spec.argv.push_back(std::to_string(o.inject_delay_ms));
    }
    spec.env = {{"COLONY_TOKEN", token}};
    spec.awaited_prefixes = {kListeningPrefix};
    COLONY_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(spec, sink));
    servers.push_back(std::move(child));
  }
  const auto started_by = Clock::now() + std::chrono::milliseconds(o.start_timeout_ms);
  for (int i = 0; i < o.servers; ++i) {
    const auto left = std::max(Clock::duration::zero(), started_by - Clock::now());
    StatusOr<std::string> address = servers[i]->AwaitLine(kListeningPrefix, left);
    if (!address.ok()) {
      std::string failed =
          fmt::format("a server did not report its port within {} ms", o.start_timeout_ms);
      if (IsUnavailable(address.status())) {  // It ended: its exit code says more.
        StatusOr<int> code = servers[i]->Wait(std::chrono::seconds(5));
        failed = fmt::format("{} exited with code {} while starting", servers[i]->name(),
                             code.ok() ? std::to_string(*code) : "unknown");
      }
      StopAll(servers, std::chrono::seconds(5));
      return AbortedError(failed);
    }
    result.servers[i] = *std::move(address);
  }

  const std::string server_list = fmt::format("{}", fmt::join(result.servers, ","));
  for (int rank = 0; rank < o.workers; ++rank) {
    ChildSpec spec;
    spec.name = fmt::format("worker {}", rank);
    spec.argv = {o.binary,
                 "serve",
                 "--role",
                 "worker",
                 o.config,
                 "--summary-json",
                 fmt::format("{}/worker-{}.json", o.run_dir, rank)};
    if (!o.resume_dir.empty()) {
      spec.argv.push_back("--resume");
      spec.argv.push_back(o.resume_dir);
    }
    for (const std::string& override : o.overrides) {
      spec.argv.push_back("--set");
      spec.argv.push_back(override);
    }
    spec.env = {{"COLONY_RANK", std::to_string(rank)},
                {"COLONY_WORKERS", std::to_string(o.workers)},
                {"COLONY_SERVERS", server_list},
                {"COLONY_TOKEN", token}};
    spec.env.insert(spec.env.end(), o.worker_env.begin(), o.worker_env.end());
    auto child = ChildProcess::Spawn(spec, sink);
    if (!child.ok()) {
      StopAll(workers, std::chrono::seconds(5));
      StopAll(servers, std::chrono::seconds(5));
      return child.status();
    }
    workers.push_back(std::move(child).value());
  }

  std::string failure;
  bool stopping = false;
  while (true) {
    failure = FirstFailure(workers, false);
    if (failure.empty()) failure = FirstFailure(servers, /*ended_is_failure=*/true);
    if (!failure.empty()) break;
    if (o.stop_requested != nullptr && o.stop_requested->load() && !stopping) {
      stopping = true;
      for (auto& worker : workers) worker->Terminate();
    }
    bool all_done = true;
    for (auto& worker : workers) all_done = all_done && worker->Poll().has_value();
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!failure.empty()) {
    StopAll(workers, std::chrono::seconds(5));
    StopAll(servers, std::chrono::seconds(30));
    return AbortedError(failure + "; stopped the other processes");
  }
  StopAll(servers, std::chrono::seconds(60));  // SIGTERM: each saves its checkpoint first.
  for (auto& server : servers) {
    COLONY_ASSIGN_OR_RETURN(int code, server->Wait());
    if (code != 0) return AbortedError(fmt::format("{} exited with code {}", server->name(), code));
  }
  for (auto& worker : workers) worker->Wait().status().IgnoreError();  // All ended with 0.
  if (stopping) return CancelledError("stopped by a signal before the workers finished");
  for (int rank = 0; rank < o.workers; ++rank) {
    COLONY_ASSIGN_OR_RETURN(std::string json,
                            ReadFile(fmt::format("{}/worker-{}.json", o.run_dir, rank)));
    result.worker_summaries.push_back(std::move(json));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace colony::cluster
