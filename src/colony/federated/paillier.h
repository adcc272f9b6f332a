// Paillier additively homomorphic encryption (GMP), for the values one federated party sends
// another: Enc(a) * Enc(b) = Enc(a + b) and Enc(a)^k = Enc(k * a) on integers mod n.
// Plaintexts are signed integers (fixed-point numbers scaled by the caller); a value v < 0
// is stored as n + v and decrypts back to v while |v| < n / 2.
//   COLONY_ASSIGN_OR_RETURN(PaillierPrivateKey key, PaillierPrivateKey::Generate(2048));
//   std::string c = key.public_key().Encrypt(-42);
//   COLONY_ASSIGN_OR_RETURN(std::string m, key.Decrypt(c));  // "-42"
// Randomness (primes, encryption nonces, masks) comes from getrandom(2).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "colony/base/status.h"

namespace colony::fl {

namespace internal {
struct PaillierPublicState;
struct PaillierPrivateState;
}  // namespace internal

// The smallest key both sides accept by default: factoring a 2048-bit n is out of reach, while
// 1024-bit RSA moduli are deprecated (NIST SP 800-131A) and 256-bit ones factor in seconds.
constexpr int kMinPaillierKeyBits = 2048;
// The largest key either side accepts: bounds what a peer's key can cost to use.
constexpr int kMaxPaillierKeyBits = 8192;

// Which key sizes are accepted: [kMinPaillierKeyBits, kMaxPaillierKeyBits] by default.
struct PaillierKeyPolicy {
  // Accepts keys down to 256 bits, which offer no security. For tests only, where 2048-bit keys
  // would make every run slow. Default: false.
  bool allow_insecure_key_bits_for_tests = false;
  int min_bits() const { return allow_insecure_key_bits_for_tests ? 256 : kMinPaillierKeyBits; }
};

// Encrypts and combines ciphertexts. Ciphertexts are big-endian bytes of integers mod n^2.
// Thread-compatible: const methods may run concurrently.
class PaillierPublicKey {
 public:
  // The key from the big-endian bytes of n (public_key().n_bytes() of the key holder).
  // InvalidArgument when n is even or its bits are outside [policy.min_bits(),
  // kMaxPaillierKeyBits].
  static StatusOr<PaillierPublicKey> FromBytes(std::string_view n_bytes,
                                               const PaillierKeyPolicy& policy = {});
  PaillierPublicKey(const PaillierPublicKey&);
  PaillierPublicKey& operator=(const PaillierPublicKey&);
  ~PaillierPublicKey();

  std::string n_bytes() const;
  int bits() const;  // Bits of n.
  // Enc(m) with a fresh random nonce.
  std::string Encrypt(int64_t m) const;
  // Enc(sum_i weights[i] * Dec(ciphertexts[i]) + add), where `add` is a signed decimal
  // integer. InvalidArgument for a ciphertext that is not in [1, n^2) or a bad `add`.
  // REQUIRES: ciphertexts.size() == weights.size().
  StatusOr<std::string> WeightedSum(std::span<const std::string> ciphertexts,
                                    std::span<const int64_t> weights, std::string_view add) const;

 private:
  friend class PaillierPrivateKey;
  explicit PaillierPublicKey(std::unique_ptr<internal::PaillierPublicState> state);
  std::unique_ptr<internal::PaillierPublicState> state_;
};

// The key holder's side: decrypts. Thread-compatible.
class PaillierPrivateKey {
 public:
  // New primes p, q of key_bits / 2 bits each. InvalidArgument unless key_bits is a multiple
  // of 64 in [policy.min_bits(), kMaxPaillierKeyBits].
  static StatusOr<PaillierPrivateKey> Generate(int key_bits, const PaillierKeyPolicy& policy = {});
  PaillierPrivateKey(PaillierPrivateKey&&) noexcept;
  PaillierPrivateKey& operator=(PaillierPrivateKey&&) noexcept;
  ~PaillierPrivateKey();

  const PaillierPublicKey& public_key() const { return public_key_; }
  // Enc(m) as public_key().Encrypt(m) computes it, but about 3x faster: the key holder knows
  // p and q and computes r^n mod p^2 and mod q^2 with reduced exponents (CRT).
  std::string Encrypt(int64_t m) const;
  // The signed plaintext as a decimal integer. InvalidArgument for bytes that are not a
  // ciphertext of this key.
  StatusOr<std::string> Decrypt(std::string_view ciphertext) const;

 private:
  PaillierPrivateKey(PaillierPublicKey public_key,
                     std::unique_ptr<internal::PaillierPrivateState> state);
  PaillierPublicKey public_key_;
  std::unique_ptr<internal::PaillierPrivateState> state_;
};

// A uniformly random non-negative integer below 2^bits, as a decimal string (for masks).
std::string RandomDecimal(int bits);

// (masked - mask) / 2^scale_bits as a double: removes an additive mask from a decrypted
// value and undoes a fixed-point scale. InvalidArgument for a malformed decimal.
StatusOr<double> UnmaskDecimal(std::string_view masked, std::string_view mask, int scale_bits);

}  // namespace colony::fl
