// Time saved by rnn_start/rnn_end skipping in a recurrent GRU, as a function of the fraction of
// sequence elements whose mask is 0. Each row: forward + backward of one batch, median over
// rounds, against the same skip program with nothing skipped (fraction 0) and against a
// program without a span (the GRU runs on every element), all in one process.
//   recurrent_skip_bench [batch=64] [time=50] [hidden=128] [rounds=7] [threads=1]
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

namespace graph = colony::graph;
using colony::exec::Executor;
using colony::exec::Scope;

graph::ProgramDesc SkipGru(int64_t time, int64_t in, int64_t hidden, bool with_skip) {
  graph::ProgramBuilder b;
  const std::string seq = b.Feed("seq", graph::FLOAT32, {-1, time, in});
  const std::string mask = b.Feed("mask", graph::FLOAT32, {-1, time});
  const std::string h0 = b.Feed("h0", graph::FLOAT32, {-1, hidden});
  const std::string wx = b.Parameter("wx", {in, 3 * hidden}, graph::XavierUniform());
  const std::string wh = b.Parameter("wh", {hidden, 3 * hidden}, graph::XavierUniform());
  const int block = b.BeginBlock();
  const std::string x_t = b.Var("x_t", graph::FLOAT32, {-1, in});
  const std::string m_t = b.Var("m_t", graph::FLOAT32, {-1});
  const std::string h_prev = b.Var("h_prev", graph::FLOAT32, {-1, hidden});
  std::string h;
  const graph::SlotBindings cell = {{"X", {x_t}}, {"H", {h_prev}}, {"Wx", {wx}}, {"Wh", {wh}}};
  if (with_skip) {
    const std::string valid = b.Op1("rnn_start", {{"Cond", {m_t}}});
    h = b.Op1("rnn_end",
              {{"X", {b.Op1("gru_cell", cell)}}, {"Skip", {h_prev}}, {"Valid", {valid}}});
  } else {
    h = b.Op1("gru_cell", cell);
  }
  b.EndBlock();
  const auto outs =
      b.Op("recurrent", {{"X", {seq, mask}}, {"InitStates", {h0}}, {"Params", {wx, wh}}},
           {{"block", graph::BlockAttr(block)},
            {"step_inputs", graph::StringsAttr({x_t, m_t})},
            {"states", graph::StringsAttr({h_prev})},
            {"state_updates", graph::StringsAttr({h})},
            {"step_outputs", graph::StringsAttr({h})}});
  b.SetLoss(b.Op1("reduce_mean", {{"X", {outs.empty() ? "" : outs[0]}}}));
  auto p = b.Build();
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
    std::exit(1);
  }
  return *p;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t batch = argc > 1 ? std::atoll(argv[1]) : 64;
  const int64_t time = argc > 2 ? std::atoll(argv[2]) : 50;
  const int64_t hidden = argc > 3 ? std::atoll(argv[3]) : 128;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 7;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 1;
  const int64_t in = 32;
  at::set_num_threads(threads);
  at::manual_seed(0);

  auto skip = Executor::Create(SkipGru(time, in, hidden, true), {});
  auto plain = Executor::Create(SkipGru(time, in, hidden, false), {});
  if (!skip.ok() || !plain.ok()) return 1;
  const at::Tensor seq = at::randn({batch, time, in});
  const at::Tensor h0 = at::zeros({batch, hidden});
  const at::Tensor wx = at::randn({in, 3 * hidden}) * 0.1;
  const at::Tensor wh = at::randn({hidden, 3 * hidden}) * 0.1;

  const auto step_ms = [&](Executor& e, const at::Tensor& mask) {
    std::vector<double> ms;
    for (int r = 0; r < rounds + 1; ++r) {
      Scope scope;
      scope.Set("seq", seq);
      scope.Set("mask", mask);
      scope.Set("h0", h0.detach().requires_grad_(true));
      scope.Set("wx", wx.detach().requires_grad_(true));
      scope.Set("wh", wh.detach().requires_grad_(true));
      const auto t0 = std::chrono::steady_clock::now();
      colony::Status s = e.Forward(scope, true, r);
      if (s.ok()) s = e.Backward(scope);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        std::exit(1);
      }
      const double t =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r > 0) ms.push_back(t);  // Round 0 warms up.
    }
    return Median(ms);
  };

  const at::Tensor all = at::ones({batch, time});
  const double plain_ms = step_ms(**plain, all);
  std::printf("skip-GRU batch %lld, T %lld, hidden %lld, %d threads; forward+backward per batch\n",
              static_cast<long long>(batch), static_cast<long long>(time),
              static_cast<long long>(hidden), threads);
  std::printf("no span (gru on every element): %.2f ms\n", plain_ms);
  std::printf("%-10s %-10s %-12s %-14s %-14s\n", "skipped", "ms", "vs no-span", "gru runs/step",
              "rows skipped");
  double base = 0;
  // Per-element masks take the row-compaction path; step-wise masks (a whole time step of the
  // batch skipped) take the whole-span skip path.
  for (const bool stepwise : {false, true}) {
    std::printf("%s masks\n", stepwise ? "step-wise" : "per-element");
    for (double f : {0.0, 0.25, 0.5, 0.75, 0.9, 1.0}) {
      const at::Tensor mask =
          stepwise ? at::rand({1, time}).ge(f).to(at::kFloat).expand({batch, time}).contiguous()
                   : at::rand({batch, time}).ge(f).to(at::kFloat);
      const auto before = (*skip)->stats();
      const double ms = step_ms(**skip, mask);
      const auto& after = (*skip)->stats();
      if (f == 0.0 && !stepwise) base = ms;
      const double runs = static_cast<double>(after.Runs("gru_cell") - before.Runs("gru_cell")) /
                          ((rounds + 1) * time);
      const double rows = static_cast<double>(after.span_rows_skipped - before.span_rows_skipped) /
                          ((rounds + 1) * batch * time);
      std::printf("%-10.2f %-10.2f %-12.2f %-14.2f %-14.2f\n", f, ms, ms / plain_ms, runs, rows);
    }
  }
  std::printf("skip program with nothing skipped vs no span: %+.1f%%\n",
              100.0 * (base / plain_ms - 1));
  return 0;
}
