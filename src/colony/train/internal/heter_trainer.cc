#include "colony/train/internal/heter_trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "colony/base/logging.h"
#include "colony/exec/executor.h"
#include "colony/train/internal/batch_feeder.h"
#include "colony/train/internal/builtin_ps.h"
#include "colony/train/internal/job_util.h"

namespace colony::train::internal {
namespace {

// One pass as the IO trainer prepares it: its batches, and the rows fetched for its keys.
struct Pass {
  std::vector<data::Batch> batches;
  int64_t samples = 0;
  int64_t epoch = 0;  // Of the first batch.
  // Data position before and after the pass.
  int64_t start_epoch = 0, start_batches = 0, end_epoch = 0, end_batches = 0;
  int epochs_ended = 0;  // Epochs whose end the IO trainer reached while reading this pass.
  size_t keys = 0;
  BuiltinPs::Fetched fetched;
  double fetch_seconds = 0;  // Reading, key collection and the fetch.
};

// The IO trainer: reads passes of this worker's batches and fetches their rows.
class IoTrainer {
 public:
  IoTrainer(const JobOptions& job, CtrTask& task, const CheckpointState& state,
            const BuiltinPs& cache)
      : task_(task),
        o_(job),
        cache_(cache),
        epoch_(state.epoch),
        batches_in_epoch_(state.batches_in_epoch),
        skip_(state.batches_in_epoch),
        steps_left_(o_.loop.max_steps > 0
                        ? std::max<int64_t>(0, o_.loop.max_steps - state.global_step)
                        : -1) {}

  // The next pass; one without batches when the data (or train.max_steps) is done.
  StatusOr<Pass> NextPass() {
    const Clock::time_point start = Clock::now();
    Pass p;
    p.start_epoch = epoch_;
    p.start_batches = batches_in_epoch_;
    while (epoch_ < o_.loop.epochs && p.samples < o_.heter.pass_samples && steps_left_ != 0) {
      if (reset_) {
        COLONY_RETURN_IF_ERROR(task_.StartEpoch(epoch_));
        reset_ = false;
        for (; skip_ > 0; --skip_) {  // Replays the data position of a checkpoint.
          COLONY_ASSIGN_OR_RETURN(bool more, task_.NextBatchInto(&scratch_));
          if (!more) break;
        }
      }
      data::Batch batch;
      COLONY_ASSIGN_OR_RETURN(bool more, task_.NextBatchInto(&batch));
      if (!more) {
        ++epoch_;
        batches_in_epoch_ = 0;
        reset_ = true;
        ++p.epochs_ended;
        if (!p.batches.empty()) break;  // A pass does not cross an epoch's end.
        continue;
      }
      if (p.batches.empty()) p.epoch = epoch_;
      ++batches_in_epoch_;
      if (steps_left_ > 0) --steps_left_;
      p.samples += batch.size;
      p.batches.push_back(std::move(batch));
    }
    p.end_epoch = epoch_;
    p.end_batches = batches_in_epoch_;
    std::vector<uint64_t> keys;
    for (const data::Batch& b : p.batches) {
      keys.insert(keys.end(), b.sparse_ids.begin(), b.sparse_ids.end());
      keys.insert(keys.end(), b.feature_ids.begin(), b.feature_ids.end());
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    p.keys = keys.size();
    COLONY_ASSIGN_OR_RETURN(p.fetched, cache_.Fetch(std::move(keys)));
    p.fetch_seconds = SecondsSince(start);
    return p;
  }

 private:
  CtrTask& task_;
  const JobOptions& o_;
  const BuiltinPs& cache_;
  int64_t epoch_, batches_in_epoch_, skip_;
  int64_t steps_left_;  // -1: no train.max_steps.
  bool reset_ = true;
  data::Batch scratch_;
};

// A compute trainer: its own executor, feeder and scope.
struct ComputeTrainer {
  std::unique_ptr<exec::Executor> executor;
  BatchFeeder feeder;
  exec::Scope scope;
};

// Trains one pass on the compute trainers against `cache`.
class PassRunner {
 public:
  PassRunner(LoopContext& ctx, CtrTask& task, BuiltinPs& cache)
      : ctx_(ctx), o_(ctx.job()), task_(task), cache_(cache) {}

  Status Init() {
    const graph::ProgramDesc& program = task_.program();
    exec::ExecutorOptions exec_options;
    exec_options.seed = o_.loop.seed;
    trainers_.resize(o_.heter.compute_threads);
    for (ComputeTrainer& t : trainers_) {
      COLONY_ASSIGN_OR_RETURN(t.executor, exec::Executor::Create(program, exec_options));
    }
    return OkStatus();
  }

  // Trains every batch of `pass` unless stop is requested; true when it was.
  StatusOr<bool> Run(const Pass& pass) {
    pass_ = &pass;
    next_ = 0;
    first_step_ = ctx_.state().global_step;
    failed_ = stopped_ = false;
    error_ = OkStatus();
    std::vector<std::thread> threads;
    for (size_t i = 1; i < trainers_.size(); ++i) {
      threads.emplace_back([this, i] { Work(trainers_[i]); });
    }
    Work(trainers_[0]);
    for (std::thread& t : threads) t.join();
    COLONY_RETURN_IF_ERROR(error_);
    return stopped_.load();
  }

 private:
  void Work(ComputeTrainer& t) {
    while (!failed_) {
      if (o_.stop_requested != nullptr && o_.stop_requested->load()) {
        stopped_ = true;
        return;
      }
      const size_t i = next_.fetch_add(1);
      if (i >= pass_->batches.size()) return;
      Status s = Step(t, pass_->batches[i], first_step_ + static_cast<int64_t>(i));
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) error_ = std::move(s);
        failed_ = true;
      }
    }
  }

  Status Step(ComputeTrainer& t, const data::Batch& batch, int64_t step) {
    t.scope.Clear();
    COLONY_RETURN_IF_ERROR(t.feeder.Feed(batch, task_.model_options(), t.scope));
    const std::vector<uint64_t>& ids = t.feeder.unique_ids();
    COLONY_RETURN_IF_ERROR(cache_.PullDense(t.scope));
    COLONY_RETURN_IF_ERROR(cache_.PullSparse(ids, t.scope));
    COLONY_RETURN_IF_ERROR(t.executor->Forward(t.scope, true, step));
    COLONY_RETURN_IF_ERROR(t.executor->Backward(t.scope));
    COLONY_RETURN_IF_ERROR(cache_.PushGradients(ids, t.scope));
    COLONY_ASSIGN_OR_RETURN(at::Tensor loss, t.scope.Get(task_.program().loss()));
    COLONY_ASSIGN_OR_RETURN(at::Tensor prob, t.scope.Get(task_.program().fetches(0)));
    const double step_loss = loss.item<double>();
    prob = prob.detach().contiguous();
    std::lock_guard<std::mutex> lock(mu_);
    task_.RecordPredictions(std::span<const float>(prob.data_ptr<float>(), batch.size),
                            batch.labels);
    return ctx_.CountStep(step_loss, batch.size, pass_->epoch);
  }

  LoopContext& ctx_;
  const JobOptions& o_;
  CtrTask& task_;
  BuiltinPs& cache_;
  std::vector<ComputeTrainer> trainers_;
  const Pass* pass_ = nullptr;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false}, stopped_{false};
  int64_t first_step_ = 0;
  std::mutex mu_;  // Guards error_, ctx_ and the task's statistics.
  Status error_;
};

nlohmann::ordered_json PassJson(const HeterPass& p) {
  return {{"samples", p.samples},
          {"keys", p.keys},
          {"cache_hits", p.hits},
          {"cache_hit_rate", p.keys > 0 ? static_cast<double>(p.hits) / p.keys : 0.0},
          {"bytes", p.bytes},
          {"exchange_seconds", p.exchange_seconds},
          {"fetch_seconds", p.fetch_seconds},
          {"train_seconds", p.train_seconds}};
}

}  // namespace

Status RunHeter(LoopContext& ctx, CtrTask& task) {
  const JobOptions& o = ctx.job();
  CheckpointState& state = ctx.state();
  std::vector<HeterPass>& passes = ctx.summary().runner.heter_passes;
  const TaskParameters parameters = task.parameters();
  COLONY_ASSIGN_OR_RETURN(
      std::unique_ptr<BuiltinPs> cache,
      BuiltinPs::Create(*ctx.model().parameters, parameters.sparse_optimizer,
                        parameters.dense_optimizer, o.ps.servers.empty() ? 1 : o.worker.count));
  PassRunner runner(ctx, task, *cache);
  COLONY_RETURN_IF_ERROR(runner.Init());
  IoTrainer io(o, task, state, *cache);
  COLONY_LOG_INFO("heter: IO trainer, {} compute trainer threads, passes of {} samples",
                  o.heter.compute_threads, o.heter.pass_samples);

  // Epochs the IO trainer saw end in a pass end once the pass is trained.
  auto end_epochs = [&](Pass& p) -> Status {
    return p.epochs_ended == 0 ? OkStatus() : ctx.EndEpoch(p.end_epoch - 1);
  };

  // The first pass is fetched before any training; later ones while the previous trains.
  COLONY_ASSIGN_OR_RETURN(Pass current, io.NextPass());
  int64_t pulled = current.fetched.bytes;  // For the current pass, before its training.
  Clock::time_point exchange_start = Clock::now();
  COLONY_ASSIGN_OR_RETURN(BuiltinPs::Exchanged in, cache->Exchange(std::move(current.fetched)));
  double exchange_in = SecondsSince(exchange_start);
  pulled += in.pulled_bytes;
  while (!current.batches.empty()) {
    std::future<StatusOr<Pass>> next =
        std::async(std::launch::async, [&io] { return io.NextPass(); });
    const Clock::time_point train_start = Clock::now();
    StatusOr<bool> stopped = runner.Run(current);
    const double train_seconds = SecondsSince(train_start);
    StatusOr<Pass> next_pass = next.get();  // Joined before anything returns.
    COLONY_RETURN_IF_ERROR(stopped.status());
    COLONY_RETURN_IF_ERROR(next_pass.status());
    if (*stopped) next_pass->fetched = {};  // Push what was trained, empty the cache.

    exchange_start = Clock::now();
    COLONY_ASSIGN_OR_RETURN(BuiltinPs::Exchanged ex,
                            cache->Exchange(std::move(next_pass->fetched)));
    HeterPass report;
    report.samples = current.samples;
    report.keys = static_cast<int64_t>(current.keys);
    report.hits = in.hits;
    report.bytes = pulled + ex.pushed_bytes;
    report.exchange_seconds = exchange_in + SecondsSince(exchange_start);
    report.fetch_seconds = current.fetch_seconds;
    report.train_seconds = train_seconds;
    passes.push_back(report);
    COLONY_LOG_INFO(
        "heter pass {}: {} samples in {:.2f}s ({:.0f} samples/s) | {} keys, cache hit {:.1f}% | "
        "{:.2f} MB exchanged in {:.3f}s | read+fetch {:.2f}s, overlapped",
        passes.size(), report.samples, train_seconds,
        report.samples / std::max(train_seconds, 1e-9), report.keys,
        report.keys > 0 ? 100.0 * report.hits / report.keys : 0.0, report.bytes / 1e6,
        report.exchange_seconds, report.fetch_seconds);
    if (*stopped) {
      // The interrupted pass trains again after a resume: at least once.
      state.epoch = current.start_epoch;
      state.batches_in_epoch = current.start_batches;
      ctx.set_interrupted();
      return OkStatus();
    }
    state.epoch = current.end_epoch;
    state.batches_in_epoch = current.end_batches;
    COLONY_RETURN_IF_ERROR(end_epochs(current));
    current = std::move(*next_pass);
    pulled = current.fetched.bytes + ex.pulled_bytes;
    in = ex;
    exchange_in = 0;  // The exchange before this pass is the one that ended the last.
  }
  state.epoch = current.end_epoch;
  state.batches_in_epoch = current.end_batches;
  return end_epochs(current);
}

void AddHeterJson(const RunnerSummary& runner, nlohmann::ordered_json& summary) {
  if (runner.heter_passes.empty()) return;
  HeterPass total;
  nlohmann::ordered_json passes = nlohmann::ordered_json::array();
  for (const HeterPass& p : runner.heter_passes) {
    total.samples += p.samples;
    total.keys += p.keys;
    total.hits += p.hits;
    total.bytes += p.bytes;
    total.exchange_seconds += p.exchange_seconds;
    total.fetch_seconds += p.fetch_seconds;
    total.train_seconds += p.train_seconds;
    passes.push_back(PassJson(p));
  }
  summary["heter"] = {{"passes", runner.heter_passes.size()},
                      {"total", PassJson(total)},
                      {"per_pass", std::move(passes)}};
}

}  // namespace colony::train::internal
