#include "colony/exec/compute_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace colony::exec {
namespace {

using SetThreads = void (*)(int);
using GetThreads = int (*)();

// Looked up at run time: LibTorch may be linked against another BLAS, or none.
SetThreads BlasSetThreads() {
  return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

// The first mapped library whose file name mentions "blas", resolved through symlinks.
std::string LoadedBlas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string file = path.substr(path.rfind('/') + 1);
    if (file.find("blas") == std::string::npos) continue;
    char resolved[4096];
    if (realpath(path.c_str(), resolved) == nullptr) return file;
    const std::string real(resolved);
    const size_t dir_end = real.rfind('/');
    const size_t dir_begin = real.rfind('/', dir_end - 1);
    return real.substr(dir_end + 1) + " (" + real.substr(dir_begin + 1, dir_end - dir_begin - 1) +
           ")";
  }
  return "none found";
}

}  // namespace

ComputeSetup SetUpCompute(int threads, int callers) {
  ComputeSetup setup;
  // A step allocates and frees the same activation sizes (hundreds of KB) every time; keep
  // them in the heap instead of an mmap + page faults + munmap per tensor.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads > 0 ? threads : cores);
  setup.torch_threads = at::get_num_threads();
  setup.blas = LoadedBlas();
  const SetThreads set = BlasSetThreads();
  auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (set != nullptr && get != nullptr) {
    set(setup.torch_threads > 1 ? 1 : std::max(1, cores / std::max(1, callers)));
    setup.blas_threads = get();
  } else {
    setup.blas_threads = -1;
  }
  return setup;
}

void SetBlasThreads(int threads) {
  const SetThreads set = BlasSetThreads();
  if (set != nullptr) set(threads);
}

}  // namespace colony::exec
