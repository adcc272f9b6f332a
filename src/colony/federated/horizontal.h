// Horizontal federated learning with a shared encoder (US20210209417A1 / US12229667B2). Each
// child holds its own samples and serves gRPC; the master drives rounds: it sends a
// shared-encoder training instruction naming the encoder type, each child gathers its local
// samples for that type and confirms with its sample count, the master sends the initial
// encoder parameters, each child trains locally (E epochs, its own optimizer; its task head
// stays local) and returns its encoder parameters, and the master aggregates them (FedAvg,
// coordinate-wise median or trimmed mean) into the next round's parameters. Children that
// fail or time out are left out of that round; the round needs `quorum` answers.
//   COLONY_ASSIGN_OR_RETURN(HorizontalConfig config, LoadHorizontalConfig("fmnist.yaml"));
//   COLONY_ASSIGN_OR_RETURN(auto child, HorizontalChild::Start(config, {.index = 0,
//                                                                       .children = 2}));
//   COLONY_ASSIGN_OR_RETURN(MasterResult r, RunHorizontalMaster(config, {.children = {...}}));
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/service_security.h"
#include "colony/federated/vertical.h"  // FlMessage, MessageObserver
#include "colony/models/image_classifier.h"

namespace colony::fl {

// The YAML `horizontal.data` section.
struct HorizontalDataOptions {
  std::string format = "fashion_mnist";
  std::string dir = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist.
  int train_samples = 10000;                              // First N training images (0: all 60000).
  int test_samples = 2000;                                // First N test images (0: all 10000).
  std::string split = "iid";                              // "iid" or "dirichlet" (by label).
  double alpha = 0.5;  // Dirichlet concentration; smaller is more skewed.
  uint64_t seed = 1;
};

// The YAML `horizontal.train` section.
struct HorizontalTrainOptions {
  int rounds = 10;
  int local_epochs = 1;
  // > 0: each child takes exactly this many mini-batches per round (from fresh shuffles of its
  // samples) instead of local_epochs passes: less client drift on non-IID splits.
  int64_t local_steps = 0;
  int batch_size = 32;
  std::string optimizer = "sgd";  // "sgd" (with `momentum`) or "adam"; each child keeps its own.
  double momentum = 0.9;          // sgd: heavy-ball momentum; 0: plain SGD.
  double learning_rate = 0.02;
  // "constant", or "cosine": the master has round r (1-based) of R train with
  // learning_rate * (1 + cos(pi (r - 1) / R)) / 2, so the last rounds barely move the model
  // (the central baseline follows the same curve over its epochs).
  std::string lr_schedule = "constant";
  // "fedavg" (sample-weighted mean), "median" (coordinate-wise) or "trimmed_mean"
  // (coordinate-wise, dropping the trim_fraction largest and smallest values).
  std::string aggregation = "fedavg";
  double trim_fraction = 0.2;
  int quorum = 0;  // Least answers a round needs; 0: every child asked.
  // > 0: each round the master asks only this many of the confirmed children, drawn at random
  // (seeded by train.seed and the round); 0: all of them.
  int children_per_round = 0;
  // Pairwise masks (libsodium X25519 + ChaCha20) so the master learns only the sum of the
  // sample-weighted updates. Needs aggregation fedavg.
  bool secure_aggregation = false;
  double round_timeout_s = 60;  // Deadline of each call to a child.
  uint64_t seed = 1;            // Initial parameters and local shuffles.
  // The head is exchanged and aggregated too (one global model); default: it stays local.
  bool share_head = false;
  // FedProx: each child adds prox_mu / 2 |w - w_received|^2 on the shared parameters.
  double prox_mu = 0;
  // FedAvgM: the master steps w -= v, v = server_momentum v + (w - aggregate). 0: plain.
  double server_momentum = 0;
  // SCAFFOLD (option II control variates): the master keeps a global control variate c, each
  // child its own c_i; every local gradient of the exchanged parameters is corrected by
  // c - c_i. Needs aggregation fedavg and optimizer sgd; under secure_aggregation the control
  // variate updates are masked with the parameters.
  bool scaffold = false;
  // How the master weighs the children's control variate updates: "children" (each 1, the
  // paper's c = mean(c_i)) or "samples" (by sample count, as FedAvg weighs the parameters).
  std::string scaffold_weights = "children";
  // 2: the paper's option II, c_i+ = c_i - c + (x - y) / (K eta), free. 1: option I, c_i+ is
  // the child's mean gradient at the received parameters (one extra pass over its samples).
  int scaffold_option = 2;
  Status Validate() const;
  // The factor on learning_rate after `progress` (in [0, 1)) of the training, by lr_schedule.
  double LearningRateScale(double progress) const;
};

// The YAML `horizontal.children` section: test and demo behaviour of particular children.
struct ChildBehaviour {
  int count = 4;                 // Children `simulate` starts (its --children overrides).
  std::vector<int> poisoned;     // Indices of children that send poisoned updates.
  std::string poison = "scale";  // "scale": parameters * poison_scale; "garbage": N(0, 100).
  double poison_scale = -20;
  std::vector<int> slow;  // Indices of children that wait slow_delay_s before answering.
  double slow_delay_s = 5;
  std::vector<int> slow_rounds;  // Rounds (1-based) in which they are slow; empty: every round.
};

struct HorizontalConfig {
  std::string source;  // The config file, for messages.
  HorizontalDataOptions data;
  // The `horizontal.encoder` section: the shared encoder of the zoo's image classifier (see
  // models/image_classifier.h), followed by a linear softmax head local to each child.
  models::ImageEncoderOptions encoder;
  HorizontalTrainOptions train;
  ChildBehaviour children;
  double child_idle_timeout_s = 300;  // A child gives up after this long without a call.
  ServiceSecurity security;           // The `horizontal.security` subsection.
};

// Reads the `horizontal:` section of a YAML job. NotFound for a missing file, InvalidArgument
// for a bad or unknown key (with file and line).
StatusOr<HorizontalConfig> LoadHorizontalConfig(const std::string& path,
                                                const std::vector<std::string>& overrides = {});

// Images as floats in [0, 1], row-major (rows x dim), with labels 0..9.
struct ImageSet {
  int dim = 0;
  std::vector<float> pixels;
  std::vector<int> labels;
  int rows() const { return static_cast<int>(labels.size()); }
};

// Reads the gzipped idx files of Fashion-MNIST from `options.dir` (train or t10k), the first
// `limit` images (0: all). NotFound names a missing file, InvalidArgument a bad one.
StatusOr<ImageSet> LoadFashionMnist(const std::string& dir, bool train, int limit);
ImageSet SelectImages(const ImageSet& set, const std::vector<int>& rows);

// Sample indices of each of `children` children: "iid" deals a seeded shuffle round robin;
// "dirichlet" draws each label's shares over the children from Dirichlet(alpha).
StatusOr<std::vector<std::vector<int>>> SplitByChild(const std::vector<int>& labels, int children,
                                                     const std::string& split, double alpha,
                                                     uint64_t seed);

// Combines the children's parameter vectors by `rule` (see HorizontalTrainOptions::aggregation).
// FedAvg weights each by its sample count; median and trimmed mean ignore the weights.
// InvalidArgument for no update, mismatched lengths or an unknown rule.
StatusOr<std::vector<float>> Aggregate(const std::string& rule,
                                       const std::vector<std::vector<float>>& updates,
                                       const std::vector<double>& weights, double trim_fraction);

struct ChildOptions {
  int index = 0;                        // This child's share of the split, 0-based.
  int children = 1;                     // How many shares the data is split into.
  std::string address = "127.0.0.1:0";  // Port 0 picks a free port.
  MessageObserver observer;             // Sees every response the child sends (sender "child I").
};

// A child node: its samples, its own encoder copy, head and optimizer, serving the
// HorizontalChild service. Thread-safe.
class HorizontalChild {
 public:
  // Loads the data and takes this child's share. InvalidArgument for a bad index, NotFound /
  // InvalidArgument from the data, Unavailable when the address cannot be bound.
  static StatusOr<std::unique_ptr<HorizontalChild>> Start(const HorizontalConfig& config,
                                                          const ChildOptions& options);
  virtual ~HorizontalChild() = default;
  virtual int port() const = 0;
  virtual int64_t sample_count() const = 0;
  // Blocks until the master finishes the session (OK), `*stop` turns true (Cancelled) or no
  // call came for child_idle_timeout_s (DeadlineExceeded).
  virtual Status Wait(const std::atomic<bool>* stop = nullptr) = 0;
  virtual void Shutdown() = 0;
};

struct MasterOptions {
  std::vector<std::string> children;  // Each child's host:port, in index order.
  bool quiet = false;                 // No progress lines.
};

struct RoundStats {
  int round = 0;                  // 1-based.
  std::vector<int> participants;  // Indices of the children whose update was aggregated.
  double train_loss = 0;          // Sample-weighted over participants.
  // Sample-weighted accuracy of this round's aggregated encoder with each child's head, on the
  // test samples (measured by the children when they receive it).
  double test_accuracy = 0;
  // Same, each test class weighted by its share of the child's own samples (personalized).
  double local_accuracy = 0;
};

struct MasterResult {
  std::string encoder_type;
  std::string aggregation;
  std::vector<int64_t> sample_counts;  // Per child from its confirmation; -1: did not confirm.
  std::vector<RoundStats> rounds;
  double test_accuracy = 0;    // After the last round.
  double local_accuracy = 0;   // After the last round, on each child's label distribution.
  std::vector<float> encoder;  // The final shared encoder parameters.
  std::vector<float> control;  // train.scaffold: the final global control variate c.
  double seconds = 0;

  // The master's --out file: every field but `encoder` and `control`, the per-round figures
  // as lists (round_accuracy, round_local_accuracy, round_train_loss, round_participants).
  nlohmann::json ToJson() const;
  // Reads ToJson()'s form back. InvalidArgument naming `source` and the bad or missing key.
  static StatusOr<MasterResult> FromJson(const nlohmann::json& json, std::string_view source);
};

// The master: instructs the children, runs train.rounds rounds and evaluates. Unavailable when
// fewer than quorum children confirm; Aborted when a round gets fewer than quorum answers.
StatusOr<MasterResult> RunHorizontalMaster(const HorizontalConfig& config,
                                           const MasterOptions& options);

struct CentralResult {
  double accuracy = 0;  // On the test samples.
  // Per-class test accuracy weighted by the union's label shares: what local_accuracy (summed
  // over the children by sample count) becomes for a model that serves every child.
  double local_accuracy = 0;
};
// The same encoder and head trained on the union of the children's training samples with the
// same optimizer and schedule, for as many samples as the federated run's children take:
// rounds x local_epochs epochs (times the share of `children` asked each round with
// train.children_per_round), or with train.local_steps the epochs that hold the local steps of
// all rounds; rounded up.
StatusOr<CentralResult> TrainCentral(const HorizontalConfig& config, int children);

struct HorizontalSummary {
  MasterResult master;
  int children = 0;
  std::string split;
  double alpha = 0;
  CentralResult central;
  double seconds = 0;

  // The master's figures (round_participants as counts), the run's and the central baseline's
  // (central_accuracy, central_local_accuracy); docs/federated.md lists the keys.
  nlohmann::json ToJson() const;
};

struct HorizontalSimulateOptions {
  std::string binary;       // The colony binary, started once per node.
  std::string config_path;  // Passed to every node with `overrides`.
  std::vector<std::string> overrides;
  int children = 0;        // 0: config children.count.
  std::string out_dir;     // The master's result file goes here; created. Required.
  double timeout_s = 600;  // Every node is killed after this long.
  bool central = true;     // Also train the central baseline.
};

// Starts K children and the master as child processes (`binary fl child|master`) on
// 127.0.0.1, waits for them and trains the central baseline.
StatusOr<HorizontalSummary> SimulateHorizontal(const HorizontalSimulateOptions& options);

}  // namespace colony::fl
