// An example of adding a model to colony: linear regression y = x . w + b on CSV files of
// "label,x1,...,xd" lines, trained with the mean squared error. The whole model is this file:
// its options, a Task (loop.h) and the registration of model.name "linear_regression"
// (docs/training.md walks through it). Everything else (strategies, parameter servers,
// checkpoints and resume, progress, summaries, `colony launch`) comes from the loop.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>

#include "colony/base/file_util.h"
#include "colony/exec/executor.h"
#include "colony/graph/builder.h"
#include "colony/train/internal/job_util.h"
#include "colony/train/internal/parameter_set.h"
#include "colony/train/task_registry.h"

namespace colony::train {
namespace {

struct LinearRegressionOptions {
  std::string dir = "data/linear";  // Folder of the files below. Default: "data/linear".
  std::string train = "train.csv";  // Default: "train.csv".
  std::string test = "test.csv";    // "" skips the test. Default: "test.csv".
  int batch_size = 64;              // Default: 64.
  ps::OptimizerOptions optimizer;   // Key optimizer. Default: adam, lr 0.01.
};

// The rows of one CSV file; a line that is not all numbers, or of another width than the
// first good line, is counted and skipped.
struct Rows {
  int64_t dim = 0;
  std::vector<float> x, y;  // [n, dim] and [n].
  BadLines bad;
  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

StatusOr<Rows> ReadRows(const std::string& path, int64_t dim) {
  std::ifstream in(path);
  if (!in) return NotFoundError("data file '" + path + "' does not exist (data.dir, data.train)");
  Rows rows;
  rows.dim = dim;
  std::string line;
  std::vector<float> values;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    values.clear();
    const char* p = line.data();
    const char* end = p + line.size();
    bool ok = true;
    while (ok && p < end) {
      float v = 0;
      auto [next, ec] = std::from_chars(p, end, v);
      ok = ec == std::errc() && (next == end || *next == ',');
      values.push_back(v);
      p = next + 1;
    }
    if (rows.dim == 0 && ok && values.size() >= 2) rows.dim = values.size() - 1;
    if (!ok || static_cast<int64_t>(values.size()) != rows.dim + 1) {
      rows.bad.Add(1, {fmt::format("{}:{}: expected {} numbers separated by ','", path, number,
                                   rows.dim + 1)});
      continue;
    }
    rows.y.push_back(values[0]);
    rows.x.insert(rows.x.end(), values.begin() + 1, values.end());
  }
  return rows;
}

class LinearRegressionTask : public Task {
 public:
  explicit LinearRegressionTask(const LinearRegressionOptions& options) : o_(options) {}

  TaskTraits traits() const override {
    TaskTraits traits;
    traits.strategies = {Strategy::kLocal, Strategy::kAsync, Strategy::kSync};
    return traits;
  }
  std::string model_name() const override { return "linear_regression"; }

  Status Prepare(const JobOptions& job) override {
    job_ = job;
    COLONY_ASSIGN_OR_RETURN(train_, ReadRows(internal::JoinPath(o_.dir, o_.train), 0));
    if (train_.size() == 0) return InvalidArgumentError("no valid line in " + o_.train);
    if (!o_.test.empty()) {
      COLONY_ASSIGN_OR_RETURN(test_, ReadRows(internal::JoinPath(o_.dir, o_.test), train_.dim));
    }
    graph::ProgramBuilder b;
    const std::string x = b.Feed("x", graph::FLOAT32, {-1, train_.dim});
    const std::string y = b.Feed("y", graph::FLOAT32, {-1, 1});
    const std::string w = b.Parameter("w", {train_.dim, 1}, graph::Zeros());
    const std::string bias = b.Parameter("b", {1}, graph::Zeros());
    const std::string out = b.Op1("fc", {{"X", {x}}, {"W", {w}}, {"B", {bias}}},
                                  {{"activation", graph::StringAttr("none")}});
    b.AddFetch(out);
    const std::string diff = b.Op1("sub", {{"X", {out}}, {"Y", {y}}});
    const std::string square = b.Op1("mul", {{"X", {diff}}, {"Y", {diff}}});
    b.SetLoss(b.Op1("reduce_mean", {{"X", {square}}},
                    {{"axes", graph::IntsAttr({})}, {"keep_dim", graph::BoolAttr(false)}}));
    COLONY_ASSIGN_OR_RETURN(program_, b.Build());
    return OkStatus();
  }

  const graph::ProgramDesc& program() const override { return program_; }
  TaskParameters parameters() const override {
    TaskParameters parameters;
    parameters.dense_optimizer = o_.optimizer;
    return parameters;
  }

  // Batches in file order; worker r of M takes batches r, r + M, ...
  Status StartEpoch(int64_t epoch) override {
    next_ = job_.worker.rank;
    return OkStatus();
  }
  StatusOr<bool> NextBatch() override {
    begin_ = next_ * o_.batch_size;
    if (begin_ >= train_.size()) return false;
    next_ += job_.worker.count;
    return true;
  }
  StatusOr<Fed> Feed(exec::Scope& scope) override {
    const int64_t n = std::min<int64_t>(o_.batch_size, train_.size() - begin_);
    Put(train_, begin_, n, scope);
    Fed fed;
    fed.samples = n;
    return fed;
  }

  StatusOr<int64_t> Evaluate(Model& model) override {
    if (test_.size() == 0) return 0;
    at::NoGradGuard no_grad;
    exec::Scope scope;
    Put(test_, 0, test_.size(), scope);
    COLONY_RETURN_IF_ERROR(model.parameters->PullDense(scope, /*training=*/false));
    COLONY_RETURN_IF_ERROR(model.executors[0]->Forward(scope, /*training=*/false, 0));
    COLONY_ASSIGN_OR_RETURN(at::Tensor mse, scope.Get(program_.loss()));
    test_mse_ = mse.item<double>();
    return test_.size();
  }

  BadLines bad_lines() const override {
    BadLines bad = train_.bad;
    bad.Add(test_.bad.count, test_.bad.first);
    return bad;
  }
  void AddToJson(nlohmann::ordered_json& summary) const override {
    summary["test_mse"] = test_mse_;
  }
  std::string SummaryLine() const override {
    return fmt::format(" | test mse {:.6f} on {} samples", test_mse_, test_.size());
  }

 private:
  // Feeds rows [begin, begin + n) of `rows`.
  static void Put(const Rows& rows, int64_t begin, int64_t n, exec::Scope& scope) {
    at::Tensor x = at::empty({n, rows.dim}, at::kFloat);
    at::Tensor y = at::empty({n, 1}, at::kFloat);
    std::copy_n(rows.x.begin() + begin * rows.dim, n * rows.dim, x.data_ptr<float>());
    std::copy_n(rows.y.begin() + begin, n, y.data_ptr<float>());
    scope.Set("x", std::move(x));
    scope.Set("y", std::move(y));
  }

  LinearRegressionOptions o_;
  JobOptions job_;
  Rows train_, test_;
  graph::ProgramDesc program_;
  int64_t next_ = 0, begin_ = 0;
  double test_mse_ = 0;
};

StatusOr<Job> ParseLinearRegressionJob(const Config& config) {
  LinearRegressionOptions o;
  o.optimizer.name = "adam";
  o.optimizer.learning_rate = 0.01f;
  Job job;
  LinearRegressionTask probe(o);  // Its traits decide which shared keys are read.
  COLONY_RETURN_IF_ERROR(ReadJobSections(config, probe.traits(), &job.options));
  const ConfigSection root = config.Root();
  std::string name;
  COLONY_RETURN_IF_ERROR(root.Section("model").Read("name", &name));
  const ConfigSection data = root.Section("data");
  COLONY_RETURN_IF_ERROR(data.Read("dir", &o.dir));
  COLONY_RETURN_IF_ERROR(data.Read("train", &o.train));
  COLONY_RETURN_IF_ERROR(data.Read("test", &o.test));
  COLONY_RETURN_IF_ERROR(data.Read("batch_size", &o.batch_size));
  COLONY_RETURN_IF_ERROR(ReadOptimizer(root.Section("optimizer"), &o.optimizer));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  if (o.batch_size <= 0) {
    return InvalidArgumentError(config.source() + ": data.batch_size must be > 0");
  }
  job.task = std::make_unique<LinearRegressionTask>(o);
  COLONY_RETURN_IF_ERROR(job.options.Validate(probe.traits()).WithContext(config.source()));
  job.options.config_text = config.ToYaml();
  return job;
}

// The registry line: model.name "linear_regression" parses into this task.
const TaskRegistration kLinearRegression(
    {{"linear_regression", "example: linear regression on CSV files (y,x1,...,xd)"}},
    ParseLinearRegressionJob);

}  // namespace
}  // namespace colony::train
