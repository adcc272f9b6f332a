// Checkpoint write and load time of a sparse table (dim 16, adagrad: 32 floats a row) in
// memory and with the SSD tier (memory_rows fixed), and the resident memory while saving.
// For each row count: an in-memory table built by training pulls is saved and loaded; then
// an SSD-tier table is filled from that file (streamed into RocksDB), saved (checked to be
// the same size) and loaded into another SSD-tier table. Each runs in its own child process,
// which resets its resident peak (VmHWM, through /proc/self/clear_refs) before a save or load
// and reads it after: "peak while saving" is the save's own, "added" what the save needed
// beyond what the process held. With the SSD tier the peak must not grow with the table's
// rows. Wall and CPU seconds are both shown (a busy machine stretches the first). Run (a few
// minutes, a few GB of disk under --dir):
//   <build>/bench/ps/colony_ps_checkpoint_bench --rows 2000000,10000000 --memory-rows 1000000
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "colony/ps/sparse_table.h"

namespace {
namespace fs = std::filesystem;
using colony::ps::SparseTable;
using colony::ps::SparseTableOptions;

constexpr int kDim = 16;
constexpr size_t kBatch = 65536;

// A field of /proc/self/status in MiB ("VmRSS", "VmHWM").
double StatusMiB(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  }
  return -1;
}

// Starts a new peak: VmHWM becomes the current RSS. False where the kernel refuses.
bool ResetPeak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

SparseTableOptions Options(int64_t memory_rows, const std::string& ssd_dir) {
  SparseTableOptions o;
  o.dim = kDim;
  o.optimizer.name = "adagrad";
  o.memory_rows = memory_rows;
  o.ssd_dir = ssd_dir;
  return o;
}

void Check(const colony::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

// Process CPU seconds (user + system, all threads) so far.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Times `fn` (wall and CPU seconds) with the resident peak reset before it; returns the peak
// while it ran (MiB) through *peak.
template <typename Fn>
void Measure(Fn&& fn, double* wall, double* cpu, double* peak) {
  ResetPeak();
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  fn();
  *wall = Seconds(start);
  *cpu = CpuSeconds() - cpu_start;
  *peak = StatusMiB("VmHWM");
}

void Print(const char* label, int64_t rows, int64_t memory_rows, double build, double file_mib,
           double rss_before_save, double save, double save_cpu, double peak_save, double load,
           double load_cpu, double peak_load) {
  std::printf(
      "%-6s rows %9lld memory_rows %8lld | %s %6.1f s | file %5.0f MiB | save %5.1f s (cpu "
      "%5.1f s) | load %5.1f s (cpu %5.1f s) | RSS before save %6.0f MiB, peak while saving %6.0f "
      "MiB (added %5.0f), peak while loading %6.0f MiB\n",
      label, static_cast<long long>(rows), static_cast<long long>(memory_rows),
      memory_rows > 0 ? "filled from the file" : "built by pulls", build, file_mib, save, save_cpu,
      load, load_cpu, rss_before_save, peak_save, peak_save - rss_before_save, peak_load);
  std::fflush(stdout);
}

// The in-memory table of `rows` rows, built by training pulls, saved to <base>/memory and
// loaded back. In its own (child) process.
void RunMemory(int64_t rows, const std::string& base) {
  auto table = SparseTable::Create(Options(0, ""));
  Check(table.status(), "create");
  auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  std::vector<float> out;
  for (int64_t first = 0; first < rows; first += static_cast<int64_t>(kBatch)) {
    ids.clear();
    for (int64_t id = first; id < std::min<int64_t>(rows, first + kBatch); ++id) {
      ids.push_back(static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull);  // Hashed-looking ids.
    }
    out.resize(ids.size() * kDim);
    Check((*table)->Pull({}, ids, out), "build");
  }
  const double build = Seconds(start);
  fs::create_directories(base + "/memory");
  const double rss_before = StatusMiB("VmRSS");
  double save = 0, save_cpu = 0, peak_save = 0, load = 0, load_cpu = 0, peak_load = 0;
  Measure([&] { Check((*table)->Save(base + "/memory"), "save"); }, &save, &save_cpu, &peak_save);
  table->reset();  // The loaded table replaces it, as in a restarted server.
  auto loaded = SparseTable::Create(Options(0, ""));
  Check(loaded.status(), "create");
  Measure([&] { Check((*loaded)->Load(base + "/memory"), "load"); }, &load, &load_cpu, &peak_load);
  Check((*loaded)->size() == rows ? colony::OkStatus() : colony::InternalError("row count"),
        "load");
  const double file_mib =
      static_cast<double>(fs::file_size(base + "/memory/table.bin")) / (1024.0 * 1024.0);
  Print("memory", rows, 0, build, file_mib, rss_before, save, save_cpu, peak_save, load, load_cpu,
        peak_load);
}

// An SSD-tier table (memory_rows in memory) filled from the memory table's file, saved to
// <base>/ssd (the same bytes) and loaded into another SSD-tier table. In its own process.
void RunSsd(int64_t rows, int64_t memory_rows, const std::string& base) {
  auto table = SparseTable::Create(Options(memory_rows, base + "/ssd_a"));
  Check(table.status(), "create");
  const auto start = std::chrono::steady_clock::now();
  Check((*table)->Load(base + "/memory"), "fill");
  const double build = Seconds(start);
  fs::create_directories(base + "/ssd");
  const double rss_before = StatusMiB("VmRSS");
  double save = 0, save_cpu = 0, peak_save = 0, load = 0, load_cpu = 0, peak_load = 0;
  Measure([&] { Check((*table)->Save(base + "/ssd"), "save"); }, &save, &save_cpu, &peak_save);
  if (fs::file_size(base + "/ssd/table.bin") != fs::file_size(base + "/memory/table.bin")) {
    Check(colony::InternalError("the SSD table's file differs from the memory table's"), "save");
  }
  table->reset();
  auto loaded = SparseTable::Create(Options(memory_rows, base + "/ssd_b"));
  Check(loaded.status(), "create");
  Measure([&] { Check((*loaded)->Load(base + "/ssd"), "load"); }, &load, &load_cpu, &peak_load);
  Check((*loaded)->size() == rows ? colony::OkStatus() : colony::InternalError("row count"),
        "load");
  const double file_mib =
      static_cast<double>(fs::file_size(base + "/ssd/table.bin")) / (1024.0 * 1024.0);
  Print("ssd", rows, memory_rows, build, file_mib, rss_before, save, save_cpu, peak_save, load,
        load_cpu, peak_load);
}

// Runs `fn` in a child process; false when it failed.
template <typename Fn>
bool InChild(Fn&& fn) {
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    fn();
    std::_Exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<int64_t> ParseList(const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) values.push_back(std::stoll(item));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> rows = {2'000'000, 10'000'000};
  int64_t memory_rows = 1'000'000;
  std::string dir = fs::temp_directory_path().string() + "/colony_ckpt_bench";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--rows" && has_value) {
      rows = ParseList(argv[++i]);
    } else if (flag == "--memory-rows" && has_value) {
      memory_rows = std::stoll(argv[++i]);
    } else if (flag == "--dir" && has_value) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--rows N,N...] [--memory-rows R] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  std::printf("sparse table checkpoint, dim %d, adagrad (%d floats + 8-byte id a row)\n", kDim,
              2 * kDim);
  if (!ResetPeak()) std::printf("(cannot reset VmHWM here: peaks are whole-process peaks)\n");
  for (const int64_t n : rows) {
    const std::string base = dir + "/rows_" + std::to_string(n);
    fs::remove_all(base);
    fs::create_directories(base);
    if (!InChild([&] { RunMemory(n, base); })) return 1;
    if (!InChild([&] { RunSsd(n, memory_rows, base); })) return 1;
    fs::remove_all(base);
  }
  return 0;
}
