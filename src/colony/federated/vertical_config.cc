// The vertical job's YAML, the party model files and the train/test split.
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "colony/base/config.h"
#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/federated/internal/config_util.h"
#include "colony/federated/vertical.h"

namespace colony::fl {
namespace {

using internal::InvalidKey;

Status ReadParty(const ConfigSection& data, const ConfigSection& s, PartyDataOptions* o) {
  COLONY_RETURN_IF_ERROR(data.Read("format", &o->format));
  COLONY_RETURN_IF_ERROR(data.Read("dir", &o->dir));
  COLONY_RETURN_IF_ERROR(s.Read("columns", &o->columns));
  COLONY_RETURN_IF_ERROR(s.Read("file", &o->file));
  if (o->format.empty())
    return InvalidKey(data, "format",
                      "is required (sklearn_diabetes, sklearn_breast_cancer or csv)");
  if (o->format == "csv") {
    if (o->file.empty()) return InvalidKey(s, "file", "is required with data.format csv");
  } else if (o->columns.empty()) {
    return InvalidKey(s, "columns",
                      "is required: the 0-based columns of " + o->format + " this party holds");
  }
  return OkStatus();
}

}  // namespace

Status VerticalTrainOptions::Validate() const {
  if (model != "linear" && model != "logistic") {
    return InvalidArgumentError("train.model '" + model + "' is unknown; use linear or logistic");
  }
  if (iterations <= 0) return InvalidArgumentError("train.iterations must be > 0");
  if (!(tolerance >= 0)) return InvalidArgumentError("train.tolerance must be >= 0");
  if (!(learning_rate > 0)) return InvalidArgumentError("train.learning_rate must be > 0");
  if (!(l2 >= 0)) return InvalidArgumentError("train.l2 must be >= 0");
  if (!(test_fraction >= 0 && test_fraction < 1)) {
    return InvalidArgumentError("train.test_fraction must be in [0, 1)");
  }
  if (!(rpc_timeout_s > 0)) return InvalidArgumentError("train.rpc_timeout_s must be > 0");
  if (log_every < 0) return InvalidArgumentError("train.log_every must be >= 0");
  return OkStatus();
}

Status PaillierOptions::Validate() const {
  const int min_bits = policy().min_bits();
  if (key_bits < min_bits || key_bits > kMaxPaillierKeyBits || key_bits % 64 != 0) {
    return InvalidArgumentError(
        "paillier.key_bits must be a multiple of 64 in [" + std::to_string(min_bits) + ", " +
        std::to_string(kMaxPaillierKeyBits) + "], got " + std::to_string(key_bits) +
        (key_bits < min_bits && key_bits >= 256
             ? "; smaller keys are not secure (paillier.allow_insecure_key_bits_for_tests "
               "exists for tests only)"
             : ""));
  }
  if (precision_bits < 8 || precision_bits > 40) {
    return InvalidArgumentError("paillier.precision_bits must be in [8, 40]");
  }
  return OkStatus();
}

StatusOr<VerticalConfig> LoadVerticalConfig(const std::string& path,
                                            const std::vector<std::string>& overrides) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(path, overrides));
  VerticalConfig out;
  out.source = path;
  COLONY_ASSIGN_OR_RETURN(const ConfigSection v, internal::JobSection(config, path, "vertical"));
  const ConfigSection train = v.Section("train");
  VerticalTrainOptions& t = out.train;
  COLONY_RETURN_IF_ERROR(train.Read("model", &t.model));
  COLONY_RETURN_IF_ERROR(train.Read("iterations", &t.iterations));
  COLONY_RETURN_IF_ERROR(train.Read("tolerance", &t.tolerance));
  COLONY_RETURN_IF_ERROR(train.Read("learning_rate", &t.learning_rate));
  COLONY_RETURN_IF_ERROR(train.Read("l2", &t.l2));
  COLONY_RETURN_IF_ERROR(train.Read("test_fraction", &t.test_fraction));
  COLONY_RETURN_IF_ERROR(train.Read("seed", &t.seed));
  COLONY_RETURN_IF_ERROR(train.Read("rpc_timeout_s", &t.rpc_timeout_s));
  COLONY_RETURN_IF_ERROR(train.Read("log_every", &t.log_every));
  COLONY_RETURN_IF_ERROR(internal::InSection(train, t.Validate()));

  const ConfigSection paillier = v.Section("paillier");
  COLONY_RETURN_IF_ERROR(paillier.Read("enabled", &out.paillier.enabled));
  COLONY_RETURN_IF_ERROR(paillier.Read("key_bits", &out.paillier.key_bits));
  COLONY_RETURN_IF_ERROR(paillier.Read("precision_bits", &out.paillier.precision_bits));
  COLONY_RETURN_IF_ERROR(paillier.Read("allow_insecure_key_bits_for_tests",
                                       &out.paillier.allow_insecure_key_bits_for_tests));
  COLONY_RETURN_IF_ERROR(internal::InSection(paillier, out.paillier.Validate()));

  const ConfigSection data = v.Section("data");
  const ConfigSection a = v.Section("party_a");
  const ConfigSection b = v.Section("party_b");
  COLONY_RETURN_IF_ERROR(ReadParty(data, a, &out.party_a));
  COLONY_RETURN_IF_ERROR(ReadParty(data, b, &out.party_b));
  out.party_a.with_label = true;
  COLONY_RETURN_IF_ERROR(a.Read("label_column", &out.party_a.label_column));
  COLONY_RETURN_IF_ERROR(b.Read("address", &out.party_b_address));
  COLONY_RETURN_IF_ERROR(b.Read("idle_timeout_s", &out.party_b_idle_timeout_s));
  if (!(out.party_b_idle_timeout_s > 0)) return InvalidKey(b, "idle_timeout_s", "must be > 0");
  std::set<int> a_columns(out.party_a.columns.begin(), out.party_a.columns.end());
  for (int c : out.party_b.columns) {
    if (a_columns.count(c)) {
      return InvalidKey(b, "columns",
                        "column " + std::to_string(c) +
                            " is also in party_a.columns; each column belongs to one "
                            "party");
    }
  }
  COLONY_RETURN_IF_ERROR(internal::ReadSecurity(v, &out.security));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  return out;
}

Status WritePartyModel(const std::string& path, const PartyModel& m) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [name, value] : m.metrics) SetMetric(metrics, name, value);
  const nlohmann::json json = {{"party", m.party},
                               {"model", m.model},
                               {"iterations", m.iterations},
                               {"intercept", m.intercept},
                               {"features", m.feature_names},
                               {"coefficients", m.coefficients},
                               {"mean", m.scaling.mean},
                               {"std", m.scaling.std},
                               {"metrics", std::move(metrics)}};
  return WriteJsonFile(path, json);
}

StatusOr<PartyModel> ReadPartyModel(const std::string& path) {
  COLONY_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  StatusOr<nlohmann::json> parsed = ParseJson(text, "party model file '" + path + "'");
  if (!parsed.ok()) return DataLossError(parsed.status().message());
  const nlohmann::json& json = *parsed;
  PartyModel m;
  const char* key = "";
  try {
    m.party = json.at(key = "party").get<std::string>();
    m.model = json.at(key = "model").get<std::string>();
    m.iterations = json.at(key = "iterations").get<int>();
    m.intercept = json.at(key = "intercept").get<double>();
    m.feature_names = json.at(key = "features").get<std::vector<std::string>>();
    m.coefficients = json.at(key = "coefficients").get<std::vector<double>>();
    m.scaling.mean = json.at(key = "mean").get<std::vector<double>>();
    m.scaling.std = json.at(key = "std").get<std::vector<double>>();
    for (const auto& [name, value] : json.at(key = "metrics").items()) {
      if (name == kNonFiniteKey) continue;
      m.metrics.emplace_back(name, MetricValue(value));
    }
  } catch (const nlohmann::json::exception& e) {
    return DataLossError("party model file '" + path + "' is not valid: key '" + key +
                         "': " + e.what());
  }
  if (m.coefficients.size() != m.feature_names.size()) {
    return DataLossError("party model file '" + path +
                         "': coefficients and features differ in size");
  }
  return m;
}

void SplitTrainTest(std::span<const uint64_t> ids, double test_fraction, uint64_t seed,
                    std::vector<uint64_t>* train, std::vector<uint64_t>* test) {
  train->clear();
  test->clear();
  for (uint64_t id : ids) {
    // splitmix64 of (id, seed): a uniform draw per id that both sides can recompute.
    uint64_t z = id + seed * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
    (u < test_fraction ? test : train)->push_back(id);
  }
}

}  // namespace colony::fl
