#include "colony/data/ctr_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/base/logging.h"
#include "colony/base/metrics.h"
#include "colony/data/internal/random.h"

namespace colony::data {

// ---- The planted model (changing anything here means renaming kGeneratorName) ----

namespace {

constexpr const char* kGeneratorName = "ctr-v1";
constexpr int kLatentDim = 2;

struct SlotSpec {
  int vocab;         // Distinct ids.
  double zipf;       // Exponent of the id frequencies: P(rank r) ~ 1 / (r + 1)^zipf.
  double missing;    // Share of empty values.
  double weight_sd;  // Standard deviation of the per-id logit weights (0: no main effect).
};

// Vocabularies from 5 to 5000 ids; the big slots carry no signal, as noise a model must ignore.
constexpr std::array<SlotSpec, kCriteoNumSlots> kSlots = {{
    {6, 0.8, 0.0, 0.3},    {8, 0.8, 0.0, 0.3},    {24, 1.2, 0.01, 0.35}, {40, 1.2, 0.0, 0.3},
    {60, 1.2, 0.02, 0.3},  {100, 1.2, 0.0, 0.2},  {150, 1.4, 0.0, 0.0},  {250, 1.4, 0.03, 0.0},
    {400, 1.4, 0.0, 0.0},  {600, 1.4, 0.0, 0.0},  {1000, 1.5, 0.0, 0.0}, {1500, 1.5, 0.05, 0.0},
    {2500, 1.5, 0.0, 0.0}, {5000, 1.5, 0.0, 0.0}, {3000, 1.5, 0.1, 0.0}, {800, 1.5, 0.0, 0.0},
    {5, 0.8, 0.0, 0.3},    {30, 1.2, 0.1, 0.0},   {10, 0.8, 0.0, 0.3},   {50, 1.2, 0.2, 0.0},
    {200, 1.4, 0.3, 0.0},  {4000, 1.5, 0.4, 0.0}, {5000, 1.5, 0.0, 0.0}, {300, 1.4, 0.05, 0.0},
    {2000, 1.5, 0.4, 0.0}, {80, 1.2, 0.0, 0.2},
}};

// Slot pairs with a latent interaction <v_a[id_a], v_b[id_b]>: every pair among four small
// slots (6, 8, 5 and 10 ids), so that 200k rows suffice to learn them.
constexpr std::array<std::pair<int, int>, 6> kPairs = {
    {{0, 1}, {0, 16}, {0, 18}, {1, 16}, {1, 18}, {16, 18}}};
constexpr double kLatentSd = 0.85;  // Per coordinate: one pair term has variance 2 * 0.85^4.

struct DenseSpec {
  double mu, sigma;  // x = max(0, floor(exp(N(mu, sigma))) - 1).
  double missing;    // Share of empty values.
  double negative;   // Share of small negative values (-1 .. -3), as in Criteo's I2.
  double weight;     // Logit weight on log1p(max(x, 0)).
};

constexpr std::array<DenseSpec, kCriteoNumDense> kDense = {{
    {1.0, 1.2, 0.45, 0.0, 0.25},
    {2.0, 1.5, 0.0, 0.1, -0.2},
    {1.5, 1.3, 0.2, 0.0, 0.0},
    {1.2, 1.0, 0.2, 0.0, 0.15},
    {6.0, 2.0, 0.03, 0.0, 0.0},
    {3.0, 1.5, 0.2, 0.0, 0.0},
    {1.5, 1.2, 0.04, 0.0, -0.15},
    {2.0, 1.0, 0.0, 0.0, 0.1},
    {3.5, 1.4, 0.04, 0.0, 0.0},
    {0.3, 0.6, 0.45, 0.0, 0.0},
    {1.0, 1.0, 0.04, 0.0, 0.0},
    {0.5, 0.8, 0.75, 0.0, 0.2},
    {1.5, 1.2, 0.2, 0.0, 0.0},
}};

// A bijection on 32 bits (Wellons' lowbias32), so distinct (slot, rank) pairs give distinct
// hex values within a slot.
uint32_t Permute32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

struct CtrTruth::Model {
  struct Slot {
    std::vector<double> cdf;     // [vocab], Zipf.
    std::vector<double> weight;  // [vocab]
    std::vector<double> latent;  // [vocab * kLatentDim]; zeros unless in a pair.
    std::vector<uint32_t> hex;   // [vocab] the value written for each rank.
    std::unordered_map<uint32_t, int> rank_of_hex;
  };
  std::array<Slot, kCriteoNumSlots> slots;
  double bias = 0;
  double interaction_scale = 1;
  double label_noise = 0;

  // Ranks are -1 for a missing value; dense features are already log1p(max(x, 0)), 0 if missing.
  double Logit(const int* ranks, const double* dense) const {
    double z = bias;
    for (int s = 0; s < kCriteoNumSlots; ++s) {
      if (ranks[s] >= 0) z += slots[s].weight[ranks[s]];
    }
    for (int j = 0; j < kCriteoNumDense; ++j) z += kDense[j].weight * dense[j];
    double interaction = 0;
    for (const auto& [a, b] : kPairs) {
      if (ranks[a] < 0 || ranks[b] < 0) continue;
      const double* va = &slots[a].latent[ranks[a] * kLatentDim];
      const double* vb = &slots[b].latent[ranks[b] * kLatentDim];
      for (int k = 0; k < kLatentDim; ++k) interaction += va[k] * vb[k];
    }
    return z + interaction_scale * interaction;
  }
  // The probability that the written label is 1, label noise included.
  double Probability(const int* ranks, const double* dense) const {
    return label_noise + (1 - 2 * label_noise) * Sigmoid(Logit(ranks, dense));
  }
};

namespace {

using Model = CtrTruth::Model;

// One row of features, drawn from `rng`.
struct Row {
  std::array<int, kCriteoNumSlots> ranks;
  std::array<int64_t, kCriteoNumDense> raw;
  std::array<bool, kCriteoNumDense> dense_missing;
  std::array<double, kCriteoNumDense> dense;
};

void DrawRow(const Model& model, internal::Random& rng, Row& row) {
  for (int j = 0; j < kCriteoNumDense; ++j) {
    const DenseSpec& d = kDense[j];
    row.dense_missing[j] = rng.Uniform() < d.missing;
    if (row.dense_missing[j]) {
      row.raw[j] = 0;
    } else if (rng.Uniform() < d.negative) {
      row.raw[j] = -1 - static_cast<int64_t>(rng.Below(3));
    } else {
      const double v = std::max(0.0, std::floor(std::exp(d.mu + d.sigma * rng.Normal())) - 1);
      row.raw[j] = static_cast<int64_t>(std::min(v, 1e9));
    }
    row.dense[j] = row.dense_missing[j] ? 0.0 : std::log1p(std::max<double>(row.raw[j], 0));
  }
  for (int s = 0; s < kCriteoNumSlots; ++s) {
    if (rng.Uniform() < kSlots[s].missing) {
      row.ranks[s] = -1;
      continue;
    }
    const std::vector<double>& cdf = model.slots[s].cdf;
    const double u = rng.Uniform();
    row.ranks[s] = static_cast<int>(std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
  }
}

std::unique_ptr<Model> BuildModel(const CtrGeneratorOptions& o) {
  auto model = std::make_unique<Model>();
  model->interaction_scale = o.interaction_scale;
  model->label_noise = o.label_noise;
  internal::Random rng(Mix(o.seed, 0x6d6f64656cULL));  // "model"
  const uint32_t hex_key = static_cast<uint32_t>(rng.Next());
  std::array<bool, kCriteoNumSlots> in_pair{};
  for (const auto& [a, b] : kPairs) in_pair[a] = in_pair[b] = true;
  for (int s = 0; s < kCriteoNumSlots; ++s) {
    const SlotSpec& spec = kSlots[s];
    Model::Slot& slot = model->slots[s];
    slot.cdf.resize(spec.vocab);
    double total = 0;
    for (int r = 0; r < spec.vocab; ++r) {
      total += std::pow(r + 1.0, -spec.zipf);
      slot.cdf[r] = total;
    }
    for (double& c : slot.cdf) c /= total;
    slot.weight.resize(spec.vocab);
    for (double& w : slot.weight) w = spec.weight_sd * rng.Normal();
    slot.latent.assign(static_cast<size_t>(spec.vocab) * kLatentDim, 0.0);
    if (in_pair[s]) {
      for (double& v : slot.latent) v = kLatentSd * rng.Normal();
    }
    slot.hex.resize(spec.vocab);
    for (int r = 0; r < spec.vocab; ++r) {
      slot.hex[r] =
          Permute32((static_cast<uint32_t>(s) << 20 | static_cast<uint32_t>(r)) ^ hex_key);
      slot.rank_of_hex[slot.hex[r]] = r;
    }
  }
  // Calibrate the bias on a fixed sample so that the mean probability is the base rate.
  internal::Random sample_rng(Mix(o.seed, 0x62696173ULL));  // "bias"
  std::vector<double> logits(20000);
  Row row;
  for (double& z : logits) {
    DrawRow(*model, sample_rng, row);
    z = model->Logit(row.ranks.data(), row.dense.data());
  }
  // Mean noisy probability = noise + (1 - 2 noise) * mean sigmoid; solve for the sigmoid mean.
  const double target = (o.base_rate - o.label_noise) / (1 - 2 * o.label_noise);
  double lo = -30, hi = 30;
  for (int it = 0; it < 100; ++it) {
    const double mid = 0.5 * (lo + hi);
    double mean = 0;
    for (double z : logits) mean += Sigmoid(z + mid);
    mean /= static_cast<double>(logits.size());
    (mean < target ? lo : hi) = mid;
  }
  model->bias = 0.5 * (lo + hi);
  return model;
}

// Buffered writing to a temporary file renamed into place at the end.
class OutFile {
 public:
  explicit OutFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  ~OutFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Status Open() {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (file_ == nullptr) return UnavailableError(fmt::format("cannot write {}", tmp_));
    return OkStatus();
  }
  Status Write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      return UnavailableError(fmt::format("write failed on {} (disk full?)", tmp_));
    }
    return OkStatus();
  }
  Status Close() {
    const bool ok = std::fflush(file_) == 0 && std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) return UnavailableError(fmt::format("cannot close {}", tmp_));
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec)
      return UnavailableError(fmt::format("cannot rename {} to {}: {}", tmp_, path_, ec.message()));
    return OkStatus();
  }

 private:
  std::string path_, tmp_;
  std::FILE* file_ = nullptr;
};

void FormatRow(const Model& model, const Row& row, int label, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}", label);
  for (int j = 0; j < kCriteoNumDense; ++j) {
    out.push_back('\t');
    if (!row.dense_missing[j]) fmt::format_to(std::back_inserter(out), "{}", row.raw[j]);
  }
  for (int s = 0; s < kCriteoNumSlots; ++s) {
    out.push_back('\t');
    if (row.ranks[s] >= 0) {
      fmt::format_to(std::back_inserter(out), "{:08x}", model.slots[s].hex[row.ranks[s]]);
    }
  }
  out.push_back('\n');
}

}  // namespace

Status CtrGeneratorOptions::Validate() const {
  if (out_dir.empty())
    return InvalidArgumentError("gen ctr: out_dir is empty; set the output folder");
  if (rows < 2)
    return InvalidArgumentError(fmt::format("gen ctr: rows must be >= 2, got {}", rows));
  if (!(test_fraction > 0 && test_fraction < 1)) {
    return InvalidArgumentError(
        fmt::format("gen ctr: test_fraction must be in (0, 1), got {}", test_fraction));
  }
  const int64_t test_rows = std::llround(static_cast<double>(rows) * test_fraction);
  if (test_rows < 1 || test_rows >= rows) {
    return InvalidArgumentError(
        fmt::format("gen ctr: test_fraction {} of {} rows leaves an empty train or test file",
                    test_fraction, rows));
  }
  if (!(base_rate > 0 && base_rate < 1)) {
    return InvalidArgumentError(
        fmt::format("gen ctr: base_rate must be in (0, 1), got {}", base_rate));
  }
  if (!(interaction_scale >= 0) || !std::isfinite(interaction_scale)) {
    return InvalidArgumentError(
        fmt::format("gen ctr: interaction_scale must be >= 0, got {}", interaction_scale));
  }
  if (!(label_noise >= 0 && label_noise < 0.5)) {
    return InvalidArgumentError(
        fmt::format("gen ctr: label_noise must be in [0, 0.5), got {}", label_noise));
  }
  if (base_rate <= label_noise || base_rate >= 1 - label_noise) {
    return InvalidArgumentError(fmt::format(
        "gen ctr: base_rate {} is unreachable with label_noise {}", base_rate, label_noise));
  }
  if (log_every_rows <= 0) {
    return InvalidArgumentError(
        fmt::format("gen ctr: log_every_rows must be > 0, got {}", log_every_rows));
  }
  return OkStatus();
}

Status GenerateCtr(const CtrGeneratorOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  COLONY_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  const std::unique_ptr<Model> model = BuildModel(o);
  const int64_t test_rows = std::llround(static_cast<double>(o.rows) * o.test_fraction);
  const int64_t train_rows = o.rows - test_rows;

  OutFile train(o.out_dir + "/train.txt"), test(o.out_dir + "/test.txt");
  COLONY_RETURN_IF_ERROR(train.Open());
  COLONY_RETURN_IF_ERROR(test.Open());
  internal::Random rng(Mix(o.seed, 0x726f7773ULL));  // "rows"
  std::vector<float> test_probs, test_labels;
  test_probs.reserve(test_rows);
  test_labels.reserve(test_rows);
  int64_t positives = 0;
  std::string buffer;
  Row row;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.rows; ++i) {
    DrawRow(*model, rng, row);
    const double p = model->Probability(row.ranks.data(), row.dense.data());
    const int label = rng.Uniform() < p ? 1 : 0;
    positives += label;
    FormatRow(*model, row, label, buffer);
    const bool is_test = i >= train_rows;
    if (is_test) {
      test_probs.push_back(static_cast<float>(p));
      test_labels.push_back(static_cast<float>(label));
    }
    if (buffer.size() > (1 << 20) || i + 1 == train_rows || i + 1 == o.rows) {
      COLONY_RETURN_IF_ERROR((is_test ? test : train).Write(buffer));
      buffer.clear();
    }
    if ((i + 1) % o.log_every_rows == 0) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      COLONY_LOG_INFO("gen ctr: {} of {} rows ({:.0f}%) | {:.0f} rows/s", i + 1, o.rows,
                      100.0 * static_cast<double>(i + 1) / static_cast<double>(o.rows),
                      static_cast<double>(i + 1) / std::max(seconds, 1e-9));
    }
  }
  COLONY_RETURN_IF_ERROR(train.Close());
  COLONY_RETURN_IF_ERROR(test.Close());

  double test_positives = 0;
  for (float y : test_labels) test_positives += y;
  nlohmann::json truth = {{"generator", kGeneratorName},
                          {"rows", o.rows},
                          {"train_rows", train_rows},
                          {"test_rows", test_rows},
                          {"seed", o.seed},
                          {"interaction_scale", o.interaction_scale},
                          {"label_noise", o.label_noise},
                          {"num_dense", kCriteoNumDense},
                          {"num_slots", kCriteoNumSlots}};
  SetMetric(truth, "base_rate", static_cast<double>(positives) / static_cast<double>(o.rows));
  SetMetric(truth, "test_base_rate", test_positives / static_cast<double>(test_rows));
  SetMetric(truth, "bayes_auc", Auc(test_probs, test_labels));
  SetMetric(truth, "bayes_logloss", LogLoss(test_probs, test_labels));
  COLONY_RETURN_IF_ERROR(WriteJsonFile(o.out_dir + "/truth.json", truth));
  COLONY_LOG_INFO("gen ctr: wrote {} train + {} test rows to {} (bayes_auc {:.4f})", train_rows,
                  test_rows, o.out_dir, Auc(test_probs, test_labels));
  return OkStatus();
}

// ---- CtrTruth ----

CtrTruth::CtrTruth(std::unique_ptr<Model> model) : model_(std::move(model)) {}
CtrTruth::~CtrTruth() = default;

StatusOr<std::unique_ptr<CtrTruth>> CtrTruth::Create(const CtrGeneratorOptions& options) {
  CtrGeneratorOptions o = options;
  o.out_dir = "unused";
  o.rows = 1000;
  o.test_fraction = 0.1;
  COLONY_RETURN_IF_ERROR(o.Validate());
  return std::unique_ptr<CtrTruth>(new CtrTruth(BuildModel(o)));
}

StatusOr<double> CtrTruth::Probability(std::string_view line) const {
  std::array<std::string_view, 1 + kCriteoNumDense + kCriteoNumSlots> fields;
  size_t n = 0, start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (n == fields.size()) return InvalidArgumentError("more than 40 fields");
    fields[n++] = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (n != fields.size()) return InvalidArgumentError(fmt::format("expected 40 fields, got {}", n));
  std::array<double, kCriteoNumDense> dense;
  for (int j = 0; j < kCriteoNumDense; ++j) {
    const std::string_view f = fields[1 + j];
    if (f.empty()) {
      dense[j] = 0;
      continue;
    }
    int64_t x = 0;
    if (std::sscanf(std::string(f).c_str(), "%ld", &x) != 1) {
      return InvalidArgumentError(fmt::format("integer feature {} is not a number", j + 1));
    }
    dense[j] = std::log1p(static_cast<double>(std::max<int64_t>(x, 0)));
  }
  std::array<int, kCriteoNumSlots> ranks;
  for (int s = 0; s < kCriteoNumSlots; ++s) {
    const std::string_view f = fields[1 + kCriteoNumDense + s];
    if (f.empty()) {
      ranks[s] = -1;
      continue;
    }
    unsigned int hex = 0;
    if (f.size() != 8 || std::sscanf(std::string(f).c_str(), "%x", &hex) != 1) {
      return InvalidArgumentError(fmt::format("categorical feature {} is not 8 hex digits", s + 1));
    }
    const auto it = model_->slots[s].rank_of_hex.find(hex);
    if (it == model_->slots[s].rank_of_hex.end()) {
      return InvalidArgumentError(
          fmt::format("categorical feature {} has an unknown value", s + 1));
    }
    ranks[s] = it->second;
  }
  return model_->Probability(ranks.data(), dense.data());
}

}  // namespace colony::data
