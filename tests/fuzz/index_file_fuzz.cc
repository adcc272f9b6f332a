// Fuzzes the retrieval index file reader (TreeIndex::Load, which maps index.bin) and then uses
// what it accepted: invariants, a search, an insert and a remove. Properties: no crash or
// out-of-bounds access for any file; a refused file is DataLoss or FailedPrecondition (a
// version this build does not read) naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "colony/retrieval/tree_index.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony;
  using namespace colony::fuzz;
  const std::string dir = ScratchDir() + "/index";
  std::filesystem::create_directories(dir);
  WriteBytes(dir + "/index.bin", AsText(data, size));
  StatusOr<std::unique_ptr<retrieval::TreeIndex>> index = retrieval::TreeIndex::Load(dir);
  if (!index.ok()) {
    FUZZ_CHECK_STATUS(index.status().code() == StatusCode::kDataLoss ||
                          index.status().code() == StatusCode::kFailedPrecondition,
                      index.status());
    FUZZ_CHECK(index.status().message().find("index.bin") != std::string::npos);
    return 0;
  }
  retrieval::TreeIndex& ix = **index;
  // Big dimensions pass the size checks only with a file to match; keep the work small.
  if (ix.dim() > 4096) return 0;
  const std::vector<float> query(static_cast<size_t>(ix.dim()), 0.5f);
  StatusOr<retrieval::SearchResults> found = ix.Search({.k = 3, .beam = 4}, query);
  FUZZ_CHECK_STATUS(found.ok(), found.status());
  FUZZ_CHECK(found->ids.size() == 3);
  if (ix.CheckInvariantsForTesting().ok()) {
    // Updates rely on the invariants; a file that breaks them is only searched.
    ix.Insert(ix.NextId(), query).IgnoreError();  // May be refused; must not crash.
    ix.Remove(0).IgnoreError();
  }
  return 0;
}
