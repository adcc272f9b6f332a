// Fuzzes the item-vector readers (ReadVectors: fvecs, ivecs, npy, csv, idx; plain or gzip).
// The first byte picks the format and a max_vectors limit; the rest is the file. Properties:
// no crash; a refused file is InvalidArgument naming it; an accepted set has n x dim values.
#include <cstdint>
#include <string>

#include "colony/retrieval/vector_file.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace colony;
  using namespace colony::fuzz;
  if (size < 1) return 0;
  const char* formats[] = {"fvecs", "ivecs", "npy", "csv", "idx"};
  const std::string path = ScratchDir() + "/vectors";
  WriteBytes(path, AsText(data + 1, size - 1));
  retrieval::ReadVectorsOptions o;
  o.format = formats[data[0] % 5];
  o.max_vectors = (data[0] & 0x80) ? 2 : 0;
  StatusOr<retrieval::VectorSet> set = retrieval::ReadVectors(path, o);
  if (!set.ok()) {
    FUZZ_CHECK_STATUS(set.status().code() == StatusCode::kInvalidArgument, set.status());
    FUZZ_CHECK(set.status().message().find(path) != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(set->n > 0 && set->dim > 0);
  FUZZ_CHECK(o.max_vectors == 0 || set->n <= o.max_vectors);
  FUZZ_CHECK(static_cast<int64_t>(set->data.size()) == set->n * set->dim);
  return 0;
}
