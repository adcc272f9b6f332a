// colony fl vertical --role a|b CONFIG, colony fl vertical simulate CONFIG.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/federated/vertical.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop{false};
void RequestStop(int) { g_stop = true; }

struct VerticalFlags {
  std::string role;
  std::string config;
  std::string peer;
  std::string listen;
  std::string out;
  std::vector<std::string> overrides;
};

Status RunVerticalRole(const VerticalFlags& flags) {
  if (flags.role != "a" && flags.role != "b") {
    return InvalidArgumentError(
        "--role must be 'a' (features and label, drives the session) or "
        "'b' (features, serves); got '" +
        flags.role + "'");
  }
  if (flags.config.empty()) return InvalidArgumentError("give the job's CONFIG file");
  COLONY_ASSIGN_OR_RETURN(fl::VerticalConfig config,
                          fl::LoadVerticalConfig(flags.config, flags.overrides));
  if (flags.role == "a") {
    if (!flags.listen.empty()) return InvalidArgumentError("--listen is for --role b");
    fl::PartyAOptions options;
    options.peer = flags.peer;
    options.out = flags.out;
    return fl::RunVerticalPartyA(config, options).status();
  }
  if (!flags.peer.empty()) return InvalidArgumentError("--peer is for --role a");
  fl::PartyBOptions options;
  options.address = flags.listen.empty() ? config.party_b_address : flags.listen;
  options.out = flags.out;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<fl::VerticalPartyB> party,
                          fl::VerticalPartyB::Start(config, options));
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  const std::string host = options.address.substr(0, options.address.rfind(':'));
  std::printf("party b listening on %s:%d\n", host.c_str(), party->port());
  std::fflush(stdout);
  Status status = party->Wait(&g_stop);
  party->Shutdown();
  if (status.ok()) std::printf("party b: session finished\n");
  return status;
}

struct SimulateFlags {
  std::string config;
  std::string summary_json;
  std::string out_dir;
  std::vector<std::string> overrides;
  double timeout_s = 600;
};

Status RunSimulate(const SimulateFlags& flags) {
  fl::VerticalSimulateOptions options;
  char exe[4096];
  const ssize_t size = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (size <= 0) return InternalError("cannot find the colony binary (/proc/self/exe)");
  options.binary.assign(exe, size);
  options.config_path = flags.config;
  options.overrides = flags.overrides;
  options.timeout_s = flags.timeout_s;
  options.out_dir = flags.out_dir;
  if (options.out_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "colony-fl-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return InternalError("cannot create a temp folder");
    options.out_dir = pattern;
  }
  COLONY_ASSIGN_OR_RETURN(fl::VerticalSummary summary, fl::SimulateVertical(options));
  std::printf("simulate: party models in %s\n", options.out_dir.c_str());
  return WriteSummaryJson(flags.summary_json, fl::VerticalSummaryJson(summary));
}

}  // namespace

void AddFlCommands(CLI::App& app, int* exit_code) {
  CLI::App* fl = app.add_subcommand("fl", "federated learning between parties");
  fl->require_subcommand(1);
  auto flags = std::make_shared<VerticalFlags>();
  CLI::App* vertical = fl->add_subcommand(
      "vertical", "two-party vertical regression: --role a|b CONFIG, or simulate CONFIG");
  vertical->add_option("--role", flags->role, "a: features + label, drives; b: features, serves");
  vertical->add_option("config", flags->config, "the job's YAML file");
  vertical->add_option("--peer", flags->peer, "role a: party b's HOST:PORT (default: config)");
  vertical->add_option("--listen", flags->listen, "role b: HOST:PORT to serve on (port 0: free)");
  vertical->add_option("--out", flags->out, "write this party's model (JSON) here");
  vertical->add_option("--set", flags->overrides, "override a config key: key.path=value")
      ->take_all();

  auto sim = std::make_shared<SimulateFlags>();
  CLI::App* simulate = vertical->add_subcommand(
      "simulate", "start both parties as child processes on 127.0.0.1 and compare with central");
  simulate->add_option("config", sim->config, "the job's YAML file")->required();
  simulate->add_option("--summary-json", sim->summary_json, "write the summary here");
  simulate->add_option("--out-dir", sim->out_dir, "party model files (default: a temp folder)");
  simulate->add_option("--timeout", sim->timeout_s, "kill the parties after this many seconds")
      ->capture_default_str();
  simulate->add_option("--set", sim->overrides, "override a config key: key.path=value")
      ->take_all();
  simulate->callback([sim, exit_code] { *exit_code = ExitCode(RunSimulate(*sim)); });
  vertical->callback([flags, simulate, exit_code] {
    if (simulate->parsed()) return;
    *exit_code = ExitCode(RunVerticalRole(*flags));
  });
}

}  // namespace colony::cli
