#include "colony/train/internal/session_feeder.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <unordered_map>

namespace colony::train::internal {
namespace {

template <typename T>
at::Tensor ToTensor(const std::vector<T>& v, at::ScalarType type) {
  return at::from_blob(const_cast<T*>(v.data()), {static_cast<int64_t>(v.size())}, type).clone();
}

}  // namespace

void FeedSessions(const std::vector<data::Session>& sessions,
                  std::span<const data::SessionSample> samples, const SessionFeederOptions& o,
                  exec::Scope& scope) {
  std::vector<int64_t> node_items, node_pos, src, dst, att_src, att_dst, att_rel, click_node,
      click_session, last_node, label;
  std::vector<float> in_w, out_w;
  std::unordered_map<int64_t, int64_t> node_of;  // item -> local node, per session
  std::vector<std::pair<int64_t, int64_t>> edges;
  std::vector<int64_t> in_deg, out_deg;
  for (size_t b = 0; b < samples.size(); ++b) {
    const data::Session& s = sessions[samples[b].session];
    const int64_t prefix = samples[b].prefix;
    const int64_t begin = std::max<int64_t>(0, prefix - o.max_length);
    const int64_t len = prefix - begin;
    const int64_t base = static_cast<int64_t>(node_items.size());
    node_of.clear();
    std::vector<int64_t> local(len);
    for (int64_t t = 0; t < len; ++t) {
      const int64_t item = s[begin + t];
      auto [it, added] = node_of.emplace(item, static_cast<int64_t>(node_of.size()));
      if (added) {
        node_items.push_back(item);
        node_pos.push_back(0);
      }
      local[t] = it->second;
      // The node's last click decides its position.
      const int64_t pos = o.position == "reverse" ? len - 1 - t : t;
      node_pos[base + it->second] =
          o.position == "none" ? 0 : std::min<int64_t>(pos, o.max_position - 1);
      click_node.push_back(base + it->second);
      click_session.push_back(static_cast<int64_t>(b));
    }
    last_node.push_back(base + local[len - 1]);
    label.push_back(prefix < static_cast<int64_t>(s.size()) ? s[prefix] : 0);
    // Distinct transitions, their degrees, SR-GNN weights and attention edges.
    edges.clear();
    for (int64_t t = 0; t + 1 < len; ++t) edges.emplace_back(local[t], local[t + 1]);
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    const int64_t nodes = static_cast<int64_t>(node_of.size());
    in_deg.assign(nodes, 0);
    out_deg.assign(nodes, 0);
    for (const auto& [u, v] : edges) {
      ++out_deg[u];
      ++in_deg[v];
    }
    for (int64_t n = 0; n < nodes; ++n) {
      att_src.push_back(base + n);
      att_dst.push_back(base + n);
      att_rel.push_back(0);
    }
    for (const auto& [u, v] : edges) {
      src.push_back(base + u);
      dst.push_back(base + v);
      in_w.push_back(1.0f / static_cast<float>(in_deg[v]));
      out_w.push_back(1.0f / static_cast<float>(out_deg[u]));
      att_src.push_back(base + u);  // Into v along its incoming edge.
      att_dst.push_back(base + v);
      att_rel.push_back(1);
      att_src.push_back(base + v);  // Into u along its outgoing edge.
      att_dst.push_back(base + u);
      att_rel.push_back(2);
    }
  }
  scope.Set("node_items", ToTensor(node_items, at::kLong));
  scope.Set("node_pos", ToTensor(node_pos, at::kLong));
  scope.Set("edge_src", ToTensor(src, at::kLong));
  scope.Set("edge_dst", ToTensor(dst, at::kLong));
  scope.Set("in_weight", ToTensor(in_w, at::kFloat));
  scope.Set("out_weight", ToTensor(out_w, at::kFloat));
  scope.Set("att_src", ToTensor(att_src, at::kLong));
  scope.Set("att_dst", ToTensor(att_dst, at::kLong));
  scope.Set("att_rel", ToTensor(att_rel, at::kLong));
  scope.Set("click_node", ToTensor(click_node, at::kLong));
  scope.Set("click_session", ToTensor(click_session, at::kLong));
  scope.Set("last_node", ToTensor(last_node, at::kLong));
  scope.Set("label", ToTensor(label, at::kLong));
}

}  // namespace colony::train::internal
