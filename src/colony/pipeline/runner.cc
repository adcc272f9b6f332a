#include "colony/pipeline/runner.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/optim.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "colony/exec/compute_threads.h"
#include "colony/exec/executor.h"
#include "colony/exec/initializer.h"

namespace colony::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using TensorMap = std::map<std::string, at::Tensor>;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// What one stage hands its neighbour: a micro-batch's activations (forward) or the gradients
// of those activations (backward).
struct Message {
  int micro = 0;
  TensorMap tensors;
  int64_t slot = 0;  // The schedule slot at which the sender finished this work.
};

// Unbounded FIFO between two neighbouring stages. Close() wakes every waiter (a stage failed).
class Channel {
 public:
  void Push(Message m) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(m));
    }
    cv_.notify_all();
  }
  std::optional<Message> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;
  bool closed_ = false;
};

// The channels of one step: fwd[s] carries stage s -> s + 1, bwd[s] carries s + 1 -> s.
struct Links {
  std::vector<Channel> fwd, bwd;
  explicit Links(int p) : fwd(p > 1 ? p - 1 : 0), bwd(p > 1 ? p - 1 : 0) {}
  void CloseAll() {
    for (Channel& c : fwd) c.Close();
    for (Channel& c : bwd) c.Close();
  }
};

// EXPERIMENTAL emulated_device_us_per_row: the stage's device is busy, this host's cores not.
void EmulateDevice(double us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::micro>(us));
}

Status StageStopped(int s) {
  return AbortedError("pipeline stage " + std::to_string(s) + " stopped: another stage failed");
}

}  // namespace

Status PipelineOptions::Validate() const {
  if (micro_batches < 1) {
    return InvalidArgumentError("pipeline.micro_batches must be >= 1, got " +
                                std::to_string(micro_batches));
  }
  if (schedule != "gpipe" && schedule != "1f1b") {
    return InvalidArgumentError("pipeline.schedule must be 'gpipe' or '1f1b', got '" + schedule +
                                "'");
  }
  if (optimizer != "sgd" && optimizer != "adam") {
    return InvalidArgumentError("pipeline.optimizer must be 'sgd' or 'adam', got '" + optimizer +
                                "'");
  }
  if (!(learning_rate > 0)) {
    return InvalidArgumentError("pipeline.learning_rate must be > 0, got " +
                                std::to_string(learning_rate));
  }
  if (!(emulated_device_us_per_row >= 0)) {
    return InvalidArgumentError("pipeline.emulated_device_us_per_row must be >= 0, got " +
                                std::to_string(emulated_device_us_per_row));
  }
  if (threads_per_stage < 0) {
    return InvalidArgumentError("pipeline.threads_per_stage must be >= 0, got " +
                                std::to_string(threads_per_stage));
  }
  return OkStatus();
}

struct PipelineRunner::Stage {
  int index = 0;
  const Section* section = nullptr;
  std::unique_ptr<exec::Executor> executor;
  TensorMap params;  // Leaves requiring grad; undefined until set for sparse vars.
  std::unique_ptr<torch::optim::Optimizer> optimizer;

  // Per micro-batch state of the running step.
  struct Micro {
    exec::Scope scope;
    TensorMap received;  // The leaves this stage made of the received activations.
    TensorMap sent;      // The activations it sent, still attached to its graph.
    at::Tensor loss;     // Last stage only.
  };
  std::vector<Micro> micro;
  std::vector<int64_t> rows;  // Of each micro-batch.
  double emulated_us_per_row = 0;
  // The schedule's clock: a forward takes one slot and a backward two, each starting when
  // this stage's previous work and the neighbour's input (its message's slot) are done.
  int64_t slot = 0;
  StageStats stats;
  double loss_sum = 0;

  Status Forward(int k, const std::vector<TensorMap>& batches, int64_t step, Links& links, int p);
  Status Backward(int k, double weight, Links& links, int p);
  Status Run(const PipelineOptions& options, const std::vector<TensorMap>& batches,
             const std::vector<double>& weights, int64_t step, Links& links, int p);
};

Status PipelineRunner::Stage::Forward(int k, const std::vector<TensorMap>& batches, int64_t step,
                                      Links& links, int p) {
  Micro& m = micro[k];
  int64_t ready = 0;
  if (index > 0) {
    std::optional<Message> in = links.fwd[index - 1].Pop();
    if (!in) return StageStopped(index);
    if (in->micro != k) {
      return InternalError("pipeline stage " + std::to_string(index) + " expected micro-batch " +
                           std::to_string(k) + ", got " + std::to_string(in->micro));
    }
    ready = in->slot;
    for (auto& [name, t] : in->tensors) {
      at::Tensor leaf = t;
      if (t.is_floating_point()) leaf = t.detach().requires_grad_(true);
      m.received[name] = leaf;
    }
  }
  const auto t0 = Clock::now();
  for (const auto& [name, t] : params) m.scope.Set(name, t);
  for (const std::string& f : section->feeds) m.scope.Set(f, batches[k].at(f));
  for (const auto& [name, t] : m.received) m.scope.Set(name, t);
  COLONY_RETURN_IF_ERROR(executor->Forward(m.scope, /*training=*/true, step));
  EmulateDevice(emulated_us_per_row * static_cast<double>(rows[k]));
  slot = std::max(slot, ready) + 1;
  Message out{k, {}, slot};
  for (const std::string& n : section->sent) {
    COLONY_ASSIGN_OR_RETURN(at::Tensor t, m.scope.Get(n));
    m.sent[n] = t;
    out.tensors[n] = t.detach();
  }
  if (index == p - 1) {
    COLONY_ASSIGN_OR_RETURN(m.loss, m.scope.Get(section->program.loss()));
  }
  stats.busy_seconds += Seconds(t0, Clock::now());
  ++stats.forwards;
  stats.max_live_micro_batches =
      std::max(stats.max_live_micro_batches, stats.forwards - stats.backwards);
  if (index < p - 1) links.fwd[index].Push(std::move(out));
  return OkStatus();
}

Status PipelineRunner::Stage::Backward(int k, double weight, Links& links, int p) {
  Micro& m = micro[k];
  TensorMap grads_in;
  int64_t ready = 0;  // The last stage's input is its own forward, already on its clock.
  if (index < p - 1) {
    std::optional<Message> in = links.bwd[index].Pop();
    if (!in) return StageStopped(index);
    if (in->micro != k) {
      return InternalError("pipeline stage " + std::to_string(index) +
                           " expected the gradients of micro-batch " + std::to_string(k) +
                           ", got " + std::to_string(in->micro));
    }
    grads_in = std::move(in->tensors);
    ready = in->slot;
  }
  const auto t0 = Clock::now();
  std::vector<at::Tensor> outputs, grads;
  if (index == p - 1) {
    if (!m.loss.requires_grad()) {
      return FailedPreconditionError("pipeline loss '" + section->program.loss() +
                                     "' does not require grad (no trainable parameter)");
    }
    loss_sum += m.loss.item<double>() * weight;
    outputs.push_back(m.loss);
    grads.push_back(at::full_like(m.loss, weight));
  } else {
    for (auto& [name, g] : grads_in) {
      const at::Tensor& t = m.sent.at(name);
      if (!g.defined() || !t.requires_grad()) continue;
      outputs.push_back(t);
      grads.push_back(g);
    }
  }
  if (!outputs.empty()) torch::autograd::backward(outputs, grads);
  EmulateDevice(2 * emulated_us_per_row * static_cast<double>(rows[k]));
  slot = std::max(slot, ready) + 2;
  Message out{k, {}, slot};
  for (const auto& [name, leaf] : m.received) {
    if (leaf.requires_grad() && leaf.grad().defined()) out.tensors[name] = leaf.grad();
  }
  m = Micro{};  // Frees the micro-batch's activations and graph.
  stats.busy_seconds += Seconds(t0, Clock::now());
  ++stats.backwards;
  if (index > 0) links.bwd[index - 1].Push(std::move(out));
  return OkStatus();
}

Status PipelineRunner::Stage::Run(const PipelineOptions& options,
                                  const std::vector<TensorMap>& batches,
                                  const std::vector<double>& weights, int64_t step, Links& links,
                                  int p) {
  if (options.threads_per_stage > 0) at::set_num_threads(options.threads_per_stage);
  const int mb = static_cast<int>(batches.size());
  micro.assign(mb, Micro{});
  slot = 0;
  emulated_us_per_row = options.emulated_device_us_per_row;
  rows.clear();
  for (const TensorMap& b : batches) rows.push_back(b.empty() ? 0 : b.begin()->second.size(0));
  auto fwd = [&](int k) { return Forward(k, batches, step * mb + k, links, p); };
  auto bwd = [&](int k) { return Backward(k, weights[k], links, p); };
  if (options.schedule == "gpipe") {
    for (int k = 0; k < mb; ++k) COLONY_RETURN_IF_ERROR(fwd(k));
    for (int k = mb - 1; k >= 0; --k) COLONY_RETURN_IF_ERROR(bwd(k));
    return OkStatus();
  }
  // 1F1B: warm-up forwards fill the pipe, then each forward is followed by the oldest backward.
  const int warm = std::min(p - 1 - index, mb);
  for (int k = 0; k < warm; ++k) COLONY_RETURN_IF_ERROR(fwd(k));
  for (int k = warm; k < mb; ++k) {
    COLONY_RETURN_IF_ERROR(fwd(k));
    COLONY_RETURN_IF_ERROR(bwd(k - warm));
  }
  for (int k = mb - warm; k < mb; ++k) COLONY_RETURN_IF_ERROR(bwd(k));
  return OkStatus();
}

PipelineRunner::PipelineRunner() = default;
PipelineRunner::~PipelineRunner() = default;

StatusOr<std::unique_ptr<PipelineRunner>> PipelineRunner::Create(const graph::ProgramDesc& program,
                                                                 const PipelineOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  if (program.loss().empty()) {
    return InvalidArgumentError("pipeline training needs a program with a loss");
  }
  // OpenBLAS keeps its own thread pool; with p stage threads each calling it, a pool per call
  // oversubscribes the cores, so the stages' BLAS threads follow threads_per_stage.
  if (options.threads_per_stage > 0) exec::SetBlasThreads(options.threads_per_stage);
  std::unique_ptr<PipelineRunner> r(new PipelineRunner());
  r->options_ = options;
  COLONY_ASSIGN_OR_RETURN(r->sections_, SplitProgram(program, options.cut_vars));
  r->feeds_.assign(program.feeds().begin(), program.feeds().end());
  for (size_t s = 0; s < r->sections_.size(); ++s) {
    auto stage = std::make_unique<Stage>();
    stage->index = static_cast<int>(s);
    stage->section = &r->sections_[s];
    COLONY_ASSIGN_OR_RETURN(
        stage->executor, exec::Executor::Create(r->sections_[s].program, {.seed = options.seed}));
    for (const std::string& name : r->sections_[s].params) {
      const graph::VarDesc* var = graph::FindVar(program, 0, name);
      const bool sized =
          std::none_of(var->shape().begin(), var->shape().end(), [](int64_t d) { return d < 0; });
      at::Tensor value;
      if (sized) {
        COLONY_ASSIGN_OR_RETURN(value, exec::MakeInitialValue(*var, options.seed));
        value.requires_grad_(true);
      }
      stage->params[name] = value;
    }
    r->stages_.push_back(std::move(stage));
  }
  return r;
}

Status PipelineRunner::SetParameter(const std::string& name, const at::Tensor& value) {
  for (auto& stage : stages_) {
    auto it = stage->params.find(name);
    if (it == stage->params.end()) continue;
    at::Tensor& p = it->second;
    if (p.defined()) {
      if (p.sizes() != value.sizes()) {
        return InvalidArgumentError("pipeline parameter '" + name + "' has shape " +
                                    c10::str(p.sizes()) + ", got " + c10::str(value.sizes()));
      }
      at::NoGradGuard no_grad;
      p.copy_(value);
    } else {
      if (stage->optimizer) {
        return FailedPreconditionError("pipeline parameter '" + name +
                                       "' set after training started");
      }
      p = value.detach().clone().to(at::kFloat).requires_grad_(true);
    }
    return OkStatus();
  }
  return NotFoundError("no pipeline section reads a parameter '" + name + "'");
}

StatusOr<StepResult> PipelineRunner::ComputeGradients(const TensorMap& batch) {
  const int mb = options_.micro_batches;
  int64_t rows = -1;
  std::string first_feed;
  for (const std::string& f : feeds_) {
    auto it = batch.find(f);
    if (it == batch.end()) return InvalidArgumentError("pipeline batch lacks feed '" + f + "'");
    const int64_t n = it->second.dim() == 0 ? 0 : it->second.size(0);
    if (rows < 0) {
      rows = n;
      first_feed = f;
    } else if (n != rows) {
      return InvalidArgumentError("pipeline batch feed '" + f + "' has " + std::to_string(n) +
                                  " rows, '" + first_feed + "' has " + std::to_string(rows) +
                                  "; every feed is split along dim 0");
    }
  }
  if (rows < mb) {
    return InvalidArgumentError("pipeline batch has " + std::to_string(rows) +
                                " rows, fewer than pipeline.micro_batches = " + std::to_string(mb));
  }
  for (auto& stage : stages_) {
    for (auto& [name, p] : stage->params) {
      if (!p.defined()) {
        return FailedPreconditionError("pipeline parameter '" + name +
                                       "' has no value; give it with SetParameter");
      }
      p.mutable_grad() = at::Tensor();
    }
    stage->stats = StageStats{};
    stage->loss_sum = 0;
  }
  std::vector<TensorMap> micro(mb);
  std::vector<double> weights(mb);
  for (const auto& [name, t] : batch) {
    std::vector<at::Tensor> parts = at::tensor_split(t, mb, 0);
    for (int k = 0; k < mb; ++k) micro[k][name] = parts[k];
  }
  for (int k = 0; k < mb; ++k) {
    weights[k] = static_cast<double>(micro[k].at(first_feed).size(0)) / static_cast<double>(rows);
  }

  const int p = static_cast<int>(stages_.size());
  Links links(p);
  std::vector<Status> results(p);
  const int64_t step = steps_++;
  const auto t0 = Clock::now();
  {
    std::vector<std::thread> threads;
    for (int s = 0; s < p; ++s) {
      threads.emplace_back([&, s] {
        Status st;
        try {
          st = stages_[s]->Run(options_, micro, weights, step, links, p);
        } catch (const std::exception& e) {
          st = InternalError("pipeline stage " + std::to_string(s) + ": " + e.what());
        }
        if (!st.ok()) links.CloseAll();
        results[s] = std::move(st);
      });
    }
    for (std::thread& t : threads) t.join();
  }
  const double wall = Seconds(t0, Clock::now());
  for (const Status& st : results) {
    if (!st.ok() && st.code() != StatusCode::kAborted) return st;
  }
  for (const Status& st : results) COLONY_RETURN_IF_ERROR(st);

  StepResult result;
  result.loss = stages_.back()->loss_sum;
  result.wall_seconds = wall;
  double busy = 0;
  int64_t busy_slots = 0, last_slot = 0;
  for (auto& stage : stages_) {
    stage->stats.idle_seconds = std::max(0.0, wall - stage->stats.busy_seconds);
    busy += stage->stats.busy_seconds;
    busy_slots += stage->stats.forwards + 2 * stage->stats.backwards;
    last_slot = std::max(last_slot, stage->slot);
    result.stages.push_back(stage->stats);
  }
  result.bubble_fraction = wall > 0 ? std::max(0.0, 1.0 - busy / (p * wall)) : 0.0;
  result.schedule_bubble_fraction =
      last_slot > 0 ? 1.0 - static_cast<double>(busy_slots) / static_cast<double>(p * last_slot)
                    : 0.0;
  return result;
}

StatusOr<StepResult> PipelineRunner::TrainStep(const TensorMap& batch) {
  COLONY_ASSIGN_OR_RETURN(StepResult result, ComputeGradients(batch));
  try {
    for (auto& stage : stages_) {
      if (!stage->optimizer) {
        std::vector<at::Tensor> params;
        for (auto& [name, t] : stage->params) params.push_back(t);
        if (options_.optimizer == "adam") {
          stage->optimizer = std::make_unique<torch::optim::Adam>(
              params, torch::optim::AdamOptions(options_.learning_rate));
        } else {
          stage->optimizer = std::make_unique<torch::optim::SGD>(
              params, torch::optim::SGDOptions(options_.learning_rate));
        }
      }
      stage->optimizer->step();
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("pipeline optimizer step: ") + e.what());
  }
  return result;
}

std::map<std::string, at::Tensor> PipelineRunner::Parameters() const {
  TensorMap out;
  for (const auto& stage : stages_) {
    for (const auto& [name, t] : stage->params) {
      if (t.defined()) out[name] = t.detach().clone();
    }
  }
  return out;
}

std::map<std::string, at::Tensor> PipelineRunner::Gradients() const {
  TensorMap out;
  for (const auto& stage : stages_) {
    for (const auto& [name, t] : stage->params) {
      if (!t.defined()) continue;
      out[name] = t.grad().defined() ? t.grad().clone() : at::zeros_like(t);
    }
  }
  return out;
}

const std::vector<Section>& PipelineRunner::sections() const { return sections_; }

}  // namespace colony::pipeline
