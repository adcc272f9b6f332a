#include "colony/rpc/token.h"

#include <sodium.h>

#include <array>
#include <cctype>
#include <mutex>

#include "colony/base/file_util.h"

namespace colony::rpc {
namespace {

constexpr std::string_view kBearer = "Bearer ";

using Digest = std::array<unsigned char, crypto_generichash_BYTES>;

Digest Hash(std::string_view bytes) {
  Digest digest;
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return digest;
}

}  // namespace

bool TokensEqual(std::string_view presented, std::string_view expected) {
  static std::once_flag init;
  std::call_once(init, [] {
    if (sodium_init() < 0) std::abort();  // libsodium cannot run here at all.
  });
  // Digests of equal length compared in constant time: neither the bytes nor the length of
  // `expected` shows in the timing.
  const Digest a = Hash(presented), b = Hash(expected);
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status CheckToken(const grpc::ServerContext& context, const std::string& token) {
  if (token.empty()) return OkStatus();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return UnauthenticatedError(
        "missing token: this server needs every call to carry its token "
        "(\"authorization: Bearer <token>\"); give the client the job's token");
  }
  const std::string_view value(it->second.data(), it->second.size());
  const bool bearer = value.substr(0, kBearer.size()) == kBearer;
  if (!bearer || !TokensEqual(value.substr(bearer ? kBearer.size() : 0), token)) {
    return UnauthenticatedError(
        "wrong token: the caller's token differs from this server's; give the client the "
        "job's token");
  }
  return OkStatus();
}

void AddToken(grpc::ClientContext* context, const std::string& token) {
  if (!token.empty()) context->AddMetadata(kAuthorizationKey, std::string(kBearer) + token);
}

StatusOr<std::string> ReadTokenFile(const std::string& path, const std::string& flag) {
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status().WithContext(flag);
  std::string_view token = *text;
  token = token.substr(0, token.find('\n'));
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.remove_suffix(1);
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) {
    token.remove_prefix(1);
  }
  if (token.empty()) {
    return InvalidArgumentError(flag + " " + path +
                                ": the file holds no token on its first line; write the job's "
                                "token there");
  }
  return std::string(token);
}

}  // namespace colony::rpc
