#include "colony/data/multitask_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/data/internal/random.h"

namespace colony::data {
namespace {

// Changing how samples are drawn means renaming this.
constexpr const char* kMultitaskGeneratorName = "multitask-mmoe-v1";
constexpr int kTasks = 2;

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    cov += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) * (a[i] - ma);
    vb += (b[i] - mb) * (b[i] - mb);
  }
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
}

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Draws a task from the shares `mix` (summing to 1).
int DrawTask(internal::Random& rng, const std::vector<double>& mix) {
  double u = rng.Uniform();
  for (size_t t = 0; t + 1 < mix.size(); ++t) {
    if (u < mix[t]) return static_cast<int>(t);
    u -= mix[t];
  }
  return static_cast<int>(mix.size()) - 1;
}

Status Bad(const std::string& what) { return InvalidArgumentError("gen multitask: " + what); }

// InvalidArgument naming --task-mix unless `mix` holds a share in [0, 1] per task, summing
// to 1.
Status ValidateTaskMix(const std::vector<double>& task_mix) {
  if (task_mix.size() != kTasks) {
    return Bad(
        fmt::format("--task-mix needs {} shares (one per task), got {}", kTasks, task_mix.size()));
  }
  double sum = 0;
  for (double share : task_mix) {
    if (!(share >= 0 && share <= 1)) {
      return Bad(fmt::format("--task-mix shares must be in [0, 1], got {}", share));
    }
    sum += share;
  }
  if (std::abs(sum - 1) > 1e-6) {
    return Bad(fmt::format("--task-mix shares must sum to 1, got {}", sum));
  }
  return OkStatus();
}

}  // namespace

Status MultitaskGeneratorOptions::Validate() const {
  if (out_dir.empty()) return Bad("--out is required");
  if (rows < 2) return Bad(fmt::format("--rows must be >= 2, got {}", rows));
  if (!(test_fraction > 0 && test_fraction < 1)) {
    return Bad(fmt::format("--test-fraction must be in (0, 1), got {}", test_fraction));
  }
  if (dim < 2) return Bad(fmt::format("--dim must be >= 2 (two orthogonal weights), got {}", dim));
  if (!(correlation >= -1 && correlation <= 1)) {
    return Bad(fmt::format("--correlation must be in [-1, 1], got {}", correlation));
  }
  COLONY_RETURN_IF_ERROR(ValidateTaskMix(task_mix));
  if (labels != "regression" && labels != "classification") {
    return Bad("--labels must be 'regression' or 'classification', got '" + labels + "'");
  }
  if (sin_terms < 0) return Bad(fmt::format("--sin-terms must be >= 0, got {}", sin_terms));
  if (!(scale > 0)) return Bad(fmt::format("--scale must be > 0, got {}", scale));
  if (!(noise >= 0)) return Bad(fmt::format("--noise must be >= 0, got {}", noise));
  return OkStatus();
}

StatusOr<std::vector<double>> ParseTaskMix(const std::string& text, const std::string& flag) {
  std::vector<double> mix;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t used = 0;
    double share = 0;
    try {
      share = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size()) {
      return InvalidArgumentError(
          fmt::format("{}: share {} '{}' is not a number; give shares like 0.95,0.05", flag,
                      mix.size() + 1, part));
    }
    mix.push_back(share);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  COLONY_RETURN_IF_ERROR(ValidateTaskMix(mix));
  return mix;
}

Status GenerateMultitask(const MultitaskGeneratorOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  internal::Random rng(o.seed);
  // Two orthogonal unit vectors (Gram-Schmidt on Gaussian draws).
  std::vector<double> u1(o.dim), u2(o.dim);
  for (double& v : u1) v = rng.Normal();
  for (double& v : u2) v = rng.Normal();
  const double n1 = std::sqrt(Dot(u1, u1));
  for (double& v : u1) v /= n1;
  const double proj = Dot(u1, u2);
  for (int j = 0; j < o.dim; ++j) u2[j] -= proj * u1[j];
  const double n2 = std::sqrt(Dot(u2, u2));
  for (double& v : u2) v /= n2;
  std::vector<std::vector<double>> w(kTasks, std::vector<double>(o.dim));
  const double p = o.correlation, q = std::sqrt(std::max(0.0, 1 - p * p));
  for (int j = 0; j < o.dim; ++j) {
    w[0][j] = o.scale * u1[j];
    w[1][j] = o.scale * (p * u1[j] + q * u2[j]);
  }
  std::vector<double> alpha(o.sin_terms), beta(o.sin_terms);
  for (int i = 0; i < o.sin_terms; ++i) {
    alpha[i] = rng.Normal();
    beta[i] = rng.Normal();
  }

  const int64_t test_rows =
      std::max<int64_t>(1, std::min<int64_t>(o.rows - 1, std::llround(o.rows * o.test_fraction)));
  const int64_t train_rows = o.rows - test_rows;
  const std::vector<double> uniform(kTasks, 1.0 / kTasks);
  std::vector<float> x(static_cast<size_t>(o.rows) * o.dim);
  std::vector<std::vector<double>> y(kTasks, std::vector<double>(o.rows));
  std::vector<int> task(o.rows);
  for (int64_t r = 0; r < o.rows; ++r) {
    float* xr = x.data() + r * o.dim;
    for (int j = 0; j < o.dim; ++j) xr[j] = static_cast<float>(rng.Normal());
    for (int t = 0; t < kTasks; ++t) {
      double wx = 0;
      for (int j = 0; j < o.dim; ++j) wx += w[t][j] * xr[j];
      double label = wx;
      for (int i = 0; i < o.sin_terms; ++i) label += std::sin(alpha[i] * wx + beta[i]);
      y[t][r] = label + o.noise * rng.Normal();
    }
    task[r] = DrawTask(rng, r < train_rows ? o.task_mix : uniform);
  }
  const bool classification = o.labels == "classification";
  std::vector<double> threshold(kTasks, 0.0);
  for (int t = 0; t < kTasks && classification; ++t) {
    threshold[t] = Median(y[t]);
    for (double& v : y[t]) v = v > threshold[t] ? 1.0 : 0.0;
  }

  std::vector<double> train_count(kTasks, 0), test_count(kTasks, 0);
  std::vector<double> test_sum(kTasks, 0), test_sq(kTasks, 0);
  std::string train_text, test_text;
  train_text.reserve(static_cast<size_t>(train_rows) * o.dim * 8);
  for (int64_t r = 0; r < o.rows; ++r) {
    const bool train = r < train_rows;
    std::string& out = train ? train_text : test_text;
    const int t = task[r];
    const double label = y[t][r];
    (train ? train_count : test_count)[t] += 1;
    if (!train) {
      test_sum[t] += label;
      test_sq[t] += label * label;
    }
    if (classification) {
      fmt::format_to(std::back_inserter(out), "{}\t{}", t, static_cast<int>(label));
    } else {
      fmt::format_to(std::back_inserter(out), "{}\t{:.5g}", t, label);
    }
    const float* xr = x.data() + r * o.dim;
    for (int j = 0; j < o.dim; ++j) fmt::format_to(std::back_inserter(out), "\t{:.4g}", xr[j]);
    out += '\n';
  }
  std::vector<double> test_variance(kTasks, 0);
  for (int t = 0; t < kTasks; ++t) {
    if (test_count[t] > 0) {
      const double mean = test_sum[t] / test_count[t];
      test_variance[t] = test_sq[t] / test_count[t] - mean * mean;
    }
  }
  const double cosine = Dot(w[0], w[1]) / std::sqrt(Dot(w[0], w[0]) * Dot(w[1], w[1]));
  COLONY_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(o.out_dir + "/train.txt", train_text));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(o.out_dir + "/test.txt", test_text));
  nlohmann::json truth = {
      {"generator", kMultitaskGeneratorName},
      {"rows", o.rows},
      {"train_rows", train_rows},
      {"test_rows", test_rows},
      {"dim", o.dim},
      {"correlation", o.correlation},
      {"labels", o.labels},
      {"task_mix", o.task_mix},
      {"test_task_mix", "uniform"},
      {"train_task_rows", std::vector<int64_t>(train_count.begin(), train_count.end())},
      {"test_task_rows", std::vector<int64_t>(test_count.begin(), test_count.end())},
      {"sin_terms", o.sin_terms},
      {"scale", o.scale},
      {"noise", o.noise},
      {"seed", o.seed},
      {"bayes_mse", classification ? 0.0 : o.noise * o.noise},
      {"class_thresholds", threshold}};
  SetMetric(truth, "weight_cosine", cosine);
  SetMetric(truth, "label_correlation", Pearson(y[0], y[1]));
  SetMetrics(truth, "test_label_variance", test_variance);
  return WriteJsonFile(o.out_dir + "/truth.json", truth);
}

}  // namespace colony::data
