// Pipeline bubble and throughput: the balanced MLP (equal layers, cut into p sections of equal
// layer counts) trained with p = 2, 3, 4 stages and m = 1, 2, 4, 8 micro-batches, GPipe and
// 1F1B, each beside the unpipelined run of the same program on the same batches (one stage,
// one micro-batch) in this process. Every stage thread and the baseline use 1 LibTorch
// intra-op thread and 1 OpenBLAS thread, so p stages use p threads.
//   pipeline_bench [batch=512] [steps=8] [layers=12] [width=256] [emulated_us_per_row=20]
// Table 1 ("cpu"): the stages compute on this host's cores. Table 2 ("emulated"): a narrow
// MLP (width 16) whose stages also sleep emulated_us_per_row per row (forward; twice that in
// backward), as stages on devices of their own would wait for them without taking this host's
// cores; the baseline's one stage sleeps for all p stages. Rows: measured bubble fraction
// (median over steps 2..N) vs (p-1)/(m+p-1), samples/s vs the baseline, and the largest
// parameter difference from the baseline at the end.
#include <ATen/Parallel.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "colony/pipeline/job.h"

namespace {

using colony::pipeline::PipelineJobOptions;

bool RunTable(const char* name, int batch, int steps, int layers, int width, double emulated) {
  std::string load;
  std::getline(std::ifstream("/proc/loadavg"), load);
  std::printf(
      "\n[%s] MLP %d x %d, batch %d, %d steps (first is warm-up), emulated %.0f us/row; "
      "load average %s\n",
      name, layers, width, batch, steps, emulated, load.c_str());
  std::printf("%-6s %2s %2s %9s %7s %11s %11s %7s %9s\n", "sched", "p", "m", "bubble", "theory",
              "samples/s", "unpipelined", "speedup", "max_diff");
  for (const char* schedule : {"gpipe", "1f1b"}) {
    for (int p : {2, 3, 4}) {
      for (int m : {1, 2, 4, 8}) {
        PipelineJobOptions o;
        o.model = {.input_dim = width, .width = width, .layers = layers, .skip = false};
        o.pipeline.micro_batches = m;
        o.pipeline.schedule = schedule;
        o.pipeline.threads_per_stage = 1;
        o.pipeline.emulated_device_us_per_row = emulated;
        o.pipeline.learning_rate = 0.01f;
        o.pipeline.seed = 1;
        o.stages = p;
        o.batch_size = batch;
        o.steps = steps;
        o.log_every = steps;
        o.compare = true;
        auto s = colony::pipeline::RunPipelineJob(o);
        if (!s.ok()) {
          std::fprintf(stderr, "p=%d m=%d %s: %s\n", p, m, schedule, s.status().ToString().c_str());
          return false;
        }
        std::printf("%-6s %2d %2d %9.3f %7.3f %11.0f %11.0f %6.2fx %9.1e\n", schedule, p, m,
                    s->bubble_fraction, s->bubble_theory, s->samples_per_sec,
                    s->baseline_samples_per_sec, s->samples_per_sec / s->baseline_samples_per_sec,
                    s->max_param_diff);
        std::fflush(stdout);
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int batch = argc > 1 ? std::atoi(argv[1]) : 512;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 8;
  const int layers = argc > 3 ? std::atoi(argv[3]) : 12;
  const int width = argc > 4 ? std::atoi(argv[4]) : 256;
  const double emulated = argc > 5 ? std::atof(argv[5]) : 20;
  at::set_num_threads(1);
  // Activations of the same sizes are freed and allocated every step: keep them in the heap
  // rather than mmap and page-fault them each time (as `colony train` does).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (!RunTable("cpu", batch, steps, layers, width, 0)) return 1;
  if (emulated > 0 && !RunTable("emulated", batch, steps, layers, 16, emulated)) return 1;
  return 0;
}
