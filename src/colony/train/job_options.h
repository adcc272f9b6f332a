// The options every training job shares, whatever its model: the distribution strategy, the
// loop (epochs, steps, target loss, progress), checkpoints, the parameter servers and which
// worker this process is. A task (loop.h) adds its own sections (model, data, optimizer).
// Each YAML key path equals a field path: `train.epochs` -> JobOptions::loop.epochs.
//   JobOptions job;
//   COLONY_RETURN_IF_ERROR(ReadJobSections(config, task->traits(), &job));
//   COLONY_RETURN_IF_ERROR(job.Validate(task->traits()));
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/ps/optimizer.h"

namespace colony::train {

// How the workers of a job share their parameters (docs/distributed.md, docs/heter.md).
enum class Strategy {
  kLocal,  // One worker: embedded tables, or ps.servers.
  kAsync,  // Workers push and pull without waiting for each other. Needs ps.servers.
  // Each step the servers apply the mean of all workers' gradients once and the workers wait
  // at a barrier: N workers on batches of B equal one on batches of N * B. Needs ps.servers.
  kSync,
  // Workers train local copies of the rows they use and merge them into the servers every
  // ps.geo_steps steps. Needs ps.servers.
  kGeo,
  // An IO trainer and compute trainers around a built-in PS, on ps.servers or embedded
  // tables (HeterOptions).
  kHeter,
};
// "local", "async", "sync", "geo", "heter": the names in configs and messages.
std::string_view StrategyName(Strategy strategy);

struct LoopOptions {
  int epochs = 1;     // Passes over the training data. Default: 1 (tasks may change it).
  uint64_t seed = 1;  // Seeds initializers, shuffling and dropout. Default: 1.
  // LibTorch intra-op threads; 0: all cores. Default: 1, which leaves the other cores to
  // BLAS and the reader: on 2 cores the DNN of examples/ctr ran 94k samples/s with 1 thread
  // and 62k with 2 (bench/train/run_train_bench.sh).
  int threads = 1;
  int64_t max_steps = 0;           // Stop after this many steps in all; 0: no limit. Default: 0.
  double log_every_seconds = 5.0;  // Progress line period. Default: 5.
  // Stop once the mean training loss of this worker's last kTargetLossWindow steps is at
  // most this; 0: off. For time-to-loss comparisons. Default: 0.
  double target_loss = 0;
  static constexpr int kTargetLossWindow = 20;
};

struct CheckpointOptions {
  // Where checkpoints go; "" writes none. With ps.servers a checkpoint holds the program,
  // config and data position only (the servers checkpoint the tables), and worker r of
  // several writes under <dir>/worker-<r>. Default: "".
  std::string dir;
  int64_t every_steps = 0;  // Also checkpoint every N steps; 0: only at the end.
};

// Where the parameters live. No servers: embedded tables in this process. Servers: the
// tables of `colony serve --role pserver` processes (keys sharded over them), named after the
// program's parameters; the first worker to create a dense table initializes it.
struct PsOptions {
  std::vector<std::string> servers;  // host:port of every parameter server. Default: none.
  std::string token;                 // The servers' --token. Default: "".
  std::string tls_ca;                // CA of the servers' TLS certificates; "" = plaintext.
  // Plaintext to servers off loopback is refused unless this is true: set tls_ca instead
  // (scripts/make-certs.sh). Default: false.
  bool plaintext = false;
  // A call to a server that is down (or restarting) is retried with backoff for this long,
  // then fails naming the server. Default: 30000.
  int deadline_ms = 30000;
  // How long a worker waits at a barrier for the others (start, each sync step, end).
  // Default: 600000.
  int barrier_timeout_ms = 600000;
  // A worker's dense parameters move together: each step pulls them with one PullMany and
  // pushes them with one PushMany per server (docs/ps_service.md). false: one Pull and one
  // Push per dense parameter, the path before batching, kept for comparisons. Default: true.
  bool batch_dense = true;
  int geo_steps = 20;  // Strategy geo: steps between merges with the servers. Default: 20.
  // Strategies async and sync: what a worker does when the global parameters of its next
  // step are late. "wait": it waits for them. "candidate": it waits only as long as a step
  // of training takes (or candidate_wait_ms), then trains the step on a candidate model, its
  // local copy updated with its own gradients (the servers' optimizer, run locally), and
  // merges the global values when they arrive. Default: "wait".
  std::string late_params = "wait";
  // With late_params candidate: how long to wait for the global parameters; 0 = the moving
  // average of this worker's step time. Default: 0.
  int candidate_wait_ms = 0;
  // With late_params candidate: how many steps a candidate model may run ahead of the
  // global parameters (pulls in flight); past it the worker waits for the oldest. Lower
  // keeps several workers' models closer (accuracy), higher hides longer delays (speed).
  // Default: 8.
  int candidate_max_stale = 8;
  // Row policies of the sparse tables (ps::SparseTableOptions): an id gets a row at its
  // admit_count-th pull, or with admit_probability per pull; rows unseen for ttl_passes
  // epochs are evicted; past memory_rows rows per table the rest go to RocksDB under
  // ssd_dir (embedded tables; servers take `colony serve --ssd-dir`). Defaults: off.
  int admit_count = 1;
  float admit_probability = 1.0f;
  int ttl_passes = 0;
  int64_t memory_rows = 0;
  std::string ssd_dir;
};

// Which worker of a job this process is. Not from YAML: `colony serve --role worker` and
// `colony launch` set it from flags or the launcher's environment.
struct WorkerOptions {
  int rank = 0;   // In [0, count).
  int count = 1;  // Workers of the job. Worker r trains batches r, r + count, ... of a pass.
};

// Strategy heter (section `heter`): an IO trainer fetches the rows each pass of pass_samples
// samples needs from the parameter servers into a built-in PS, compute_threads train on it,
// and the IO trainer pushes the pass's changes back. See docs/heter.md.
struct HeterOptions {
  int64_t pass_samples = 100000;  // Samples of this worker per pass. Default: 100000.
  int compute_threads = 2;        // Compute trainer threads, in [1, 64]. Default: 2.
};

// What a task supports; the job's sections are read and checked against it.
struct TaskTraits {
  std::vector<Strategy> strategies = {Strategy::kLocal};  // In the order messages list them.
  std::string models;          // For messages: "multi-task models". Default: none.
  bool sparse_tables = false;  // Reads ps.admit_*, ttl_passes, memory_rows, ssd_dir.
  bool late_params = false;    // Reads ps.late_params and the candidate_* keys.
};

struct JobOptions {
  Strategy strategy = Strategy::kLocal;  // Key strategy. Default: local.
  LoopOptions loop;                      // Key train.
  CheckpointOptions checkpoint;
  PsOptions ps;
  HeterOptions heter;
  // Not from YAML: set by the command line.
  WorkerOptions worker;
  std::string resume_dir;   // Continue from the latest checkpoint under this folder.
  std::string config_text;  // The config as YAML, stored in checkpoints.
  // When set and true, training stops after the current step, writes its checkpoint (if a
  // checkpoint dir is configured) and returns Cancelled. The CLI sets it on SIGINT/SIGTERM.
  const std::atomic<bool>* stop_requested = nullptr;

  // The checks every job shares, for a task with `traits`: the strategy is one the task
  // supports, servers for any strategy but local and heter (which may train one worker on
  // embedded tables), worker rank in range and one worker for local, TLS (or ps.plaintext)
  // off loopback, positive deadlines, the loop, checkpoint, heter and row-policy settings.
  // InvalidArgument naming the key.
  Status Validate(const TaskTraits& traits) const;
};

// Reads the sections every job shares: strategy, train, checkpoint, ps, heter and job
// (`job.dependencies` is for `colony launch`). The ps keys of strategies and features the task
// lacks (geo_steps, late_params, row policies) and the heter section are left unread, so
// that the config's CheckAllKeysUsed names them. A wrong type is InvalidArgument naming
// file, line and key.
Status ReadJobSections(const Config& config, const TaskTraits& traits, JobOptions* job);
// The end of a task's parser: no key left unread, the options valid (an error names the config
// file) and the config kept for checkpoints. `Options` derives from JobOptions and has
// Validate().
template <typename Options>
StatusOr<Options> FinishParse(const Config& config, Options options) {
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  Status valid = options.Validate();
  if (!valid.ok()) return valid.WithContext(config.source());
  options.config_text = config.ToYaml();
  return options;
}

// Reads one optimizer section (name, learning_rate, epsilon, ...) and validates it.
Status ReadOptimizer(const ConfigSection& section, ps::OptimizerOptions* options);
// The config's model.name, or "" when it has none.
std::string ModelName(const Config& config);

}  // namespace colony::train
