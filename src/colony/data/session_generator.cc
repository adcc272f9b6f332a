#include "colony/data/session_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "colony/base/file_util.h"
#include "colony/base/json_util.h"
#include "colony/base/logging.h"
#include "colony/data/internal/random.h"
#include "colony/data/session_data.h"

namespace colony::data {

// Changing the planted model means renaming this.
constexpr const char* kSessionGeneratorName = "sessions-v1";

struct SessionTruth::Model {
  SessionGeneratorOptions o;
  std::vector<double> popularity;  // [N + 1], entry 0 unused; sums to 1.
  std::vector<double> pop_cdf;     // [N]
  // lists[item][l]: l = 0 shared, l = 1..buckets position lists; each `successors` items.
  std::vector<std::vector<std::vector<int64_t>>> lists;
  std::vector<double> weights;       // [successors], sum 1.
  std::vector<double> bucket_share;  // [buckets]: share of transitions at those positions.

  int Bucket(int position) const { return std::min(position, o.buckets) - 1; }

  int64_t DrawPopular(internal::Random& rng) const {
    const double u = rng.Uniform();
    const auto it = std::upper_bound(pop_cdf.begin(), pop_cdf.end(), u);
    return std::min<int64_t>(static_cast<int64_t>(it - pop_cdf.begin()), o.items - 1) + 1;
  }
  int DrawWeighted(internal::Random& rng) const {
    double u = rng.Uniform();
    for (size_t k = 0; k + 1 < weights.size(); ++k) {
      if (u < weights[k]) return static_cast<int>(k);
      u -= weights[k];
    }
    return static_cast<int>(weights.size()) - 1;
  }
  int64_t Next(internal::Random& rng, int64_t item, int position) const {
    if (rng.Uniform() < o.noise) return DrawPopular(rng);
    const int list = rng.Uniform() < o.position_dependence ? 1 + Bucket(position) : 0;
    return lists[item][list][DrawWeighted(rng)];
  }
  void AddList(std::vector<double>& p, int64_t item, int list, double mass) const {
    for (size_t k = 0; k < weights.size(); ++k) p[lists[item][list][k]] += mass * weights[k];
  }
  std::vector<double> Distribution(int64_t item, const std::vector<double>& bucket_weights) const {
    std::vector<double> p(o.items + 1, 0.0);
    for (int64_t i = 1; i <= o.items; ++i) p[i] = o.noise * popularity[i];
    const double chain = 1 - o.noise;
    AddList(p, item, 0, chain * (1 - o.position_dependence));
    for (int b = 0; b < o.buckets; ++b) {
      AddList(p, item, 1 + b, chain * o.position_dependence * bucket_weights[b]);
    }
    return p;
  }
};

Status SessionGeneratorOptions::Validate() const {
  auto bad = [](const std::string& what) { return InvalidArgumentError("gen sessions: " + what); };
  if (sessions < 2) return bad(fmt::format("sessions must be >= 2, got {}", sessions));
  if (!(test_fraction > 0 && test_fraction < 1)) {
    return bad(fmt::format("test_fraction must be in (0, 1), got {}", test_fraction));
  }
  if (successors < 1) return bad(fmt::format("successors must be >= 1, got {}", successors));
  if (items < successors + 2) {
    return bad(fmt::format("items must be >= successors + 2 = {}, got {}", successors + 2, items));
  }
  if (zipf < 0) return bad(fmt::format("zipf must be >= 0, got {}", zipf));
  if (buckets < 1) return bad(fmt::format("buckets must be >= 1, got {}", buckets));
  if (!(position_dependence >= 0 && position_dependence <= 1)) {
    return bad(fmt::format("position_dependence must be in [0, 1], got {}", position_dependence));
  }
  if (!(noise >= 0 && noise < 1)) return bad(fmt::format("noise must be in [0, 1), got {}", noise));
  if (!(continue_prob >= 0 && continue_prob < 1)) {
    return bad(fmt::format("continue_prob must be in [0, 1), got {}", continue_prob));
  }
  if (max_length < 2) return bad(fmt::format("max_length must be >= 2, got {}", max_length));
  return OkStatus();
}

StatusOr<std::unique_ptr<SessionTruth>> SessionTruth::Create(const SessionGeneratorOptions& o) {
  COLONY_RETURN_IF_ERROR(o.Validate());
  auto m = std::make_unique<Model>();
  m->o = o;
  internal::Random rng(o.seed * 0x9e3779b97f4a7c15ULL + 17);
  m->popularity.assign(o.items + 1, 0.0);
  double total = 0;
  for (int i = 1; i <= o.items; ++i) total += m->popularity[i] = std::pow(i, -o.zipf);
  double acc = 0;
  for (int i = 1; i <= o.items; ++i) {
    m->popularity[i] /= total;
    acc += m->popularity[i];
    m->pop_cdf.push_back(acc);
  }
  double wsum = 0;
  for (int k = 0; k < o.successors; ++k) {
    m->weights.push_back(1.0 / (k + 1));
    wsum += m->weights.back();
  }
  for (double& w : m->weights) w /= wsum;
  // Successors: distinct items other than the source, drawn by popularity^0.5 so that lists
  // reach into the tail.
  std::vector<double> list_cdf;
  acc = 0;
  for (int i = 1; i <= o.items; ++i) list_cdf.push_back(acc += std::sqrt(m->popularity[i]));
  m->lists.resize(o.items + 1);
  for (int64_t item = 1; item <= o.items; ++item) {
    for (int l = 0; l <= o.buckets; ++l) {
      std::vector<int64_t> list;
      while (static_cast<int>(list.size()) < o.successors) {
        const double u = rng.Uniform() * acc;
        const int64_t pick =
            std::min<int64_t>(
                std::upper_bound(list_cdf.begin(), list_cdf.end(), u) - list_cdf.begin(),
                o.items - 1) +
            1;
        if (pick == item || std::find(list.begin(), list.end(), pick) != list.end()) continue;
        list.push_back(pick);
      }
      m->lists[item].push_back(std::move(list));
    }
  }
  // A transition leaves position t when the session is longer than t: P ~ q^(t-1), t < max.
  m->bucket_share.assign(o.buckets, 0.0);
  double share_total = 0;
  for (int t = 1; t < o.max_length; ++t) {
    const double w = std::pow(o.continue_prob, t - 1);
    m->bucket_share[m->Bucket(t)] += w;
    share_total += w;
  }
  for (double& s : m->bucket_share) s /= share_total;
  return std::unique_ptr<SessionTruth>(new SessionTruth(std::move(m)));
}

SessionTruth::SessionTruth(std::unique_ptr<Model> model) : model_(std::move(model)) {}
SessionTruth::~SessionTruth() = default;

std::vector<double> SessionTruth::NextDistribution(int64_t item, int position) const {
  std::vector<double> one_hot(model_->o.buckets, 0.0);
  one_hot[model_->Bucket(position)] = 1;
  return model_->Distribution(item, one_hot);
}

std::vector<double> SessionTruth::PositionFreeDistribution(int64_t item) const {
  return model_->Distribution(item, model_->bucket_share);
}

namespace {

// 1-based rank of `target` under `p` (ties: the lower id first), or 0 when beyond 20.
int RankAt20(const std::vector<double>& p, int64_t target) {
  int rank = 1;
  const double pt = p[target];
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i] > pt || (p[i] == pt && static_cast<int64_t>(i) < target)) {
      if (++rank > 20) return 0;
    }
  }
  return rank;
}

double Top20Mass(std::vector<double> p) {
  std::nth_element(p.begin(), p.begin() + std::min<size_t>(20, p.size()), p.end(),
                   std::greater<double>());
  return std::accumulate(p.begin(), p.begin() + std::min<size_t>(20, p.size()), 0.0);
}

std::string SessionsText(const std::vector<Session>& sessions, size_t begin, size_t end) {
  std::string text;
  for (size_t s = begin; s < end; ++s) {
    for (size_t i = 0; i < sessions[s].size(); ++i) {
      if (i) text += ' ';
      text += std::to_string(sessions[s][i]);
    }
    text += '\n';
  }
  return text;
}

}  // namespace

Status GenerateSessions(const SessionGeneratorOptions& o) {
  if (o.out_dir.empty()) return InvalidArgumentError("gen sessions: an output folder is required");
  COLONY_ASSIGN_OR_RETURN(std::unique_ptr<SessionTruth> truth, SessionTruth::Create(o));
  const SessionTruth::Model& m = *truth->model_;
  internal::Random rng(o.seed);
  std::vector<Session> sessions;
  sessions.reserve(o.sessions);
  for (int64_t s = 0; s < o.sessions; ++s) {
    Session session = {m.DrawPopular(rng)};
    while (static_cast<int>(session.size()) < o.max_length &&
           (session.size() < 2 || rng.Uniform() < o.continue_prob)) {
      session.push_back(m.Next(rng, session.back(), static_cast<int>(session.size())));
    }
    sessions.push_back(std::move(session));
  }
  const size_t test_sessions = std::max<size_t>(
      1, static_cast<size_t>(std::llround(o.test_fraction * static_cast<double>(o.sessions))));
  const size_t train_sessions = sessions.size() - test_sessions;
  if (train_sessions == 0) {
    return InvalidArgumentError("gen sessions: test_fraction leaves no training session");
  }
  // Oracle scores on every test sample.
  double hits = 0, rr = 0, mass = 0, hits_np = 0, rr_np = 0;
  int64_t samples = 0;
  for (size_t s = train_sessions; s < sessions.size(); ++s) {
    for (size_t t = 1; t < sessions[s].size(); ++t) {
      const int64_t last = sessions[s][t - 1], target = sessions[s][t];
      const std::vector<double> p = truth->NextDistribution(last, static_cast<int>(t));
      const int rank = RankAt20(p, target);
      hits += rank > 0;
      rr += rank > 0 ? 1.0 / rank : 0.0;
      mass += Top20Mass(p);
      const int rank_np = RankAt20(truth->PositionFreeDistribution(last), target);
      hits_np += rank_np > 0;
      rr_np += rank_np > 0 ? 1.0 / rank_np : 0.0;
      ++samples;
    }
  }
  const double n = static_cast<double>(samples);
  COLONY_RETURN_IF_ERROR(MakeDirs(o.out_dir));
  COLONY_RETURN_IF_ERROR(
      WriteFileAtomic(o.out_dir + "/train.txt", SessionsText(sessions, 0, train_sessions)));
  COLONY_RETURN_IF_ERROR(WriteFileAtomic(o.out_dir + "/test.txt",
                                         SessionsText(sessions, train_sessions, sessions.size())));
  nlohmann::json truth_json = {{"generator", kSessionGeneratorName},
                               {"sessions", o.sessions},
                               {"train_sessions", train_sessions},
                               {"test_sessions", test_sessions},
                               {"test_samples", samples},
                               {"items", o.items},
                               {"seed", o.seed},
                               {"position_dependence", o.position_dependence},
                               {"noise", o.noise}};
  SetMetric(truth_json, "oracle_p20", hits / n);
  SetMetric(truth_json, "oracle_mrr20", rr / n);
  SetMetric(truth_json, "oracle_p20_expected", mass / n);
  SetMetric(truth_json, "oracle_p20_no_position", hits_np / n);
  SetMetric(truth_json, "oracle_mrr20_no_position", rr_np / n);
  COLONY_RETURN_IF_ERROR(WriteJsonFile(o.out_dir + "/truth.json", truth_json));
  COLONY_LOG_INFO(
      "gen sessions: {} train / {} test sessions, {} test samples, oracle P@20 {:.4f} "
      "MRR@20 {:.4f}",
      train_sessions, test_sessions, samples, hits / n, rr / n);
  return OkStatus();
}

}  // namespace colony::data
