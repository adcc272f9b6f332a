// The shared-token check of every colony service. A call carries the token as the metadata
// "authorization: Bearer <token>"; a server with a token refuses a call without it
// (Unauthenticated). Comparisons take the same time whatever the bytes (sodium_memcmp over
// BLAKE2b digests), so a caller cannot find the token one byte at a time.
//   grpc::ClientContext context;
//   rpc::AddToken(&context, token);
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony::rpc {

// The metadata key that carries "Bearer <token>".
inline constexpr char kAuthorizationKey[] = "authorization";

// Whether `presented` equals `expected`, in time that depends on neither's bytes or length.
bool TokensEqual(std::string_view presented, std::string_view expected);

// OK when `token` is empty (the server takes any call) or the call carries it; otherwise
// Unauthenticated saying whether it was missing or wrong.
Status CheckToken(const grpc::ServerContext& context, const std::string& token);

// Client side: adds the token to a call's metadata (nothing for an empty token).
void AddToken(grpc::ClientContext* context, const std::string& token);

// The token in the file at `path` (its first line, without surrounding whitespace), so it
// stays off command lines, where `ps` shows it to every user of the machine. NotFound for an
// unreadable file, InvalidArgument for an empty token; both name the file and `flag`.
StatusOr<std::string> ReadTokenFile(const std::string& path, const std::string& flag);

}  // namespace colony::rpc
