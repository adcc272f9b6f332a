// Whether an address stays on this machine: a server there may run without TLS or a token.
#pragma once

#include <string>

namespace colony::rpc {

// True when the host of `address` ("host:port", "[v6]:port" or a bare host) resolves
// (getaddrinfo) and every address it resolves to is loopback: 127.0.0.0/8 or ::1.
// "localhost" is loopback; "127.evil.example" is a name like any other (false unless it
// resolves to loopback only), and so are "0.0.0.0", "::" and anything that does not resolve.
bool IsLoopbackAddress(const std::string& address);

// The host part of `address`: "[::1]:5" -> "::1", "h:7001" -> "h", "::1" -> "::1", "h" -> "h".
std::string HostOfAddress(const std::string& address);

}  // namespace colony::rpc
