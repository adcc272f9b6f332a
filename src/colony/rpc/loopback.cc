#include "colony/rpc/loopback.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace colony::rpc {

std::string HostOfAddress(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    const size_t end = address.find(']');
    return end == std::string::npos ? address.substr(1) : address.substr(1, end - 1);
  }
  if (std::count(address.begin(), address.end(), ':') == 1) {
    return address.substr(0, address.find(':'));
  }
  return address;  // A bare host, or a bare IPv6 address ("::1").
}

bool IsLoopbackAddress(const std::string& address) {
  const std::string host = HostOfAddress(address);
  if (host.empty()) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  bool any = false, all_loopback = true;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    any = true;
    if (a->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      all_loopback &= (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      all_loopback &= IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) != 0;
    } else {
      all_loopback = false;
    }
  }
  freeaddrinfo(found);
  return any && all_loopback;
}

}  // namespace colony::rpc
