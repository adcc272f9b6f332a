// Options of a training job, parsed from its YAML config. Each YAML key path equals a field
// path: `data.batch_size` -> TrainOptions::data.batch_size. See docs/config.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "colony/base/config.h"
#include "colony/base/status.h"
#include "colony/data/reader.h"
#include "colony/models/ctr_models.h"
#include "colony/ps/optimizer.h"

namespace colony::train {

struct DataOptions {
  std::string dir = "data/ctr";     // Folder holding the files below. Default: "data/ctr".
  std::string format = "criteo";    // "criteo", "csv" or "libsvm". Default: "criteo".
  std::string train = "train.txt";  // Training file inside dir. Default: "train.txt".
  std::string test = "test.txt";    // Test file inside dir; "" skips the test. Default: "test.txt".
  int batch_size = 512;             // Samples per step. Default: 512.
  int shuffle_buffer = 0;           // Shuffle window in samples; 0 keeps file order. Default: 0.
  int prefetch_batches = 4;         // Batches parsed ahead by a thread; 0: none. Default: 4.
  data::CsvSchema csv;              // Columns for format "csv".
};

struct LoopOptions {
  int epochs = 1;     // Passes over the training file. Default: 1.
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
  // Row policies of the sparse tables (ps::SparseTableOptions): an id gets a row at its
  // admit_count-th pull, or with admit_probability per pull; rows unseen for ttl_passes
  // epochs are evicted; past memory_rows rows per table the rest go to RocksDB under
  // ssd_dir (embedded tables; servers take `colony serve --ssd-dir`). Defaults: off.
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

struct TrainOptions {
  // "local": one worker (embedded tables, or ps.servers). "async": workers push and pull
  // without waiting for each other. "sync": each step, the servers apply the mean of all
  // workers' gradients once and the workers wait at a barrier; N workers on batches of B
  // equal one on batches of N * B. "geo": workers train local copies of the rows they use
  // and merge them into the servers every ps.geo_steps steps. async, sync and geo need
  // ps.servers. "heter": an IO trainer and compute trainers around a built-in PS, on
  // ps.servers or embedded tables (HeterOptions). Default: "local".
  std::string strategy = "local";
  models::CtrModelOptions model;
  DataOptions data;
  ps::OptimizerOptions sparse_optimizer;  // Key optimizer.sparse. Default: adagrad, lr 0.05.
  ps::OptimizerOptions dense_optimizer;   // Key optimizer.dense. Default: adam, lr 0.001.
  LoopOptions loop;                       // Key train.
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

  TrainOptions();
  Status Validate() const;
};

// Reads one optimizer section (name, learning_rate, epsilon, ...) and validates it.
Status ReadOptimizer(const ConfigSection& section, ps::OptimizerOptions* options);
// Reads the `train` section (epochs, seed, threads, max_steps, log_every_seconds).
Status ReadLoop(const ConfigSection& section, LoopOptions* options);
// Reads the keys of the `ps` section that say how to reach the servers: servers, token,
// tls_ca, plaintext, deadline_ms, barrier_timeout_ms.
Status ReadPsConnection(const ConfigSection& section, PsOptions* options);
// Reads the `job` section: `dependencies`, the job's dependency sub-directory, which
// `colony launch` prepares through the package cache (workers find it in COLONY_DEPS_DIR).
Status ReadJobSection(const ConfigSection& section, std::string* dependencies);
// The checks every job's strategy, servers and worker share: strategy in `strategies`,
// servers for any strategy but "local" and "heter" (which may train one worker on embedded
// tables), worker rank in range and one worker for "local", TLS (or ps.plaintext) off
// loopback, positive deadlines. InvalidArgument naming the key; a strategy outside
// `strategies` is named with the `models` it is refused for, if given.
Status ValidateJobPlacement(const std::string& strategy, const std::vector<std::string>& strategies,
                            const PsOptions& ps, const WorkerOptions& worker,
                            const std::string& models = "");
// The config's model.name, or "" when it has none (the trainers pick themselves by it).
std::string ModelName(const Config& config);
// InvalidArgument unless epochs > 0, threads and max_steps >= 0 and log_every_seconds > 0.
Status ValidateLoop(const LoopOptions& loop);

// Reads every section; an unknown key, a wrong type or a bad value is InvalidArgument naming
// the file, line and key.
StatusOr<TrainOptions> ParseTrainOptions(const Config& config);

}  // namespace colony::train
