// Feature ids: how readers turn a raw categorical value into the 64-bit id that embedding tables
// are keyed by. The slot index is mixed in, so equal raw values in different slots get
// different ids. The functions are part of the data format: changing them changes every id.
//   uint64_t id = colony::data::SlotValueId(/*slot=*/3, "68fd1e64");
#pragma once

#include <cstdint>
#include <string_view>

namespace colony::data {

// A bijective 64-bit finalizer (splitmix64's): good avalanche, cheap.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Combines a slot index and a value hash into one id.
inline uint64_t Mix(uint64_t slot, uint64_t value) {
  return Mix64(value ^ Mix64(slot * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

// A 64-bit hash of a byte string, eight bytes at a time.
uint64_t HashBytes(std::string_view bytes);

// The id of raw value `value` in slot `slot`. An empty value (missing) gets the slot's own
// "missing" id, SlotValueId(slot, "").
inline uint64_t SlotValueId(int slot, std::string_view value) {
  return Mix(static_cast<uint64_t>(slot), HashBytes(value));
}

}  // namespace colony::data
