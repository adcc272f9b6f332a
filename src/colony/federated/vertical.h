// Vertical federated regression between two parties (US12056582B2). Party A holds features
// X_A and the label y, party B holds features X_B for the same sample ids. B serves gRPC; A
// drives: it aligns ids, then each iteration B's partial product u_B = X_B theta_B comes to A,
// A forms the estimate, the residual and its gradient, updates theta_A, and sends B the new
// residual, from which B forms its own gradient and updates theta_B. Neither party sends a
// feature row; with Paillier on, B sees only ciphertexts of the residual.
//   COLONY_ASSIGN_OR_RETURN(VerticalConfig config, LoadVerticalConfig("vertical.yaml"));
//   COLONY_ASSIGN_OR_RETURN(auto b, VerticalPartyB::Start(config, {.address = "127.0.0.1:0"}));
//   COLONY_ASSIGN_OR_RETURN(PartyAResult a, RunVerticalPartyA(config, {.peer = "127.0.0.1:" +
//                                                              std::to_string(b->port())}));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/paillier.h"
#include "colony/federated/service_security.h"
#include "colony/federated/vertical_data.h"
#include "colony/rpc/limits.h"

namespace colony::fl {

// The YAML `vertical.train` section.
struct VerticalTrainOptions {
  // "linear" (squared loss) or "logistic" (log loss, label 0/1). Default: "linear".
  std::string model = "linear";
  int iterations = 1000;  // Most iterations; each is one round trip (two with Paillier).
  // Stop when no coefficient of either party moves more (with Paillier at least
  // 2^-precision_bits: rounded residuals keep steps from shrinking much below that).
  double tolerance = 1e-9;
  // Each party steps theta -= learning_rate * H^-1 g with H its own block of the Hessian
  // (X^T X / m, a quarter of that for logistic, + l2): 1 is the exact block minimum for
  // linear regression. Default: 1.
  double learning_rate = 1.0;
  double l2 = 0.0;             // Ridge penalty l2/2 |theta|^2 (not on the intercept).
  double test_fraction = 0.0;  // Share of aligned ids held out for evaluation, in [0, 1).
  uint64_t seed = 1;           // Picks the held-out ids.
  double rpc_timeout_s = 60;   // Deadline of each call from A to B.
  int log_every = 0;           // Progress line every N iterations; 0: about ten lines.
  Status Validate() const;     // InvalidArgument naming the key.
};

// The YAML `vertical.paillier` section: encrypts the residuals A sends to B.
struct PaillierOptions {
  bool enabled = false;
  int key_bits = 2048;      // Bits of n; a multiple of 64 in [2048, 8192]. Default: 2048.
  int precision_bits = 24;  // Fixed-point fraction bits of residuals and B's features.
  // Accepts key_bits down to 256 (on both parties: B refuses A's small key without it). Such
  // keys are not secure; for tests only. Default: false.
  bool allow_insecure_key_bits_for_tests = false;
  PaillierKeyPolicy policy() const { return {allow_insecure_key_bits_for_tests}; }
  Status Validate() const;
};

struct VerticalConfig {
  std::string source;  // The config file, for messages.
  VerticalTrainOptions train;
  PaillierOptions paillier;
  PartyDataOptions party_a;  // with_label is true.
  PartyDataOptions party_b;
  std::string party_b_address = "127.0.0.1:7301";  // Where B listens and A connects.
  double party_b_idle_timeout_s = 300;             // B gives up after this long without a call.
  ServiceSecurity security;                        // The `vertical.security` subsection.
};

// Reads the `vertical:` section of a YAML job. NotFound for a missing file, InvalidArgument
// for a bad or unknown key (with file and line) or columns held by both parties.
StatusOr<VerticalConfig> LoadVerticalConfig(const std::string& path,
                                            const std::vector<std::string>& overrides = {});

// Every message one party sends, serialized, as gRPC interceptors on both ends see it.
struct FlMessage {
  std::string sender;  // "a" or "b".
  std::string method;  // "/colony.fl.rpc.VerticalParty/Step".
  std::string bytes;   // The serialized protobuf message.
};
using MessageObserver = std::function<void(const FlMessage&)>;

// A party's half of the model, as written to its --out file (JSON).
struct PartyModel {
  std::string party;  // "a" or "b".
  std::string model;  // "linear" or "logistic".
  std::vector<std::string> feature_names;
  std::vector<double> coefficients;  // On the standardized features.
  double intercept = 0.0;            // Party A only.
  ColumnScaling scaling;             // Mean and std of each raw feature (training rows).
  int iterations = 0;
  // Figures the party reports with its model (A: "auc", "train_loss", ...).
  std::vector<std::pair<std::string, double>> metrics;
};
Status WritePartyModel(const std::string& path, const PartyModel& model);
StatusOr<PartyModel> ReadPartyModel(const std::string& path);

// Deterministic split of aligned ids into training and held-out ids (a hash of id and seed).
void SplitTrainTest(std::span<const uint64_t> ids, double test_fraction, uint64_t seed,
                    std::vector<uint64_t>* train, std::vector<uint64_t>* test);

struct PartyBOptions {
  std::string address = "127.0.0.1:0";  // Port 0 picks a free port.
  std::string out;                      // Model file written on Finish; empty: none.
  MessageObserver observer;             // Sees every response B sends; may be empty.
  // The largest request and answer, in bytes. Default: 256 MiB each.
  colony::rpc::RequestLimits limits{};
};

// Party B: serves the VerticalParty service over its own data. Thread-safe.
class VerticalPartyB {
 public:
  // Loads B's data. NotFound / InvalidArgument / FailedPrecondition from the data;
  // Unavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<VerticalPartyB>> Start(const VerticalConfig& config,
                                                         const PartyBOptions& options);
  virtual ~VerticalPartyB() = default;
  virtual int port() const = 0;
  // Blocks until party A finishes the session (OK), `*stop` turns true (Cancelled) or no call
  // came for party_b_idle_timeout_s (DeadlineExceeded).
  virtual Status Wait(const std::atomic<bool>* stop = nullptr) = 0;
  virtual void Shutdown() = 0;
};

struct PartyAOptions {
  std::string peer;          // Party B's host:port. Empty: config.party_b_address.
  std::string out;           // Model file; empty: none.
  MessageObserver observer;  // Sees every request A sends; may be empty.
  bool quiet = false;        // No progress lines.
};

struct PartyAResult {
  PartyModel model;
  int iterations = 0;
  bool converged = false;
  int train_samples = 0, test_samples = 0;
  double train_loss = 0;         // Mean squared error / 2, or mean log loss (no penalty).
  double auc = 0;                // Logistic: on the held-out ids, or the training ids without any.
  double rmse = 0;               // Linear: same.
  double seconds = 0;            // Whole session (data, key generation, iterations, evaluation).
  double iteration_seconds = 0;  // The iterations alone.
  int64_t bytes_sent = 0, bytes_received = 0;  // Serialized messages, both directions.
};

// Party A: connects to B and trains. Unavailable when B cannot be reached (names it),
// FailedPrecondition when the parties share no id, DeadlineExceeded for a slow call.
StatusOr<PartyAResult> RunVerticalPartyA(const VerticalConfig& config,
                                         const PartyAOptions& options);

// What `colony fl vertical simulate` reports: the federated model against the same model
// fitted centrally on the joined columns (least squares when l2 = 0).
struct VerticalSummary {
  PartyAResult party_a;
  PartyModel party_b;
  std::vector<double> central_coefficients;  // Intercept, A's, then B's coefficients.
  double max_abs_coef_diff = 0;              // Federated vs central, all coefficients.
  double central_auc = 0, central_rmse = 0;
  bool paillier = false;
  double seconds = 0;

  // What `fl vertical simulate --summary-json` writes; docs/federated.md lists the keys.
  nlohmann::json ToJson() const;
};

// Fits the centralized baseline for `config` on ids held by both parties and compares it
// with the parties' models.
StatusOr<VerticalSummary> CompareWithCentral(const VerticalConfig& config, const PartyAResult& a,
                                             const PartyModel& b);

struct VerticalSimulateOptions {
  std::string binary;       // The colony binary, started once per party.
  std::string config_path;  // Passed to both parties with `overrides`.
  std::vector<std::string> overrides;
  std::string out_dir;     // Party model files go here; created. Required.
  double timeout_s = 600;  // Both parties are killed after this long.
};

// Starts party B and then party A as child processes (`binary fl vertical --role b|a`) on
// 127.0.0.1, waits for both and compares their models with the central fit.
StatusOr<VerticalSummary> SimulateVertical(const VerticalSimulateOptions& options);

}  // namespace colony::fl
