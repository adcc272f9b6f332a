// Pairwise masks for secure aggregation (libsodium): each pair of children agrees on a key
// by X25519, expands it per round into a ChaCha20 stream, and one adds what the other
// subtracts, so the masks cancel in the sum of all updates. Updates are fixed point in
// Z/2^64. Private to federated.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl::internal {

constexpr int kMaskFractionBits = 24;

struct MaskKeyPair {
  std::string public_key;  // 32 bytes.
  std::string secret_key;  // 32 bytes.
};
// Internal error when libsodium cannot start.
StatusOr<MaskKeyPair> GenerateMaskKeys();

// sum over `peers` (index, public key) of +PRG(k_self,peer) for self < peer and -PRG for
// self > peer, for `round`, `dim` values. InvalidArgument for a bad public key.
StatusOr<std::vector<uint64_t>> PairwiseMask(const MaskKeyPair& self_keys, int self,
                                             const std::vector<std::pair<int, std::string>>& peers,
                                             int round, size_t dim);

// round(weight * value * 2^kMaskFractionBits) in two's complement.
std::vector<uint64_t> EncodeFixed(std::span<const float> values, double weight);
// The inverse for a sum: value / 2^kMaskFractionBits / total_weight.
std::vector<float> DecodeFixed(std::span<const uint64_t> sum, double total_weight);

}  // namespace colony::fl::internal
