// colony fl vertical --role a|b CONFIG, colony fl vertical simulate CONFIG;
// colony fl master|child CONFIG, colony fl simulate --children K CONFIG.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "colony/cli/command_util.h"
#include "colony/cli/commands.h"
#include "colony/federated/horizontal.h"
#include "colony/federated/vertical.h"

namespace colony::cli {
namespace {

std::atomic<bool> g_stop{false};
void RequestStop(int) { g_stop = true; }

StatusOr<std::string> SelfBinary() {
  char exe[4096];
  const ssize_t size = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (size <= 0) return InternalError("cannot find the colony binary (/proc/self/exe)");
  return std::string(exe, size);
}

StatusOr<std::string> OutDirOrTemp(const std::string& out_dir) {
  if (!out_dir.empty()) return out_dir;
  std::string pattern = (std::filesystem::temp_directory_path() / "colony-fl-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return InternalError("cannot create a temp folder");
  return pattern;
}

// Prints "NAME listening on HOST:PORT" (simulations wait for it), serves until the session
// ends or SIGINT / SIGTERM, and shuts the server down.
template <typename Node>
Status Serve(const std::string& name, const std::string& address, Node* node) {
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  const std::string host = address.substr(0, address.rfind(':'));
  std::printf("%s listening on %s:%d\n", name.c_str(), host.c_str(), node->port());
  std::fflush(stdout);
  Status status = node->Wait(&g_stop);
  node->Shutdown();
  if (status.ok()) std::printf("%s: session finished\n", name.c_str());
  return status;
}

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
  return Serve("party b", options.address, party.get());
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
  COLONY_ASSIGN_OR_RETURN(options.binary, SelfBinary());
  options.config_path = flags.config;
  options.overrides = flags.overrides;
  options.timeout_s = flags.timeout_s;
  COLONY_ASSIGN_OR_RETURN(options.out_dir, OutDirOrTemp(flags.out_dir));
  COLONY_ASSIGN_OR_RETURN(fl::VerticalSummary summary, fl::SimulateVertical(options));
  std::printf("simulate: party models in %s\n", options.out_dir.c_str());
  return WriteSummaryJson(flags.summary_json, summary.ToJson());
}

struct HorizontalFlags {
  std::string config;
  std::vector<std::string> overrides;
  // child
  int index = -1;
  int children = 0;
  std::string listen = "127.0.0.1:0";
  // master
  std::vector<std::string> child_addresses;
  std::string out;
  // simulate
  std::string summary_json;
  std::string out_dir;
  double timeout_s = 600;
  bool no_central = false;
};

Status RunChild(const HorizontalFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(fl::HorizontalConfig config,
                          fl::LoadHorizontalConfig(flags.config, flags.overrides));
  if (flags.index < 0) return InvalidArgumentError("give this child's --index (0-based)");
  fl::ChildOptions options;
  options.index = flags.index;
  options.children = flags.children > 0 ? flags.children : config.children.count;
  options.address = flags.listen;
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<fl::HorizontalChild> child,
                          fl::HorizontalChild::Start(config, options));
  std::printf("child %d holds %lld samples\n", options.index,
              static_cast<long long>(child->sample_count()));
  return Serve("child " + std::to_string(options.index), options.address, child.get());
}

Status RunMaster(const HorizontalFlags& flags) {
  COLONY_ASSIGN_OR_RETURN(fl::HorizontalConfig config,
                          fl::LoadHorizontalConfig(flags.config, flags.overrides));
  fl::MasterOptions options;
  options.children = flags.child_addresses;
  COLONY_ASSIGN_OR_RETURN(fl::MasterResult result, fl::RunHorizontalMaster(config, options));
  return WriteSummaryJson(flags.out, result.ToJson());
}

Status RunHorizontalSimulate(const HorizontalFlags& flags) {
  if (flags.children < 0) return InvalidArgumentError("--children must be > 0");
  fl::HorizontalSimulateOptions options;
  COLONY_ASSIGN_OR_RETURN(options.binary, SelfBinary());
  options.config_path = flags.config;
  options.overrides = flags.overrides;
  options.children = flags.children;
  options.timeout_s = flags.timeout_s;
  options.central = !flags.no_central;
  COLONY_ASSIGN_OR_RETURN(options.out_dir, OutDirOrTemp(flags.out_dir));
  COLONY_ASSIGN_OR_RETURN(fl::HorizontalSummary summary, fl::SimulateHorizontal(options));
  return WriteSummaryJson(flags.summary_json, summary.ToJson());
}

void AddHorizontalCommands(CLI::App* fl, int* exit_code) {
  auto flags = std::make_shared<HorizontalFlags>();
  auto common = [flags](CLI::App* app) {
    app->add_option("config", flags->config, "the job's YAML file (horizontal: section)")
        ->required();
    app->add_option("--set", flags->overrides, "override a config key: key.path=value")->take_all();
  };
  CLI::App* child = fl->add_subcommand("child", "horizontal FL child: serve its local samples");
  common(child);
  child->add_option("--index", flags->index, "this child's share of the split, 0-based")
      ->required();
  child->add_option("--children", flags->children,
                    "shares the data is split into "
                    "(default: horizontal.children.count)");
  child->add_option("--listen", flags->listen, "HOST:PORT to serve on (port 0: free)")
      ->capture_default_str();
  child->callback([flags, exit_code] { *exit_code = ExitCode(RunChild(*flags)); });

  CLI::App* master = fl->add_subcommand("master", "horizontal FL master: drive the rounds");
  common(master);
  master
      ->add_option("--child", flags->child_addresses,
                   "a child's HOST:PORT, in index order; repeat per child")
      ->required()
      ->allow_extra_args(false);
  master->add_option("--out", flags->out, "write the result (JSON) here");
  master->callback([flags, exit_code] { *exit_code = ExitCode(RunMaster(*flags)); });

  CLI::App* simulate = fl->add_subcommand(
      "simulate", "start K children and the master on 127.0.0.1 and compare with central");
  common(simulate);
  simulate
      ->add_option("--children", flags->children,
                   "children to start (default: horizontal.children.count)")
      ->check(CLI::PositiveNumber);
  simulate->add_option("--summary-json", flags->summary_json, "write the summary here");
  simulate->add_option("--out-dir", flags->out_dir, "the master's result (default: a temp folder)");
  simulate->add_option("--timeout", flags->timeout_s, "kill the nodes after this many seconds")
      ->capture_default_str();
  simulate->add_flag("--no-central", flags->no_central, "skip the central baseline");
  simulate->callback([flags, exit_code] { *exit_code = ExitCode(RunHorizontalSimulate(*flags)); });
}

}  // namespace

void AddFlCommands(CLI::App& app, int* exit_code) {
  CLI::App* fl = app.add_subcommand("fl", "federated learning between parties");
  fl->require_subcommand(1);
  AddHorizontalCommands(fl, exit_code);
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
