// The horizontal job's YAML.
#include <cmath>
#include <numbers>

#include "colony/base/config.h"
#include "colony/federated/horizontal.h"
#include "colony/federated/internal/config_util.h"

namespace colony::fl {
namespace {

using internal::InvalidKey;

}  // namespace

Status HorizontalTrainOptions::Validate() const {
  if (rounds <= 0) return InvalidArgumentError("train.rounds must be > 0");
  if (local_epochs <= 0) return InvalidArgumentError("train.local_epochs must be > 0");
  if (local_steps < 0) return InvalidArgumentError("train.local_steps must be >= 0 (0: epochs)");
  if (batch_size <= 0) return InvalidArgumentError("train.batch_size must be > 0");
  if (optimizer != "sgd" && optimizer != "adam") {
    return InvalidArgumentError("train.optimizer '" + optimizer + "' is unknown; use sgd or adam");
  }
  if (!(learning_rate > 0)) return InvalidArgumentError("train.learning_rate must be > 0");
  if (lr_schedule != "constant" && lr_schedule != "cosine") {
    return InvalidArgumentError("train.lr_schedule '" + lr_schedule +
                                "' is unknown; use constant or cosine");
  }
  if (!(momentum >= 0 && momentum < 1))
    return InvalidArgumentError("train.momentum must be in [0, 1)");
  if (aggregation != "fedavg" && aggregation != "median" && aggregation != "trimmed_mean") {
    return InvalidArgumentError("train.aggregation '" + aggregation +
                                "' is unknown; use fedavg, median or trimmed_mean");
  }
  if (!(trim_fraction >= 0 && trim_fraction < 0.5)) {
    return InvalidArgumentError("train.trim_fraction must be in [0, 0.5)");
  }
  if (quorum < 0) return InvalidArgumentError("train.quorum must be >= 0 (0: every child)");
  if (children_per_round < 0) {
    return InvalidArgumentError("train.children_per_round must be >= 0 (0: every child)");
  }
  if (children_per_round > 0 && quorum > children_per_round) {
    return InvalidArgumentError("train.quorum " + std::to_string(quorum) +
                                " exceeds train.children_per_round " +
                                std::to_string(children_per_round));
  }
  if (secure_aggregation && aggregation != "fedavg") {
    return InvalidArgumentError(
        "train.secure_aggregation needs aggregation fedavg (the master "
        "sees only the sum, so no median or trimmed mean)");
  }
  if (!(round_timeout_s > 0)) return InvalidArgumentError("train.round_timeout_s must be > 0");
  if (!(prox_mu >= 0)) return InvalidArgumentError("train.prox_mu must be >= 0");
  if (!(server_momentum >= 0 && server_momentum < 1)) {
    return InvalidArgumentError("train.server_momentum must be in [0, 1)");
  }
  if (scaffold_weights != "children" && scaffold_weights != "samples") {
    return InvalidArgumentError("train.scaffold_weights '" + scaffold_weights +
                                "' is unknown; use children or samples");
  }
  if (scaffold_option != 1 && scaffold_option != 2) {
    return InvalidArgumentError("train.scaffold_option must be 1 or 2, not " +
                                std::to_string(scaffold_option));
  }
  if (scaffold && aggregation != "fedavg") {
    return InvalidArgumentError(
        "train.scaffold needs aggregation fedavg (the control variate "
        "update is a mean over the children, not a '" +
        aggregation + "')");
  }
  if (scaffold && optimizer != "sgd") {
    return InvalidArgumentError("train.scaffold needs optimizer sgd, not '" + optimizer +
                                "' (the correction is defined for SGD steps)");
  }
  return OkStatus();
}

double HorizontalTrainOptions::LearningRateScale(double progress) const {
  if (lr_schedule != "cosine") return 1.0;
  return 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

StatusOr<HorizontalConfig> LoadHorizontalConfig(const std::string& path,
                                                const std::vector<std::string>& overrides) {
  COLONY_ASSIGN_OR_RETURN(Config config, Config::Load(path, overrides));
  HorizontalConfig out;
  out.source = path;
  COLONY_ASSIGN_OR_RETURN(const ConfigSection h, internal::JobSection(config, path, "horizontal"));

  const ConfigSection data = h.Section("data");
  HorizontalDataOptions& d = out.data;
  COLONY_RETURN_IF_ERROR(data.Read("format", &d.format));
  COLONY_RETURN_IF_ERROR(data.Read("dir", &d.dir));
  COLONY_RETURN_IF_ERROR(data.Read("train_samples", &d.train_samples));
  COLONY_RETURN_IF_ERROR(data.Read("test_samples", &d.test_samples));
  COLONY_RETURN_IF_ERROR(data.Read("split", &d.split));
  COLONY_RETURN_IF_ERROR(data.Read("alpha", &d.alpha));
  COLONY_RETURN_IF_ERROR(data.Read("seed", &d.seed));
  if (d.format != "fashion_mnist") {
    return InvalidKey(data, "format", "'" + d.format + "' is unknown; use fashion_mnist");
  }
  if (d.train_samples < 0) return InvalidKey(data, "train_samples", "must be >= 0 (0: all)");
  if (d.test_samples < 0) return InvalidKey(data, "test_samples", "must be >= 0 (0: all)");
  if (d.split != "iid" && d.split != "dirichlet") {
    return InvalidKey(data, "split", "'" + d.split + "' is unknown; use iid or dirichlet");
  }
  if (!(d.alpha > 0)) return InvalidKey(data, "alpha", "must be > 0");

  const ConfigSection encoder = h.Section("encoder");
  COLONY_RETURN_IF_ERROR(encoder.Read("type", &out.encoder.type));
  COLONY_RETURN_IF_ERROR(encoder.Read("hidden", &out.encoder.hidden));
  COLONY_RETURN_IF_ERROR(encoder.Read("channels", &out.encoder.channels));
  COLONY_RETURN_IF_ERROR(encoder.Read("embedding_dim", &out.encoder.embedding_dim));
  COLONY_RETURN_IF_ERROR(encoder.Read("levels", &out.encoder.levels));
  const std::string& type = out.encoder.type;
  if (type != "mlp" && type != "conv" && type != "embedding") {
    return InvalidKey(encoder, "type", "'" + type + "' is unknown; use mlp, conv or embedding");
  }
  if (type == "mlp" && out.encoder.hidden.empty()) {
    return InvalidKey(encoder, "hidden", "the mlp encoder needs at least one layer");
  }
  for (int w : out.encoder.hidden) {
    if (w <= 0) return InvalidKey(encoder, "hidden", "widths must be > 0");
  }
  if (type == "conv" && (out.encoder.channels.empty() || out.encoder.channels.size() > 4)) {
    return InvalidKey(encoder, "channels", "the conv encoder needs 1 to 4 conv layers");
  }
  for (int c : out.encoder.channels) {
    if (c <= 0) return InvalidKey(encoder, "channels", "must be > 0");
  }
  if (out.encoder.embedding_dim <= 0) return InvalidKey(encoder, "embedding_dim", "must be > 0");
  if (out.encoder.levels < 2 || out.encoder.levels > 256) {
    return InvalidKey(encoder, "levels", "must be in [2, 256]");
  }

  const ConfigSection train = h.Section("train");
  HorizontalTrainOptions& t = out.train;
  COLONY_RETURN_IF_ERROR(train.Read("rounds", &t.rounds));
  COLONY_RETURN_IF_ERROR(train.Read("local_epochs", &t.local_epochs));
  COLONY_RETURN_IF_ERROR(train.Read("local_steps", &t.local_steps));
  COLONY_RETURN_IF_ERROR(train.Read("batch_size", &t.batch_size));
  COLONY_RETURN_IF_ERROR(train.Read("optimizer", &t.optimizer));
  COLONY_RETURN_IF_ERROR(train.Read("learning_rate", &t.learning_rate));
  COLONY_RETURN_IF_ERROR(train.Read("lr_schedule", &t.lr_schedule));
  COLONY_RETURN_IF_ERROR(train.Read("momentum", &t.momentum));
  COLONY_RETURN_IF_ERROR(train.Read("aggregation", &t.aggregation));
  COLONY_RETURN_IF_ERROR(train.Read("trim_fraction", &t.trim_fraction));
  COLONY_RETURN_IF_ERROR(train.Read("quorum", &t.quorum));
  COLONY_RETURN_IF_ERROR(train.Read("children_per_round", &t.children_per_round));
  COLONY_RETURN_IF_ERROR(train.Read("secure_aggregation", &t.secure_aggregation));
  COLONY_RETURN_IF_ERROR(train.Read("round_timeout_s", &t.round_timeout_s));
  COLONY_RETURN_IF_ERROR(train.Read("seed", &t.seed));
  COLONY_RETURN_IF_ERROR(train.Read("share_head", &t.share_head));
  COLONY_RETURN_IF_ERROR(train.Read("prox_mu", &t.prox_mu));
  COLONY_RETURN_IF_ERROR(train.Read("server_momentum", &t.server_momentum));
  COLONY_RETURN_IF_ERROR(train.Read("scaffold", &t.scaffold));
  COLONY_RETURN_IF_ERROR(train.Read("scaffold_weights", &t.scaffold_weights));
  COLONY_RETURN_IF_ERROR(train.Read("scaffold_option", &t.scaffold_option));
  COLONY_RETURN_IF_ERROR(internal::InSection(train, t.Validate()));

  const ConfigSection children = h.Section("children");
  ChildBehaviour& c = out.children;
  COLONY_RETURN_IF_ERROR(children.Read("count", &c.count));
  COLONY_RETURN_IF_ERROR(children.Read("poisoned", &c.poisoned));
  COLONY_RETURN_IF_ERROR(children.Read("poison", &c.poison));
  COLONY_RETURN_IF_ERROR(children.Read("poison_scale", &c.poison_scale));
  COLONY_RETURN_IF_ERROR(children.Read("slow", &c.slow));
  COLONY_RETURN_IF_ERROR(children.Read("slow_delay_s", &c.slow_delay_s));
  COLONY_RETURN_IF_ERROR(children.Read("slow_rounds", &c.slow_rounds));
  COLONY_RETURN_IF_ERROR(children.Read("idle_timeout_s", &out.child_idle_timeout_s));
  if (c.count <= 0) return InvalidKey(children, "count", "must be > 0");
  if (c.poison != "scale" && c.poison != "garbage") {
    return InvalidKey(children, "poison", "'" + c.poison + "' is unknown; use scale or garbage");
  }
  if (!(c.slow_delay_s >= 0)) return InvalidKey(children, "slow_delay_s", "must be >= 0");
  if (!(out.child_idle_timeout_s > 0)) return InvalidKey(children, "idle_timeout_s", "must be > 0");
  COLONY_RETURN_IF_ERROR(internal::ReadSecurity(h, &out.security));
  COLONY_RETURN_IF_ERROR(config.CheckAllKeysUsed());
  return out;
}

}  // namespace colony::fl
