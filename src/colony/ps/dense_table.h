// A dense parameter held by the parameter server: one flat vector of floats updated by the
// table's optimizer on push.
//   COLONY_ASSIGN_OR_RETURN(auto w, DenseTable::Create({.size = 256 * 128}));
//   COLONY_RETURN_IF_ERROR(w->Init(initial_values));
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "colony/base/status.h"
#include "colony/ps/optimizer.h"

namespace colony::ps {

inline constexpr char kDenseTableFormat[] = "colony-dense-v1";

struct DenseTableOptions {
  int64_t size = 0;            // Floats in the parameter. Required, in [1, 2^31 - 1].
  OptimizerOptions optimizer;  // Update rule applied on push. Default: adagrad.
  Status Validate() const;     // InvalidArgument naming the bad field.
};

// All methods are safe to call concurrently from many threads.
class DenseTable {
 public:
  // InvalidArgument for bad options, NotFound for an unknown optimizer.
  static StatusOr<std::unique_ptr<DenseTable>> Create(const DenseTableOptions& options);
  virtual ~DenseTable() = default;
  DenseTable(const DenseTable&) = delete;
  DenseTable& operator=(const DenseTable&) = delete;

  // Sets the values (the table starts at zeros). InvalidArgument on a size mismatch.
  virtual Status Init(std::span<const float> values) = 0;
  virtual Status Pull(std::span<float> out) = 0;
  // One optimizer step with `grads`. InvalidArgument on a size mismatch.
  virtual Status Push(std::span<const float> grads) = 0;
  // Adds `deltas` to the values, no optimizer step: how geo workers merge their local
  // progress. InvalidArgument on a size mismatch.
  virtual Status Add(std::span<const float> deltas) = 0;
  // Writes `dir`/`name`.bin atomically; Load replaces the contents from it (NotFound,
  // DataLoss when corrupt, FailedPrecondition when size or optimizer differ).
  virtual Status Save(const std::string& dir, const std::string& name) const = 0;
  virtual Status Load(const std::string& dir, const std::string& name) = 0;
  virtual int64_t size() const = 0;

 protected:
  DenseTable() = default;
};

}  // namespace colony::ps
