#include "colony/rpc/loopback.h"

#include <gtest/gtest.h>

namespace colony::rpc {
namespace {

TEST(IsLoopbackAddressTest, DecidesFromTheResolvedAddresses) {
  const struct {
    const char* address;
    bool loopback;
  } cases[] = {
      {"127.0.0.1", true},
      {"127.0.0.1:7001", true},
      {"127.1.2.3:9", true},
      {"127.8.0.1", true},
      {"[::1]:5", true},
      {"::1", true},
      {"localhost:1", true},
      {"localhost", true},
      // A name that merely starts like a loopback address is not one (it does not resolve
      // here, and were it registered it would point wherever its owner likes).
      {"127.evil.example:1", false},
      {"127.0.0.1.evil.example", false},
      {"0.0.0.0", false},
      {"0.0.0.0:7001", false},
      {"[::]:7001", false},
      {"192.0.2.1:7001", false},
      {"10.0.0.1", false},
      {"128.0.0.1:1", false},
      {"[fe80::1]:7001", false},
      {"ps0:7001", false},
      {"", false},
      {":7001", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsLoopbackAddress(c.address), c.loopback) << c.address;
  }
}

TEST(HostOfAddressTest, SplitsThePort) {
  EXPECT_EQ(HostOfAddress("[::1]:5"), "::1");
  EXPECT_EQ(HostOfAddress("h.example:7001"), "h.example");
  EXPECT_EQ(HostOfAddress("::1"), "::1");
  EXPECT_EQ(HostOfAddress("h"), "h");
}

}  // namespace
}  // namespace colony::rpc
