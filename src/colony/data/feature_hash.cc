#include "colony/data/feature_hash.h"

#include <cstring>

namespace colony::data {

uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = Mix64(bytes.size() ^ 0x2545f4914f6cdd1dULL);
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = Mix64(h ^ word);
  }
  if (i < bytes.size()) {
    uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, bytes.size() - i);
    h = Mix64(h ^ word ^ 0xff51afd7ed558ccdULL);
  }
  return h;
}

}  // namespace colony::data
