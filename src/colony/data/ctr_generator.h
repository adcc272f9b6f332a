// Synthetic click data with a known truth, in Criteo's TSV format, for testing models end to end:
// a planted logistic model over Zipf-distributed categorical ids, integer features and pairwise
// latent interactions between slots (so that an embedding + MLP model beats logistic
// regression), with the Bayes-optimal AUC on the test split written next to the data.
//   CtrGeneratorOptions o;  o.out_dir = "data/ctr";  o.rows = 200000;
//   COLONY_RETURN_IF_ERROR(GenerateCtr(o));   // train.txt, test.txt, truth.json
// The model is described in docs/data.md. The files depend only on the options (not on the
// machine), and the name "ctr-v1" in truth.json changes whenever the planted model does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony::data {

inline constexpr int kCriteoNumDense = 13;
inline constexpr int kCriteoNumSlots = 26;

struct CtrGeneratorOptions {
  // Folder for train.txt, test.txt and truth.json; created if missing. Required.
  std::string out_dir;
  // Rows in all, train + test. Default: 200000. Must be >= 2.
  int64_t rows = 200000;
  // Share of the rows written to test.txt (the last ones). Default: 0.1. In (0, 1), and both
  // files must get at least one row.
  double test_fraction = 0.1;
  // Seeds the planted model and the rows. Default: 1.
  uint64_t seed = 1;
  // Mean click probability the bias is calibrated to. Default: 0.25. In (0, 1).
  double base_rate = 0.25;
  // Multiplies the pairwise interaction terms (0 leaves a model that logistic regression fits
  // exactly). Default: 1. >= 0.
  double interaction_scale = 1.0;
  // Share of the lines given a flipped label on top of the Bernoulli draw; the truth accounts
  // for it, so the Bayes AUC stays exact. Default: 0. In [0, 0.5).
  double label_noise = 0.0;
  // A progress line every this many rows. Default: 1000000. > 0.
  int64_t log_every_rows = 1000000;
  Status Validate() const;  // InvalidArgument naming the bad field.
};

// Writes out_dir/train.txt, out_dir/test.txt and out_dir/truth.json (keys: generator, rows,
// train_rows, test_rows, seed, base_rate, test_base_rate, bayes_auc, bayes_logloss,
// num_dense, num_slots). Returns InvalidArgument for bad options, Unavailable when a file
// cannot be written.
Status GenerateCtr(const CtrGeneratorOptions& options);

// The planted model of GenerateCtr for a given seed and options, able to give the true click
// probability of any line it wrote. Used to check generated data; thread-compatible.
class CtrTruth {
 public:
  // Only seed, interaction_scale, base_rate and label_noise matter; InvalidArgument as
  // GenerateCtr (out_dir and rows are not checked).
  static StatusOr<std::unique_ptr<CtrTruth>> Create(const CtrGeneratorOptions& options);
  ~CtrTruth();
  CtrTruth(const CtrTruth&) = delete;
  CtrTruth& operator=(const CtrTruth&) = delete;
  // The probability that the label of `line` (one Criteo line, label included) is 1.
  // InvalidArgument when the line is not one the generator could have written.
  StatusOr<double> Probability(std::string_view line) const;

  struct Model;

 private:
  explicit CtrTruth(std::unique_ptr<Model> model);
  std::unique_ptr<Model> model_;
};

}  // namespace colony::data
