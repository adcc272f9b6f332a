// The one place that sizes this process's compute thread pools: LibTorch's intra-op threads and
// the BLAS library's own pool, so the two do not oversubscribe the cores.
//   const exec::ComputeSetup setup = exec::SetUpCompute(/*threads=*/0);  // All cores.
//   std::printf("torch threads %d, %s with %d threads\n", setup.torch_threads,
//               setup.blas.c_str(), setup.blas_threads);
#pragma once

#include <string>

namespace colony::exec {

struct ComputeSetup {
  int torch_threads = 0;  // Intra-op threads LibTorch uses now.
  std::string blas;       // The BLAS library loaded, e.g. "libopenblas.so.0 (openblas-pthread)".
  int blas_threads = 0;   // Threads BLAS may use; -1 if the library has no such control.
};

// Sets LibTorch's intra-op threads to `threads` (0: all cores) and keeps BLAS from competing
// with them: OpenBLAS gets one thread whenever LibTorch runs several (measured 2.5x slower
// otherwise on 2 cores). `callers` threads that each run BLAS at once (strategy heter's compute
// trainers) share the cores: BLAS gets cores / callers threads (at least one) each. Also keeps
// the allocator from returning a step's activation buffers to the OS after every step.
// Process-wide; call it once before the compute starts.
ComputeSetup SetUpCompute(int threads, int callers = 1);

// Sets the BLAS library's own thread pool to `threads`, when it has such a control (OpenBLAS);
// otherwise does nothing. For callers that size LibTorch's threads per thread themselves
// (pipeline stages).
void SetBlasThreads(int threads);

}  // namespace colony::exec
