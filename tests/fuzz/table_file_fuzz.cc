// Fuzzes the parameter-server checkpoint readers: a sparse table's table.bin and a dense
// table's <name>.bin, loaded through SparseTable::Load and DenseTable::Load. The first byte
// picks the table kind; with its low bit set the rest is a payload after the format line and
// gets a valid CRC-32 appended, so that mutations reach the parsing past the checksum (as a
// crafted file would). Properties: no crash; a refused file leaves the table as it was; an
// accepted one can be pulled and saved.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "colony/base/crc32.h"
#include "colony/ps/dense_table.h"
#include "colony/ps/sparse_table.h"
#include "fuzz/fuzz_util.h"

namespace colony::fuzz {
namespace {

std::string WithChecksum(std::string_view format, std::string_view payload) {
  std::string bytes = std::string(format) + "\n" + std::string(payload);
  const uint32_t crc = Crc32(bytes);
  bytes.append(reinterpret_cast<const char*>(&crc), sizeof(crc));
  return bytes;
}

void LoadSparse(std::string_view bytes, bool tiered) {
  const std::string dir = ScratchDir() + "/sparse";
  std::filesystem::create_directories(dir);
  WriteBytes(dir + "/table.bin", bytes);
  ps::SparseTableOptions o;
  o.dim = 4;
  if (tiered) o.admit_count = 2;  // The tiered table (one map, row policies), no SSD folder.
  StatusOr<std::unique_ptr<ps::SparseTable>> table = ps::SparseTable::Create(o);
  FUZZ_CHECK(table.ok());
  const uint64_t ids[] = {1, 2, 3};
  std::vector<float> before(3 * 4), after(3 * 4);
  FUZZ_CHECK((*table)->Pull({.create_missing = true}, ids, before).ok());
  const int64_t rows = (*table)->size();
  const Status loaded = (*table)->Load(dir);
  if (!loaded.ok()) {
    FUZZ_CHECK_STATUS(
        loaded.code() == StatusCode::kDataLoss || loaded.code() == StatusCode::kFailedPrecondition,
        loaded);
    FUZZ_CHECK((*table)->size() == rows);
    FUZZ_CHECK((*table)->Pull({.create_missing = false}, ids, after).ok());
    FUZZ_CHECK(before == after);
    return;
  }
  FUZZ_CHECK((*table)->Pull({.create_missing = false}, ids, after).ok());
  FUZZ_CHECK((*table)->Save(dir).ok());
}

void LoadDense(std::string_view bytes) {
  const std::string dir = ScratchDir() + "/dense";
  std::filesystem::create_directories(dir);
  WriteBytes(dir + "/w.bin", bytes);
  StatusOr<std::unique_ptr<ps::DenseTable>> table = ps::DenseTable::Create({.size = 6});
  FUZZ_CHECK(table.ok());
  const std::vector<float> init = {1, 2, 3, 4, 5, 6};
  FUZZ_CHECK((*table)->Init(init).ok());
  const Status loaded = (*table)->Load(dir, "w");
  std::vector<float> values(6);
  FUZZ_CHECK((*table)->Pull(values).ok());
  if (!loaded.ok()) {
    FUZZ_CHECK_STATUS(
        loaded.code() == StatusCode::kDataLoss || loaded.code() == StatusCode::kFailedPrecondition,
        loaded);
    FUZZ_CHECK(values == init);
  }
}

}  // namespace
}  // namespace colony::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony;
  using namespace colony::fuzz;
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string_view rest = AsText(data + 1, size - 1);
  const bool dense = (selector & 0x2) != 0;
  const std::string bytes =
      (selector & 0x1) ? WithChecksum(dense ? ps::kDenseTableFormat : ps::kSparseTableFormat, rest)
                       : std::string(rest);
  if (dense) {
    LoadDense(bytes);
  } else {
    LoadSparse(bytes, (selector & 0x4) != 0);
  }
  return 0;
}
