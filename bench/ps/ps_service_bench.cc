// Pull and push throughput of sparse rows through the gRPC parameter server over loopback
// (1 and 2 servers, started in this process) against the in-process table, on the same
// Zipf-distributed keys, in one run. Prints keys/s, MB/s of rows and the ratio to in-process.
//   build/bench/ps/colony_ps_service_bench [seconds_per_case=0.5]
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "colony/ps/remote_table.h"
#include "colony/ps/server.h"
#include "colony/ps/sparse_table.h"

namespace {

using Clock = std::chrono::steady_clock;

// `count` batches of `batch` ids drawn from Zipf(1.1) over 1M ids, fixed seed.
std::vector<std::vector<uint64_t>> ZipfBatches(int batch, int count) {
  static std::vector<double> cdf;
  if (cdf.empty()) {
    double sum = 0;
    for (int i = 0; i < 1'000'000; ++i) cdf.push_back(sum += 1.0 / std::pow(i + 1.0, 1.1));
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, cdf.back());
  std::vector<std::vector<uint64_t>> batches(count);
  for (auto& b : batches) {
    for (int i = 0; i < batch; ++i) {
      b.push_back((std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin()) *
                  0x9E3779B97F4A7C15ull);
    }
  }
  return batches;
}

struct Rate {
  double pull_keys_per_sec, push_keys_per_sec;
};

// Alternating pull and push of the batches for about `seconds` each.
Rate Measure(colony::ps::SparseTable& table, const std::vector<std::vector<uint64_t>>& batches,
             int dim, double seconds) {
  std::vector<float> rows(batches[0].size() * dim), grads(rows.size(), 0.001f);
  for (const auto& ids : batches) {  // Warm: every row exists before timing.
    if (!table.Pull({}, ids, rows).ok()) std::abort();
  }
  Rate rate{};
  for (int push = 0; push < 2; ++push) {
    int64_t keys = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    for (size_t i = 0; elapsed < seconds; ++i) {
      const auto& ids = batches[i % batches.size()];
      const colony::Status s = push ? table.Push(ids, grads) : table.Pull({}, ids, rows);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        std::abort();
      }
      keys += static_cast<int64_t>(ids.size());
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    (push ? rate.push_keys_per_sec : rate.pull_keys_per_sec) = keys / elapsed;
  }
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::stod(argv[1]) : 0.5;
  std::vector<std::unique_ptr<colony::ps::PsServer>> servers;
  for (int i = 0; i < 2; ++i) servers.push_back(std::move(colony::ps::PsServer::Start({})).value());
  std::printf("%-4s %-6s %-10s %14s %10s %8s %14s %10s %8s\n", "dim", "batch", "where",
              "pull keys/s", "pull MB/s", "ratio", "push keys/s", "push MB/s", "ratio");
  int table_number = 0;
  for (int dim : {8, 64}) {
    for (int batch : {1024, 16384, 65536}) {
      const auto batches = ZipfBatches(batch, 8);
      colony::ps::SparseTableOptions o;
      o.dim = dim;
      o.optimizer.name = "adagrad";
      auto local = std::move(colony::ps::SparseTable::Create(o)).value();
      const Rate base = Measure(*local, batches, dim, seconds);
      auto print = [&](const char* where, const Rate& r) {
        const double mb = dim * 4.0 / 1e6;
        std::printf("%-4d %-6d %-10s %14.0f %10.1f %7.2fx %14.0f %10.1f %7.2fx\n", dim, batch,
                    where, r.pull_keys_per_sec, r.pull_keys_per_sec * mb,
                    r.pull_keys_per_sec / base.pull_keys_per_sec, r.push_keys_per_sec,
                    r.push_keys_per_sec * mb, r.push_keys_per_sec / base.push_keys_per_sec);
      };
      print("in-process", base);
      for (int n : {1, 2}) {
        colony::ps::RemoteTableOptions remote;
        for (int i = 0; i < n; ++i) {
          remote.servers.push_back(fmt::format("127.0.0.1:{}", servers[i]->port()));
        }
        remote.table = fmt::format("t{}", table_number++);
        auto table = std::move(colony::ps::ConnectSparseTable(remote, o)).value();
        print(n == 1 ? "1 server" : "2 servers", Measure(*table, batches, dim, seconds));
      }
    }
  }
  return 0;
}
