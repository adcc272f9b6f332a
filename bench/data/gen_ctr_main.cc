// Generates CTR data and reports the generator's speed:
//   data_gen_ctr OUT_DIR [ROWS] [SEED] [INTERACTION_SCALE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "colony/data/ctr_generator.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [ROWS] [SEED] [INTERACTION_SCALE]\n", argv[0]);
    return 2;
  }
  colony::data::CtrGeneratorOptions o;
  o.out_dir = argv[1];
  if (argc > 2) o.rows = std::atoll(argv[2]);
  if (argc > 3) o.seed = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4) o.interaction_scale = std::atof(argv[4]);
  const auto start = std::chrono::steady_clock::now();
  const colony::Status s = colony::data::GenerateCtr(o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("generated %lld rows in %.2f s (%.0f rows/s)\n", static_cast<long long>(o.rows),
              seconds, static_cast<double>(o.rows) / seconds);
  return 0;
}
