#include "colony/pipeline/partition.h"

#include <algorithm>
#include <map>
#include <set>

namespace colony::pipeline {
namespace {

using graph::BlockDesc;
using graph::OpDesc;
using graph::ProgramDesc;

// Names an op reads, including what the ops of its sub-blocks read from enclosing blocks.
void CollectReads(const ProgramDesc& program, const OpDesc& op, std::set<std::string>& out) {
  for (const graph::Slot& slot : op.inputs()) out.insert(slot.vars().begin(), slot.vars().end());
  for (const auto& [name, attr] : op.attrs()) {
    if (attr.value_case() != graph::AttrValue::kBlock) continue;
    if (attr.block() <= 0 || attr.block() >= program.blocks_size()) continue;
    for (const OpDesc& inner : program.blocks(attr.block()).ops()) {
      CollectReads(program, inner, out);
    }
  }
}

Status BadCut(const std::string& var, const std::string& why) {
  return InvalidArgumentError("pipeline cut var '" + var + "' " + why);
}

}  // namespace

StatusOr<std::vector<Section>> SplitProgram(const ProgramDesc& program,
                                            const std::vector<std::string>& cut_vars) {
  COLONY_RETURN_IF_ERROR(graph::Validate(program));
  const BlockDesc& block = program.blocks(0);
  std::map<std::string, const graph::VarDesc*> vars;
  for (const graph::VarDesc& v : block.vars()) vars[v.name()] = &v;
  const std::set<std::string> feeds(program.feeds().begin(), program.feeds().end());

  // Per op of block 0: the block-0 vars it reads; per var: the last op writing it.
  const int num_ops = block.ops_size();
  std::vector<std::set<std::string>> reads(num_ops);
  std::map<std::string, int> writer;
  for (int j = 0; j < num_ops; ++j) {
    std::set<std::string> all;
    CollectReads(program, block.ops(j), all);
    for (const std::string& n : all) {
      if (vars.count(n) != 0) reads[j].insert(n);
    }
    for (const graph::Slot& slot : block.ops(j).outputs()) {
      for (const std::string& n : slot.vars()) writer[n] = j;
    }
  }

  // Boundary k: the index of the op writing cut var k; section k ends there.
  std::vector<int> bounds;
  for (const std::string& cut : cut_vars) {
    auto v = vars.find(cut);
    if (v == vars.end()) return BadCut(cut, "is not a variable of block 0");
    if (feeds.count(cut) != 0) return BadCut(cut, "is a feed; cut at a var an op writes");
    if (v->second->persistable()) {
      return BadCut(cut, "is a parameter; cut at a var an op writes");
    }
    auto w = writer.find(cut);
    if (w == writer.end()) return BadCut(cut, "is written by no op of block 0");
    const int b = w->second;
    if (!bounds.empty() && b <= bounds.back()) {
      return BadCut(cut, "is written by op " + std::to_string(b) + ", not after the op " +
                             std::to_string(bounds.back()) +
                             " of the previous cut; list cuts in op order, one per op");
    }
    bool read_later = false;
    for (int j = b + 1; j < num_ops && !read_later; ++j) read_later = reads[j].count(cut) != 0;
    if (!read_later) {
      return BadCut(cut, "is read by no later op, so it does not separate the graph");
    }
    if (!program.loss().empty()) {
      auto l = writer.find(program.loss());
      if (l != writer.end() && l->second <= b) {
        return BadCut(cut, "comes after the op writing the loss '" + program.loss() + "'");
      }
    }
    bounds.push_back(b);
  }
  bounds.push_back(num_ops - 1);

  const int p = static_cast<int>(bounds.size());
  std::vector<Section> sections(p);
  std::vector<std::set<std::string>> written(p), needed(p);
  std::map<std::string, int> param_owner;
  int first = 0;
  for (int s = 0; s < p; ++s) {
    Section& sec = sections[s];
    sec.first_op = first;
    sec.num_ops = bounds[s] - first + 1;
    std::set<std::string> sec_feeds, sec_params;
    for (int j = first; j <= bounds[s]; ++j) {
      for (const std::string& n : reads[j]) {
        auto w = writer.find(n);
        const bool local = w != writer.end() && w->second >= first && w->second < j;
        if (local) continue;
        if (vars[n]->persistable()) {
          auto [it, fresh] = param_owner.emplace(n, s);
          if (!fresh && it->second != s) {
            return InvalidArgumentError(
                "parameter '" + n + "' is read by pipeline sections " + std::to_string(it->second) +
                " and " + std::to_string(s) +
                " (tied weights across a cut are not supported); move the cut");
          }
          sec_params.insert(n);
        } else if (w != writer.end() && w->second < first) {
          needed[s].insert(n);
        } else {
          sec_feeds.insert(n);
        }
      }
      for (const graph::Slot& slot : block.ops(j).outputs()) {
        written[s].insert(slot.vars().begin(), slot.vars().end());
      }
    }
    sec.feeds.assign(sec_feeds.begin(), sec_feeds.end());
    sec.params.assign(sec_params.begin(), sec_params.end());
    first = bounds[s] + 1;
  }
  // What a section receives: what its ops need from earlier sections plus what it passes on.
  for (int s = p - 1; s >= 0; --s) {
    if (s + 1 < p) {
      sections[s].sent = sections[s + 1].received;
      for (const std::string& n : sections[s].sent) {
        if (written[s].count(n) == 0) needed[s].insert(n);
      }
    }
    sections[s].received.assign(needed[s].begin(), needed[s].end());
  }

  for (int s = 0; s < p; ++s) {
    Section& sec = sections[s];
    ProgramDesc& sp = sec.program;
    sp = program;
    BlockDesc* b0 = sp.mutable_blocks(0);
    b0->clear_ops();
    for (int j = sec.first_op; j < sec.first_op + sec.num_ops; ++j) *b0->add_ops() = block.ops(j);
    sp.clear_feeds();
    for (const std::string& n : sec.feeds) sp.add_feeds(n);
    for (const std::string& n : sec.received) sp.add_feeds(n);
    sp.clear_fetches();
    for (const std::string& n : sec.sent) sp.add_fetches(n);
    for (const std::string& n : program.fetches()) {
      if (written[s].count(n) != 0 && !std::count(sec.sent.begin(), sec.sent.end(), n)) {
        sp.add_fetches(n);
      }
    }
    if (s + 1 < p) sp.clear_loss();
    COLONY_RETURN_IF_ERROR(graph::Validate(sp));
  }
  return sections;
}

}  // namespace colony::pipeline
