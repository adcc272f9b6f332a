// Executor overhead on a CTR DNN training step (forward + backward + SGD) against the same
// step hand-written with LibTorch, run interleaved in one process.
//   exec_overhead_bench [batch=512] [rounds=15] [steps_per_round=40] [threads=1]
// Prints the median time per step of each and the executor's overhead in percent.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "colony/exec/executor.h"
#include "colony/graph/builder.h"

namespace {

using colony::exec::Executor;
using colony::exec::Scope;
namespace graph = colony::graph;

constexpr int64_t kDense = 13, kSlots = 26, kDim = 16;
const std::vector<int64_t> kHidden = {256, 128};

// The same DNN the model zoo builds: embeddings of all slots + dense features through an MLP.
graph::ProgramDesc BuildDnn() {
  graph::ProgramBuilder b;
  const std::string dense = b.Feed("dense", graph::FLOAT32, {-1, kDense});
  const std::string ids = b.Feed("sparse_ids", graph::INT64, {-1, kSlots});
  const std::string label = b.Feed("label", graph::FLOAT32, {-1, 1});
  const std::string emb = b.SparseParameter("emb", kDim, graph::Uniform(-0.05f, 0.05f));
  const std::string e = b.Op1("sparse_lookup", {{"Ids", {ids}}, {"W", {emb}}});
  const std::string flat =
      b.Op1("reshape", {{"X", {e}}}, {{"shape", graph::IntsAttr({-1, kSlots * kDim})}});
  std::string x = b.Op1("concat", {{"X", {flat, dense}}}, {{"axis", graph::IntAttr(1)}});
  int64_t width = kSlots * kDim + kDense;
  for (size_t i = 0; i < kHidden.size(); ++i) {
    const std::string w =
        b.Parameter("fc" + std::to_string(i) + ".w", {width, kHidden[i]}, graph::XavierUniform());
    const std::string bias =
        b.Parameter("fc" + std::to_string(i) + ".b", {kHidden[i]}, graph::Zeros());
    x = b.Op1("fc", {{"X", {x}}, {"W", {w}}, {"B", {bias}}},
              {{"activation", graph::StringAttr("relu")}});
    width = kHidden[i];
  }
  const std::string w = b.Parameter("out.w", {width, 1}, graph::XavierUniform());
  const std::string bias = b.Parameter("out.b", {1}, graph::Zeros());
  const std::string logit = b.Op1("fc", {{"X", {x}}, {"W", {w}}, {"B", {bias}}});
  b.SetLoss(b.Op1("sigmoid_bce", {{"Logits", {logit}}, {"Label", {label}}}));
  b.AddFetch(b.Op1("sigmoid", {{"X", {logit}}}));
  auto program = b.Build();
  if (!program.ok()) {
    std::fprintf(stderr, "%s\n", program.status().ToString().c_str());
    std::exit(1);
  }
  return *program;
}

struct Batch {
  at::Tensor dense, ids, label;
};

struct Params {
  std::vector<std::string> names;
  std::map<std::string, at::Tensor> values;
};

void Sgd(Params& p, const std::map<std::string, at::Tensor>& leaves) {
  at::NoGradGuard no_grad;
  for (const std::string& n : p.names) p.values[n].sub_(leaves.at(n).grad(), 0.01);
}

std::map<std::string, at::Tensor> Leaves(const Params& p) {
  std::map<std::string, at::Tensor> leaves;
  for (const std::string& n : p.names) leaves[n] = p.values.at(n).detach().requires_grad_(true);
  return leaves;
}

double ColonyStep(Executor& e, Scope& scope, const Batch& b, Params& p, int64_t step) {
  auto leaves = Leaves(p);
  scope.Clear();
  scope.Set("dense", b.dense);
  scope.Set("sparse_ids", b.ids);
  scope.Set("label", b.label);
  for (const auto& [n, t] : leaves) scope.Set(n, t);
  colony::Status s = e.Forward(scope, true, step);
  if (s.ok()) s = e.Backward(scope);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  Sgd(p, leaves);
  return scope.Get(e.program().loss())->item<double>();
}

double PlainStep(const Batch& b, Params& p) {
  auto l = Leaves(p);
  at::Tensor e = at::embedding(l["emb"], b.ids);
  at::Tensor x = at::cat({e.reshape({-1, kSlots * kDim}), b.dense}, 1);
  for (size_t i = 0; i < kHidden.size(); ++i) {
    const std::string n = "fc" + std::to_string(i);
    x = at::relu(at::addmm(l[n + ".b"], x, l[n + ".w"]));
  }
  at::Tensor logit = at::addmm(l["out.b"], x, l["out.w"]);
  at::Tensor loss = at::binary_cross_entropy_with_logits(logit, b.label);
  at::Tensor prob = at::sigmoid(logit);  // The program fetches it too.
  loss.backward();
  Sgd(p, l);
  return loss.item<double>();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 512;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 15;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 40;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  at::set_num_threads(threads);
  at::manual_seed(0);

  const graph::ProgramDesc program = BuildDnn();
  auto executor = Executor::Create(program, {.seed = 1});
  if (!executor.ok()) {
    std::fprintf(stderr, "%s\n", executor.status().ToString().c_str());
    return 1;
  }
  const int64_t unique_rows = batch * kSlots / 2;
  Params colony_params, plain_params;
  for (const graph::VarDesc& v : program.blocks(0).vars()) {
    if (!v.persistable()) continue;
    at::Tensor init = v.sparse() ? at::rand({unique_rows, kDim}) * 0.1 - 0.05
                                 : *colony::exec::MakeInitialValue(v, 1);
    colony_params.names.push_back(v.name());
    colony_params.values[v.name()] = init.clone();
    plain_params.names.push_back(v.name());
    plain_params.values[v.name()] = init.clone();
  }
  Batch b{at::randn({batch, kDense}), at::randint(0, unique_rows, {batch, kSlots}, at::kLong),
          at::randint(0, 2, {batch, 1}).to(at::kFloat)};

  Scope scope;
  using Clock = std::chrono::steady_clock;
  std::vector<double> colony_ms, plain_ms;
  double colony_loss = 0, plain_loss = 0;
  for (int i = 0; i < 10; ++i) {  // Warm-up.
    colony_loss = ColonyStep(**executor, scope, b, colony_params, i);
    plain_loss = PlainStep(b, plain_params);
  }
  int64_t step = 10;
  const auto ms_per_step = [&](auto&& run) {
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) run();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
  };
  const auto colony_round = [&] {
    colony_ms.push_back(ms_per_step(
        [&] { colony_loss = ColonyStep(**executor, scope, b, colony_params, step++); }));
  };
  const auto plain_round = [&] {
    plain_ms.push_back(ms_per_step([&] { plain_loss = PlainStep(b, plain_params); }));
  };
  for (int r = 0; r < rounds; ++r) {  // Alternate which runs first, so neither gets a warm edge.
    if (r % 2 == 0) {
      colony_round();
      plain_round();
    } else {
      plain_round();
      colony_round();
    }
  }
  const double c = Median(colony_ms), p = Median(plain_ms);
  std::printf(
      "ctr dnn step (batch %lld, %d threads, %d x %d steps): plain libtorch %.3f ms, "
      "colony executor %.3f ms, overhead %+.1f%%\n",
      static_cast<long long>(batch), threads, rounds, steps, p, c, 100.0 * (c / p - 1));
  // Same math and same start: the two runs must agree.
  std::printf("final loss: plain %.6f, colony %.6f\n", plain_loss, colony_loss);
  return 0;
}
