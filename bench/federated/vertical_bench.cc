// Time per iteration of vertical linear regression on the diabetes data (442 ids, A: 4
// features, B: 6), both parties in this process on 127.0.0.1, in the clear and with the
// residuals Paillier-encrypted; rounds interleave the variants and the report is the median
// per-iteration time and its ratio to the plaintext run.
//   colony_fl_vertical_bench [ITERATIONS=5] [ROUNDS=3] [KEY_BITS=1024,2048]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "colony/federated/paillier.h"
#include "colony/federated/vertical.h"

namespace {

using colony::fl::PartyAOptions;
using colony::fl::PartyAResult;
using colony::fl::VerticalConfig;

// One session; returns seconds per iteration (party A's loop, without key generation).
double SecondsPerIteration(const VerticalConfig& config) {
  auto b = colony::fl::VerticalPartyB::Start(config, {});
  if (!b.ok()) {
    std::fprintf(stderr, "party b: %s\n", b.status().ToString().c_str());
    std::exit(1);
  }
  PartyAOptions options;
  options.peer = "127.0.0.1:" + std::to_string((*b)->port());
  options.quiet = true;
  auto a = colony::fl::RunVerticalPartyA(config, options);
  if (!a.ok()) {
    std::fprintf(stderr, "party a: %s\n", a.status().ToString().c_str());
    std::exit(1);
  }
  colony::Status waited = (*b)->Wait();
  waited.IgnoreError();  // A finished; B's wait only confirms it.
  return a->iteration_seconds / a->iterations;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 5;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::vector<int> key_bits;
  std::stringstream bits_list(argc > 3 ? argv[3] : "1024,2048");
  for (std::string b; std::getline(bits_list, b, ',');) key_bits.push_back(std::atoi(b.c_str()));

  VerticalConfig base;
  base.party_a.format = base.party_b.format = "sklearn_diabetes";
  base.party_a.with_label = true;
  base.party_a.columns = {0, 1, 2, 3};
  base.party_b.columns = {4, 5, 6, 7, 8, 9};
  base.train.iterations = iterations;
  base.train.tolerance = 0;  // Every run does exactly `iterations` steps.

  std::vector<VerticalConfig> variants = {base};
  std::vector<std::string> names = {"plaintext"};
  for (int bits : key_bits) {
    VerticalConfig c = base;
    c.paillier.enabled = true;
    c.paillier.key_bits = bits;
    // Keys below 2048 bits are measured for comparison only; jobs refuse them.
    c.paillier.allow_insecure_key_bits_for_tests = bits < colony::fl::kMinPaillierKeyBits;
    variants.push_back(c);
    names.push_back("paillier " + std::to_string(bits));
  }
  std::vector<std::vector<double>> times(variants.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t v = 0; v < variants.size(); ++v) {
      times[v].push_back(SecondsPerIteration(variants[v]));
      std::printf("round %d/%d %-14s %.3f ms/iteration\n", round + 1, rounds, names[v].c_str(),
                  times[v].back() * 1e3);
      std::fflush(stdout);
    }
  }
  const double plain = Median(times[0]);
  std::printf(
      "\nvertical linear regression, diabetes (442 ids, 4 + 6 features), %d iterations, "
      "median of %d rounds\n",
      iterations, rounds);
  for (size_t v = 0; v < variants.size(); ++v) {
    std::printf("  %-14s %10.3f ms/iteration  %8.1fx plaintext\n", names[v].c_str(),
                Median(times[v]) * 1e3, Median(times[v]) / plain);
  }
  return 0;
}
