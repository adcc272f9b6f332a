#include "colony/federated/internal/secure_mask.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace colony::fl::internal {

StatusOr<MaskKeyPair> GenerateMaskKeys() {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialize");
  unsigned char secret[crypto_scalarmult_SCALARBYTES];
  unsigned char public_key[crypto_scalarmult_BYTES];
  randombytes_buf(secret, sizeof(secret));
  crypto_scalarmult_base(public_key, secret);
  MaskKeyPair keys;
  keys.secret_key.assign(reinterpret_cast<char*>(secret), sizeof(secret));
  keys.public_key.assign(reinterpret_cast<char*>(public_key), sizeof(public_key));
  sodium_memzero(secret, sizeof(secret));
  return keys;
}

StatusOr<std::vector<uint64_t>> PairwiseMask(const MaskKeyPair& self_keys, int self,
                                             const std::vector<std::pair<int, std::string>>& peers,
                                             int round, size_t dim) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialize");
  std::vector<uint64_t> mask(dim, 0), stream(dim);
  for (const auto& [peer, peer_key] : peers) {
    if (peer == self) continue;
    if (peer_key.size() != crypto_scalarmult_BYTES) {
      return InvalidArgumentError("child " + std::to_string(peer) + "'s public key has " +
                                  std::to_string(peer_key.size()) + " bytes, want " +
                                  std::to_string(crypto_scalarmult_BYTES));
    }
    unsigned char shared[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(shared,
                          reinterpret_cast<const unsigned char*>(self_keys.secret_key.data()),
                          reinterpret_cast<const unsigned char*>(peer_key.data())) != 0) {
      return InvalidArgumentError("child " + std::to_string(peer) + "'s public key is invalid");
    }
    // Both ends hash the shared point with the two public keys in a fixed order.
    const std::string& low = self < peer ? self_keys.public_key : peer_key;
    const std::string& high = self < peer ? peer_key : self_keys.public_key;
    unsigned char key[crypto_stream_chacha20_KEYBYTES];
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, sizeof(key));
    crypto_generichash_update(&state, shared, sizeof(shared));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(low.data()),
                              low.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(high.data()),
                              high.size());
    crypto_generichash_final(&state, key, sizeof(key));
    sodium_memzero(shared, sizeof(shared));
    unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
    const uint64_t r = static_cast<uint64_t>(round);
    std::memcpy(nonce, &r, std::min(sizeof(r), sizeof(nonce)));
    crypto_stream_chacha20(reinterpret_cast<unsigned char*>(stream.data()),
                           stream.size() * sizeof(uint64_t), nonce, key);
    sodium_memzero(key, sizeof(key));
    for (size_t i = 0; i < dim; ++i) mask[i] += self < peer ? stream[i] : 0 - stream[i];
  }
  return mask;
}

std::vector<uint64_t> EncodeFixed(std::span<const float> values, double weight) {
  std::vector<uint64_t> out(values.size());
  const double scale = std::ldexp(weight, kMaskFractionBits);
  for (size_t i = 0; i < values.size(); ++i) {
    out[i] = static_cast<uint64_t>(static_cast<int64_t>(std::llround(values[i] * scale)));
  }
  return out;
}

std::vector<float> DecodeFixed(std::span<const uint64_t> sum, double total_weight) {
  std::vector<float> out(sum.size());
  const double scale = std::ldexp(total_weight, kMaskFractionBits);
  for (size_t i = 0; i < sum.size(); ++i) {
    out[i] = static_cast<float>(static_cast<double>(static_cast<int64_t>(sum[i])) / scale);
  }
  return out;
}

}  // namespace colony::fl::internal
