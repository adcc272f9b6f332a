// The in-memory DenseTable: values and optimizer state in two vectors behind one mutex.
#include <algorithm>
#include <limits>
#include <mutex>
#include <vector>

#include "colony/ps/dense_table.h"
#include "colony/ps/internal/table_file.h"

namespace colony::ps {

Status DenseTableOptions::Validate() const {
  // Optimizer::Update takes an int count.
  if (size <= 0 || size > std::numeric_limits<int>::max()) {
    return InvalidArgumentError("dense table size must be in [1, 2^31 - 1], got " +
                                std::to_string(size));
  }
  return optimizer.Validate();
}

namespace {

class MemoryDenseTable final : public DenseTable {
 public:
  MemoryDenseTable(const DenseTableOptions& options, std::unique_ptr<Optimizer> optimizer)
      : options_(options),
        optimizer_(std::move(optimizer)),
        values_(options.size, 0.0f),
        state_(optimizer_->StateWidth(static_cast<int>(options.size))) {
    optimizer_->InitState(state_.data(), static_cast<int>(options.size));
  }

  Status Init(std::span<const float> values) override {
    COLONY_RETURN_IF_ERROR(CheckSize("init", values.size()));
    std::lock_guard<std::mutex> lock(mu_);
    std::copy(values.begin(), values.end(), values_.begin());
    return OkStatus();
  }

  Status Pull(std::span<float> out) override {
    COLONY_RETURN_IF_ERROR(CheckSize("pull", out.size()));
    std::lock_guard<std::mutex> lock(mu_);
    std::copy(values_.begin(), values_.end(), out.begin());
    return OkStatus();
  }

  Status Push(std::span<const float> grads) override {
    COLONY_RETURN_IF_ERROR(CheckSize("push", grads.size()));
    std::lock_guard<std::mutex> lock(mu_);
    optimizer_->Update(values_.data(), state_.data(), grads.data(),
                       static_cast<int>(values_.size()));
    return OkStatus();
  }

  Status Add(std::span<const float> deltas) override {
    COLONY_RETURN_IF_ERROR(CheckSize("add", deltas.size()));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < deltas.size(); ++i) values_[i] += deltas[i];
    return OkStatus();
  }

  Status Save(const std::string& dir, const std::string& name) const override {
    internal::TableFileWriter file(dir + "/" + name + ".bin", kDenseTableFormat);
    std::lock_guard<std::mutex> lock(mu_);
    file.Put(static_cast<int64_t>(values_.size()));
    file.Put(static_cast<int64_t>(state_.size()));
    file.PutString(optimizer_->name());
    const OptimizerOptions& p = options_.optimizer;
    for (float v : {p.learning_rate, p.epsilon, p.initial_accumulator, p.beta1, p.beta2, p.l1, p.l2,
                    p.lr_power, p.beta}) {
      file.Put(v);
    }
    file.PutFloats(values_.data(), values_.size());
    file.PutFloats(state_.data(), state_.size());
    return file.Finish();
  }

  Status Load(const std::string& dir, const std::string& name) override {
    COLONY_ASSIGN_OR_RETURN(
        internal::TableFileReader file,
        internal::TableFileReader::Open(dir + "/" + name + ".bin", kDenseTableFormat));
    int64_t size = 0, state_size = 0;
    std::string optimizer;
    COLONY_RETURN_IF_ERROR(file.Get(&size));
    COLONY_RETURN_IF_ERROR(file.Get(&state_size));
    COLONY_RETURN_IF_ERROR(file.GetString(&optimizer));
    // The saved optimizer options are informational: a resumed job may change them.
    float saved_option = 0;
    for (int k = 0; k < 9; ++k) COLONY_RETURN_IF_ERROR(file.Get(&saved_option));
    std::lock_guard<std::mutex> lock(mu_);
    if (size != static_cast<int64_t>(values_.size()) || optimizer != optimizer_->name() ||
        state_size != static_cast<int64_t>(state_.size())) {
      return FailedPreconditionError(file.path() + ": holds " + std::to_string(size) +
                                     " values with optimizer '" + optimizer + "', this table has " +
                                     std::to_string(values_.size()) + " with '" +
                                     std::string(optimizer_->name()) + "'");
    }
    std::vector<float> values(values_.size()), state(state_.size());
    COLONY_RETURN_IF_ERROR(file.GetFloats(values.data(), values.size()));
    COLONY_RETURN_IF_ERROR(file.GetFloats(state.data(), state.size()));
    if (file.remaining() != 0) {
      return DataLossError(file.path() + ": " + std::to_string(file.remaining()) +
                           " bytes after the payload");
    }
    values_ = std::move(values);
    state_ = std::move(state);
    return OkStatus();
  }

  int64_t size() const override { return options_.size; }

 private:
  Status CheckSize(const char* what, size_t n) const {
    if (n == static_cast<size_t>(options_.size)) return OkStatus();
    return InvalidArgumentError(std::string(what) + ": got " + std::to_string(n) +
                                " floats, the table holds " + std::to_string(options_.size));
  }

  const DenseTableOptions options_;
  const std::unique_ptr<Optimizer> optimizer_;
  mutable std::mutex mu_;
  std::vector<float> values_;
  std::vector<float> state_;
};

}  // namespace

StatusOr<std::unique_ptr<DenseTable>> DenseTable::Create(const DenseTableOptions& options) {
  COLONY_RETURN_IF_ERROR(options.Validate());
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<Optimizer> optimizer,
                          Optimizer::Create(options.optimizer));
  return std::unique_ptr<DenseTable>(new MemoryDenseTable(options, std::move(optimizer)));
}

}  // namespace colony::ps
