// Sets LibTorch's thread count and keeps BLAS from competing with it for cores.
#pragma once

#include <string>

namespace colony::train::internal {

struct ComputeSetup {
  int torch_threads = 0;  // Intra-op threads LibTorch uses now.
  std::string blas;       // The BLAS library loaded, e.g. "libopenblas.so.0 (openblas-pthread)".
  int blas_threads = 0;   // Threads BLAS may use; -1 if the library has no such control.
};

// threads = 0 means all cores. OpenBLAS gets one thread whenever LibTorch runs several, so the
// two pools do not oversubscribe the cores (measured 2.5x slower otherwise on 2 cores).
// `callers` threads that each run BLAS at once (strategy heter's compute trainers) share the
// cores: BLAS gets cores / callers threads (at least one) each.
ComputeSetup SetUpCompute(int threads, int callers = 1);

}  // namespace colony::train::internal
