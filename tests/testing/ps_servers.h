// Real parameter servers on 127.0.0.1 (free ports) for tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "colony/ps/server.h"

namespace colony::testing {

// Starts `count` servers and puts their host:port into *addresses (replacing its contents).
inline std::vector<std::unique_ptr<ps::PsServer>> StartPsServers(
    int count, std::vector<std::string>* addresses) {
  addresses->clear();
  std::vector<std::unique_ptr<ps::PsServer>> servers;
  for (int i = 0; i < count; ++i) {
    auto server = ps::PsServer::Start({});
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) break;
    servers.push_back(std::move(server).value());
    addresses->push_back("127.0.0.1:" + std::to_string(servers.back()->port()));
  }
  return servers;
}

}  // namespace colony::testing
