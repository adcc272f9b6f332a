#include "colony/federated/paillier.h"

#include <gmpxx.h>
#include <sys/random.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace colony::fl {
namespace internal {

struct PaillierPublicState {
  mpz_class n, n_squared, half_n;
  int bits = 0;
};

struct PaillierPrivateState {
  mpz_class lambda, mu;
  // CRT for the key holder's encryptions: n^2 = p^2 q^2.
  mpz_class p_squared, q_squared, exp_p, exp_q, p_squared_inverse;  // exp_p = n mod p(p-1).
};

}  // namespace internal

namespace {

using internal::PaillierPrivateState;
using internal::PaillierPublicState;

// Fills `out` from the kernel's CSPRNG; getrandom may return fewer bytes than asked.
void RandomBytes(unsigned char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t got = getrandom(out + done, size - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(got);
  }
}

mpz_class RandomBits(int bits) {
  std::string bytes((bits + 7) / 8, '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size());
  mpz_class value;
  mpz_import(value.get_mpz_t(), bytes.size(), 1, 1, 1, 0, bytes.data());
  mpz_fdiv_r_2exp(value.get_mpz_t(), value.get_mpz_t(), bits);
  return value;
}

std::string ToBytes(const mpz_class& value) {
  size_t count = 0;
  void* raw = mpz_export(nullptr, &count, 1, 1, 1, 0, value.get_mpz_t());
  std::string bytes(static_cast<const char*>(raw), count);
  void (*free_fn)(void*, size_t);
  mp_get_memory_functions(nullptr, nullptr, &free_fn);
  free_fn(raw, count);
  return bytes;
}

mpz_class FromBytes(std::string_view bytes) {
  mpz_class value;
  mpz_import(value.get_mpz_t(), bytes.size(), 1, 1, 1, 0, bytes.data());
  return value;
}

StatusOr<mpz_class> ParseDecimal(std::string_view text, std::string_view what) {
  mpz_class value;
  if (text.empty() || mpz_set_str(value.get_mpz_t(), std::string(text).c_str(), 10) != 0) {
    return InvalidArgumentError(std::string(what) + " '" + std::string(text.substr(0, 40)) +
                                "' is not a decimal integer");
  }
  return value;
}

mpz_class FromInt64(int64_t v) {
  mpz_class value;
  // mpz_class has no int64_t constructor on every platform; go through two halves.
  const uint64_t magnitude = v < 0 ? uint64_t(0) - static_cast<uint64_t>(v) : uint64_t(v);
  mpz_import(value.get_mpz_t(), 1, 1, sizeof(magnitude), 0, 0, &magnitude);
  if (v < 0) value = -value;
  return value;
}

mpz_class RandomUnit(const PaillierPublicState& s) {
  mpz_class r;
  do {
    r = RandomBits(s.bits) % s.n;
  } while (r == 0 || gcd(r, s.n) != 1);
  return r;
}

// m mod n for a signed m, then Enc = (1 + m n) r^n mod n^2 (g = n + 1); `rn` is r^n mod n^2.
mpz_class EncryptWith(const PaillierPublicState& s, const mpz_class& m, const mpz_class& rn) {
  mpz_class mm = m % s.n;
  if (mm < 0) mm += s.n;
  mpz_class c = (1 + mm * s.n) % s.n_squared;
  return (c * rn) % s.n_squared;
}

mpz_class EncryptMpz(const PaillierPublicState& s, const mpz_class& m) {
  const mpz_class r = RandomUnit(s);
  mpz_class rn;
  mpz_powm(rn.get_mpz_t(), r.get_mpz_t(), s.n.get_mpz_t(), s.n_squared.get_mpz_t());
  return EncryptWith(s, m, rn);
}

}  // namespace

PaillierPublicKey::PaillierPublicKey(std::unique_ptr<PaillierPublicState> state)
    : state_(std::move(state)) {}
PaillierPublicKey::PaillierPublicKey(const PaillierPublicKey& other)
    : state_(std::make_unique<PaillierPublicState>(*other.state_)) {}
PaillierPublicKey& PaillierPublicKey::operator=(const PaillierPublicKey& other) {
  if (this != &other) state_ = std::make_unique<PaillierPublicState>(*other.state_);
  return *this;
}
PaillierPublicKey::~PaillierPublicKey() = default;

StatusOr<PaillierPublicKey> PaillierPublicKey::FromBytes(std::string_view n_bytes,
                                                        const PaillierKeyPolicy& policy) {
  // Checked on the byte count first, so that a huge n costs nothing to refuse.
  if (n_bytes.size() > kMaxPaillierKeyBits / 8 + 1) {
    return InvalidArgumentError("Paillier public key: n has " + std::to_string(n_bytes.size()) +
                                " bytes; at most " + std::to_string(kMaxPaillierKeyBits) +
                                " bits are accepted");
  }
  auto state = std::make_unique<PaillierPublicState>();
  state->n = fl::FromBytes(n_bytes);
  state->bits = static_cast<int>(mpz_sizeinbase(state->n.get_mpz_t(), 2));
  if (state->bits < policy.min_bits() || state->bits > kMaxPaillierKeyBits ||
      mpz_even_p(state->n.get_mpz_t())) {
    return InvalidArgumentError(
        "Paillier public key: n has " + std::to_string(state->bits) +
        " bits or is even; need an odd n of " + std::to_string(policy.min_bits()) + " to " +
        std::to_string(kMaxPaillierKeyBits) + " bits" +
        (policy.allow_insecure_key_bits_for_tests ? "" : " (paillier.key_bits >= 2048)"));
  }
  state->n_squared = state->n * state->n;
  state->half_n = state->n / 2;
  return PaillierPublicKey(std::move(state));
}

std::string PaillierPublicKey::n_bytes() const { return ToBytes(state_->n); }
int PaillierPublicKey::bits() const { return state_->bits; }

std::string PaillierPublicKey::Encrypt(int64_t m) const {
  return ToBytes(EncryptMpz(*state_, FromInt64(m)));
}

StatusOr<std::string> PaillierPublicKey::WeightedSum(std::span<const std::string> ciphertexts,
                                                     std::span<const int64_t> weights,
                                                     std::string_view add) const {
  const PaillierPublicState& s = *state_;
  COLONY_ASSIGN_OR_RETURN(mpz_class plain, ParseDecimal(add, "WeightedSum: add"));
  // Positive and negative weights go into separate products, so that a single inversion
  // serves all negative terms: prod c_i^{w_i} over w_i > 0 times (prod c_i^{|w_i|})^{-1}.
  mpz_class positive = 1, negative = 1, term, c;
  for (size_t i = 0; i < ciphertexts.size(); ++i) {
    if (weights[i] == 0) continue;
    c = fl::FromBytes(ciphertexts[i]);
    if (c <= 0 || c >= s.n_squared) {
      return InvalidArgumentError("WeightedSum: ciphertext " + std::to_string(i) +
                                  " is not an integer in [1, n^2)");
    }
    const mpz_class exponent = abs(FromInt64(weights[i]));
    mpz_powm(term.get_mpz_t(), c.get_mpz_t(), exponent.get_mpz_t(), s.n_squared.get_mpz_t());
    mpz_class& product = weights[i] > 0 ? positive : negative;
    product = (product * term) % s.n_squared;
  }
  mpz_class inverse;
  if (mpz_invert(inverse.get_mpz_t(), negative.get_mpz_t(), s.n_squared.get_mpz_t()) == 0) {
    return InvalidArgumentError("WeightedSum: a ciphertext shares a factor with n");
  }
  const mpz_class sum = (positive * inverse) % s.n_squared;
  return ToBytes((sum * EncryptMpz(s, plain)) % s.n_squared);
}

PaillierPrivateKey::PaillierPrivateKey(PaillierPublicKey public_key,
                                       std::unique_ptr<PaillierPrivateState> state)
    : public_key_(std::move(public_key)), state_(std::move(state)) {}
PaillierPrivateKey::PaillierPrivateKey(PaillierPrivateKey&&) noexcept = default;
PaillierPrivateKey& PaillierPrivateKey::operator=(PaillierPrivateKey&&) noexcept = default;
PaillierPrivateKey::~PaillierPrivateKey() = default;

StatusOr<PaillierPrivateKey> PaillierPrivateKey::Generate(int key_bits,
                                                          const PaillierKeyPolicy& policy) {
  if (key_bits < policy.min_bits() || key_bits > kMaxPaillierKeyBits || key_bits % 64 != 0) {
    return InvalidArgumentError(
        "Paillier key_bits must be a multiple of 64 in [" + std::to_string(policy.min_bits()) +
        ", " + std::to_string(kMaxPaillierKeyBits) + "], got " + std::to_string(key_bits) +
        (policy.allow_insecure_key_bits_for_tests || key_bits >= kMinPaillierKeyBits
             ? ""
             : "; smaller keys are not secure"));
  }
  const int half = key_bits / 2;
  auto random_prime = [half] {
    mpz_class candidate = RandomBits(half);
    mpz_setbit(candidate.get_mpz_t(), half - 1);  // Full length, so n has key_bits bits.
    mpz_setbit(candidate.get_mpz_t(), half - 2);
    mpz_class prime;
    mpz_nextprime(prime.get_mpz_t(), candidate.get_mpz_t());
    return prime;
  };
  mpz_class p, q, n;
  do {
    p = random_prime();
    q = random_prime();
    n = p * q;
  } while (p == q || static_cast<int>(mpz_sizeinbase(n.get_mpz_t(), 2)) != key_bits);
  auto priv = std::make_unique<PaillierPrivateState>();
  mpz_class p1 = p - 1, q1 = q - 1;
  mpz_lcm(priv->lambda.get_mpz_t(), p1.get_mpz_t(), q1.get_mpz_t());
  // With g = n + 1, L(g^lambda mod n^2) = lambda mod n, so mu = lambda^{-1} mod n.
  if (mpz_invert(priv->mu.get_mpz_t(), priv->lambda.get_mpz_t(), n.get_mpz_t()) == 0) {
    return InternalError("Paillier key generation: lambda is not invertible mod n");
  }
  priv->p_squared = p * p;
  priv->q_squared = q * q;
  priv->exp_p = n % (p * p1);  // r^n = r^(n mod phi(p^2)) mod p^2 for r coprime to p.
  priv->exp_q = n % (q * q1);
  mpz_invert(priv->p_squared_inverse.get_mpz_t(), priv->p_squared.get_mpz_t(),
             priv->q_squared.get_mpz_t());
  COLONY_ASSIGN_OR_RETURN(PaillierPublicKey public_key,
                          PaillierPublicKey::FromBytes(ToBytes(n), policy));
  return PaillierPrivateKey(std::move(public_key), std::move(priv));
}

std::string PaillierPrivateKey::Encrypt(int64_t m) const {
  const PaillierPublicState& s = *public_key_.state_;
  const PaillierPrivateState& k = *state_;
  const mpz_class r = RandomUnit(s);
  mpz_class xp, xq;
  mpz_powm(xp.get_mpz_t(), r.get_mpz_t(), k.exp_p.get_mpz_t(), k.p_squared.get_mpz_t());
  mpz_powm(xq.get_mpz_t(), r.get_mpz_t(), k.exp_q.get_mpz_t(), k.q_squared.get_mpz_t());
  mpz_class t = ((xq - xp) * k.p_squared_inverse) % k.q_squared;
  if (t < 0) t += k.q_squared;
  const mpz_class rn = xp + k.p_squared * t;  // The CRT combination, r^n mod n^2.
  return ToBytes(EncryptWith(s, FromInt64(m), rn));
}

StatusOr<std::string> PaillierPrivateKey::Decrypt(std::string_view ciphertext) const {
  const PaillierPublicState& s = *public_key_.state_;
  const mpz_class c = fl::FromBytes(ciphertext);
  if (c <= 0 || c >= s.n_squared) {
    return InvalidArgumentError("Decrypt: not a ciphertext of this key (outside [1, n^2))");
  }
  mpz_class x;
  mpz_powm(x.get_mpz_t(), c.get_mpz_t(), state_->lambda.get_mpz_t(), s.n_squared.get_mpz_t());
  mpz_class m = (((x - 1) / s.n) * state_->mu) % s.n;
  if (m > s.half_n) m -= s.n;
  return m.get_str(10);
}

std::string RandomDecimal(int bits) { return RandomBits(bits).get_str(10); }

StatusOr<double> UnmaskDecimal(std::string_view masked, std::string_view mask, int scale_bits) {
  COLONY_ASSIGN_OR_RETURN(mpz_class a, ParseDecimal(masked, "masked value"));
  COLONY_ASSIGN_OR_RETURN(mpz_class b, ParseDecimal(mask, "mask"));
  const mpz_class diff = a - b;
  return mpz_get_d(diff.get_mpz_t()) / std::ldexp(1.0, scale_bits);
}

}  // namespace colony::fl
