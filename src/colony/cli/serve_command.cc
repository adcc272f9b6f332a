#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "colony/base/file_util.h"
#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/cli/train_job.h"
#include "colony/cluster/job_dependencies.h"
#include "colony/cluster/worker_env.h"
#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/retrieval/server.h"
#include "colony/rpc/token.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_shutdown{false};
void RequestShutdown(int) { g_shutdown = true; }

struct ServeFlags {
  std::string role;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
  std::string token_file;
  std::string checkpoint_dir;
  std::string checkpoint_root;
  int shard = -1;  // With num_shards: --checkpoint-dir is the job's folder.
  int num_shards = 0;
  int checkpoint_every_seconds = 0;
  std::string tls_cert;
  std::string tls_key;
  bool plaintext = false;
  std::string ssd_dir;
  int inject_delay_ms = 0;
  TrainJobFlags job;  // --role worker
  int rank = -1;
  int workers = 0;
  std::vector<std::string> servers;
  std::string index_dir;
  int beam = 16;
  int scan_leaves = 1;
};

Status RunWorker(const ServeFlags& flags, const std::string& token) {
  if (flags.job.config.empty()) {
    return InvalidArgumentError("--role worker needs the job's CONFIG file");
  }
  COLONY_ASSIGN_OR_RETURN(cluster::WorkerEnv env, cluster::ReadWorkerEnv([](const char* name) {
                            return std::getenv(name);
                          }));
  if ((flags.rank >= 0) != (flags.workers > 0)) {
    return InvalidArgumentError("--rank and --workers must be given together");
  }
  if (flags.rank >= 0) {
    env.rank = flags.rank;
    env.count = flags.workers;
    env.source = "--rank/--workers";
  }
  if (!flags.servers.empty()) env.servers = flags.servers;
  if (!token.empty()) env.token = token;
  if (!env.rank) {
    return InvalidArgumentError(
        "--role worker: no rank; give --rank R --workers N, or start it with colony launch, "
        "mpirun (OMPI_COMM_WORLD_RANK) or srun (SLURM_PROCID)");
  }
  if (const char* deps = std::getenv(cluster::kDepsDirEnv)) {
    std::error_code ec;
    int files = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(deps, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      files += it->is_regular_file() ? 1 : 0;
    }
    if (ec)
      return NotFoundError(fmt::format("{} {}: {}", cluster::kDepsDirEnv, deps, ec.message()));
    std::printf("worker %d: dependencies in %s (%d files)\n", *env.rank, deps, files);
    std::fflush(stdout);
  }
  return RunTrainJob(flags.job, &env);
}

// Serves the index saved in --index until SIGINT/SIGTERM.
Status RunRetrievalServe(const ServeFlags& flags, const std::string& token) {
  if (flags.index_dir.empty()) return InvalidArgumentError("--role retrieval needs --index DIR");
  if (!flags.checkpoint_dir.empty()) {
    return InvalidArgumentError("--checkpoint-dir is for --role pserver");
  }
  COLONY_ASSIGN_OR_RETURN(std::shared_ptr<retrieval::TreeIndex> index,
                          retrieval::TreeIndex::Load(flags.index_dir));
  retrieval::RetrievalServerOptions options;
  options.address = flags.host + ":" + std::to_string(flags.port);
  options.token = token;
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.plaintext = flags.plaintext;
  options.defaults.beam = flags.beam;
  options.defaults.scan_leaves = flags.scan_leaves;
  COLONY_ASSIGN_OR_RETURN(auto server, retrieval::RetrievalServer::Start(options, index));
  std::signal(SIGINT, RequestShutdown);
  std::signal(SIGTERM, RequestShutdown);
  std::printf("retrieval serving %lld items (%d trees) on %s:%d\n",
              static_cast<long long>(index->size()), index->num_trees(), flags.host.c_str(),
              server->port());
  std::fflush(stdout);
  while (!g_shutdown) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server->Shutdown();
  std::printf("retrieval stopped after %lld requests\n",
              static_cast<long long>(server->requests()));
  return OkStatus();
}

Status RunServe(const ServeFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(const std::string token, ResolveToken(flags.token, flags.token_file));
  if (flags.role == "worker") return RunWorker(flags, token);
  if (flags.role == "retrieval") return RunRetrievalServe(flags, token);
  if (flags.role != "pserver") {
    return InvalidArgumentError("--role must be 'pserver', 'worker' or 'retrieval', got '" +
                                flags.role + "'");
  }
  if (flags.checkpoint_every_seconds < 0 ||
      (flags.checkpoint_every_seconds > 0 && flags.checkpoint_dir.empty())) {
    return InvalidArgumentError("--checkpoint-every-seconds needs --checkpoint-dir and >= 0");
  }
  ps::PsServerOptions options;
  options.address = flags.host + ":" + std::to_string(flags.port);
  options.token = token;
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.plaintext = flags.plaintext;
  options.ssd_dir = flags.ssd_dir;
  options.inject_delay_ms = flags.inject_delay_ms;
  options.checkpoint_root = flags.checkpoint_root;
  if ((flags.shard >= 0) != (flags.num_shards > 0)) {
    return InvalidArgumentError("--shard and --num-shards must be given together");
  }
  const bool job_layout = flags.num_shards > 0;
  if (job_layout) {
    options.shard = flags.shard;
    options.num_shards = flags.num_shards;
  }
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<ps::PsServer> server, ps::PsServer::Start(options));
  // With --shard the checkpoint folder is the job's: this server saves under its own
  // server-<shard> and restores its share of whatever number of servers saved there.
  const std::string& job_dir = flags.checkpoint_dir;
  const std::string dir =
      job_layout && !job_dir.empty() ? ps::ServerCheckpointDir(job_dir, flags.shard) : job_dir;
  if (job_layout && !job_dir.empty() &&
      (PathExists(ps::ServerCheckpointDir(job_dir, 0) + "/MANIFEST") ||
       PathExists(dir + "/MANIFEST"))) {
    COLONY_ASSIGN_OR_RETURN(int tables, server->LoadJobCheckpoint(job_dir));
    std::printf("pserver restored %d tables from %s\n", tables, job_dir.c_str());
  } else if (!job_layout && !dir.empty() && PathExists(dir + "/MANIFEST")) {
    COLONY_ASSIGN_OR_RETURN(int tables, server->LoadTables(dir));
    std::printf("pserver restored %d tables from %s\n", tables, dir.c_str());
  }
  std::signal(SIGINT, RequestShutdown);
  std::signal(SIGTERM, RequestShutdown);
  std::printf("pserver listening on %s:%d\n", flags.host.c_str(), server->port());
  std::fflush(stdout);
  // Signal handlers may only set the flag; the shutdown itself happens here.
  const auto period = std::chrono::seconds(flags.checkpoint_every_seconds);
  auto next_save = std::chrono::steady_clock::now() + period;
  while (!g_shutdown) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (period.count() > 0 && std::chrono::steady_clock::now() >= next_save) {
      // A periodic checkpoint that fails is reported and retried at the next period.
      StatusOr<int> saved = server->SaveTables(dir);
      if (!saved.ok())
        std::fprintf(stderr, "pserver: checkpoint failed: %s\n", saved.status().ToString().c_str());
      next_save = std::chrono::steady_clock::now() + period;
    }
  }
  server->Shutdown();
  if (!dir.empty()) {
    COLONY_ASSIGN_OR_RETURN(int tables, server->SaveTables(dir));
    std::printf("pserver saved %d tables to %s\n", tables, dir.c_str());
  }
  std::printf("pserver stopped\n");
  return OkStatus();
}

struct StatsFlags {
  std::string address;
  std::string token;
  std::string token_file;
  std::string tls_ca;
};

Status PrintStats(const StatsFlags& flags) {
  const std::string& address = flags.address;
  COLONY_ASSIGN_OR_RETURN(const std::string token, ResolveToken(flags.token, flags.token_file));
  COLONY_ASSIGN_OR_RETURN(ps::ServerStats stats,
                          ps::QueryServerStats(address, token, flags.tls_ca));
  std::printf("%s: %lld requests, %lld bytes in, %lld bytes out\n", address.c_str(),
              static_cast<long long>(stats.requests), static_cast<long long>(stats.bytes_in),
              static_cast<long long>(stats.bytes_out));
  for (const ps::ServerStats::Table& t : stats.tables) {
    std::printf("  table %s: %s, %lld %s (%lld on SSD), dim %d\n", t.name.c_str(),
                t.sparse ? "sparse" : "dense", static_cast<long long>(t.rows),
                t.sparse ? "rows" : "floats", static_cast<long long>(t.ssd_rows), t.dim);
  }
  return OkStatus();
}

}  // namespace

void AddServeCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "run one server role of a distributed job");
  serve->add_option("--role", flags->role, "pserver, worker or retrieval")->required();
  serve->add_option("config", flags->job.config, "worker: the job's YAML file");
  serve->add_option("--set", flags->job.overrides, "worker: override a config key")->take_all();
  serve->add_option("--summary-json", flags->job.summary_json, "worker: write the summary here");
  serve->add_option("--resume", flags->job.resume, "worker: continue from this checkpoint folder");
  serve->add_option("--rank", flags->rank, "worker: rank (else from the launcher's environment)");
  serve->add_option("--workers", flags->workers, "worker: workers in the job");
  serve->add_option("--servers", flags->servers, "worker: host:port of every parameter server")
      ->delimiter(',');
  serve->add_option("--host", flags->host, "address to listen on")->capture_default_str();
  serve->add_option("--port", flags->port, "port; 0 picks a free one and prints it")
      ->capture_default_str();
  serve->add_option("--token-file", flags->token_file,
                    "file holding the shared token every call must carry (else COLONY_TOKEN); "
                    "required off loopback");
  serve->add_option("--token", flags->token,
                    "the token itself (visible to every user in ps: prefer --token-file)");
  serve->add_option("--tls-cert", flags->tls_cert,
                    "PEM certificate (scripts/make-certs.sh); pserver and retrieval");
  serve->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  serve->add_flag("--plaintext", flags->plaintext, "allow no TLS on a non-loopback --host");
  serve->add_option("--ssd-dir", flags->ssd_dir,
                    "folder for the SSD tier of tables with ps.memory_rows (RocksDB)");
  serve->add_option("--inject-delay-ms", flags->inject_delay_ms,
                    "tests and benchmarks only: answer every Pull this many ms late");
  serve->add_option("--checkpoint-dir", flags->checkpoint_dir,
                    "restore the tables from here at start (if saved) and save them on SIGTERM");
  serve->add_option("--checkpoint-every-seconds", flags->checkpoint_every_seconds,
                    "also save the tables this often (0: only on SIGTERM)");
  serve->add_option("--checkpoint-root", flags->checkpoint_root,
                    "folder the Save and Load RPCs may write and read under (none: refused)");
  serve->add_option("--shard", flags->shard,
                    "with --num-shards: this server's index among the job's servers; "
                    "--checkpoint-dir is then the job's folder (re-shards on restore)");
  serve->add_option("--num-shards", flags->num_shards, "the job's number of parameter servers");
  serve->add_option("--index", flags->index_dir, "retrieval: the index directory to serve");
  serve->add_option("--beam", flags->beam, "retrieval: default beam of a query")
      ->capture_default_str();
  serve->add_option("--scan-leaves", flags->scan_leaves, "retrieval: default scan_leaves")
      ->capture_default_str();
  serve->callback([flags, exit_code] { *exit_code = ExitCode(RunServe(*flags)); });

  auto stats_flags = std::make_shared<StatsFlags>();
  CLI::App* ps_cmd = app.add_subcommand("ps", "inspect parameter servers");
  ps_cmd->require_subcommand(1);
  CLI::App* stats = ps_cmd->add_subcommand("stats", "tables, rows and traffic of a server");
  stats->add_option("--addr", stats_flags->address, "HOST:PORT of the server")->required();
  stats->add_option("--token-file", stats_flags->token_file,
                    "file holding the server's token (else COLONY_TOKEN)");
  stats->add_option("--token", stats_flags->token,
                    "the token itself (visible to every user in ps: prefer --token-file)");
  stats->add_option("--tls-ca", stats_flags->tls_ca, "PEM CA certificate: connect with TLS");
  stats->callback([stats_flags, exit_code] { *exit_code = ExitCode(PrintStats(*stats_flags)); });
}

}  // namespace colony::cli
