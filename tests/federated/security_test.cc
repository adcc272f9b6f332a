// Auth of the federated services: a shared token on the horizontal children and vertical
// party B (a call without it or with another is rejected, with a message saying which), TLS
// with a private CA on 127.0.0.1, mutual TLS (client certificates checked against a CA),
// addresses off loopback refused without TLS, and the `security` config keys.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>

#include "colony/federated/horizontal.h"
#include "colony/federated/vertical.h"
#include "federated/test_util.h"
#include "testing/status_matchers.h"

namespace colony::fl {
namespace {

using ::colony::fl::testing::WriteTemp;
using ::colony::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kTiny[] = R"(horizontal:
  data:
    train_samples: 300
    test_samples: 100
  encoder:
    hidden: [8]
  train:
    rounds: 1
    round_timeout_s: 30
)";

HorizontalConfig Tiny(const std::vector<std::string>& overrides = {}) {
  return testing::LoadHorizontal("sec_tiny.yaml", kTiny, overrides);
}

ServiceSecurity Sec(std::string token, std::string cert = "", std::string key = "",
                    std::string ca = "") {
  ServiceSecurity s;
  s.token = std::move(token);
  s.tls_cert = std::move(cert);
  s.tls_key = std::move(key);
  s.tls_ca = std::move(ca);
  return s;
}

PartyAOptions ToPeer(const std::string& peer) {
  PartyAOptions options;
  options.peer = peer;
  options.quiet = true;
  return options;
}

PartyBOptions At(const std::string& address) {
  PartyBOptions options;
  options.address = address;
  return options;
}

// Two in-process children with `child` security, the master with `master` security.
StatusOr<MasterResult> RunWith(const ServiceSecurity& child, const ServiceSecurity& master,
                               double timeout_s = 30) {
  HorizontalConfig child_config = Tiny();
  child_config.security = child;
  HorizontalConfig master_config = Tiny();
  master_config.security = master;
  master_config.train.round_timeout_s = timeout_s;
  return testing::RunHorizontalSession(master_config, 2, &child_config);
}

TEST(FlSecurityTest, ChildRejectsAMasterWithoutOrWithAnotherToken) {
  const ServiceSecurity child = Sec("s3cret");
  EXPECT_THAT(RunWith(child, Sec("")).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("missing token")));
  EXPECT_THAT(RunWith(child, Sec("guess")).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("wrong token")));
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult ok, RunWith(child, Sec("s3cret")));
  EXPECT_EQ(ok.rounds.size(), 1u);
}

std::string MakeCerts(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/colony_fl_" + name + "_" + std::to_string(getpid());
  EXPECT_EQ(std::system(("bash scripts/make-certs.sh " + dir + " >/dev/null").c_str()), 0);
  return dir;
}

TEST(FlSecurityTest, TlsWithAPrivateCaAndToken) {
  const std::string dir = MakeCerts("certs");
  const ServiceSecurity child = Sec("t", dir + "/server.pem", dir + "/server.key");
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult ok, RunWith(child, Sec("t", "", "", dir + "/ca.pem")));
  EXPECT_EQ(ok.rounds.size(), 1u);
  // A plaintext master cannot talk to a TLS child.
  EXPECT_THAT(RunWith(child, Sec("t"), /*timeout_s=*/1).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("confirm")));
}

TEST(FlSecurityTest, MutualTlsAdmitsOnlyMastersWithACertificateFromTheClientCa) {
  const std::string ours = MakeCerts("mtls_ours"), theirs = MakeCerts("mtls_theirs");
  ServiceSecurity child = Sec("", ours + "/server.pem", ours + "/server.key");
  child.tls_client_ca = ours + "/ca.pem";
  auto master = [&](const std::string& client_dir) {
    ServiceSecurity s = Sec("", "", "", ours + "/ca.pem");
    if (!client_dir.empty()) {
      s.tls_client_cert = client_dir + "/client.pem";
      s.tls_client_key = client_dir + "/client.key";
    }
    return s;
  };
  COLONY_ASSERT_OK_AND_ASSIGN(MasterResult ok, RunWith(child, master(ours)));
  EXPECT_EQ(ok.rounds.size(), 1u);
  // No client certificate, or one from another CA: the handshake fails.
  EXPECT_THAT(RunWith(child, master(""), /*timeout_s=*/2).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("confirm")));
  EXPECT_THAT(RunWith(child, master(theirs), /*timeout_s=*/2).status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("confirm")));
  // A client certificate without TLS, or a client CA on a server without TLS, is refused.
  ServiceSecurity no_tls = master(ours);
  no_tls.tls_ca.clear();
  EXPECT_THAT(RunWith(Sec(""), no_tls).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tls_client_cert needs")));
  ServiceSecurity plain_child = Sec("");
  plain_child.tls_client_ca = ours + "/ca.pem";
  EXPECT_THAT(RunWith(plain_child, master(ours)).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tls_client_ca needs")));
}

TEST(FlSecurityTest, AddressesOffLoopbackNeedTlsOrPlaintext) {
  const HorizontalConfig config = Tiny();
  MasterOptions master;
  master.children = {"192.0.2.1:7311"};
  master.quiet = true;
  EXPECT_THAT(HorizontalChild::Start(
                  config, {.index = 0, .children = 1, .address = "0.0.0.0:0", .observer = nullptr})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("0.0.0.0:0 is not loopback: set security.tls_cert")));
  EXPECT_THAT(RunHorizontalMaster(config, master).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("192.0.2.1:7311 is not loopback: set security.tls_ca")));
  VerticalConfig vertical;
  vertical.party_a.format = vertical.party_b.format = "sklearn_diabetes";
  vertical.party_a.with_label = true;
  vertical.party_a.columns = {0, 1};
  vertical.party_b.columns = {2, 3};
  EXPECT_THAT(VerticalPartyB::Start(vertical, At("0.0.0.0:0")).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not loopback")));
  EXPECT_THAT(RunVerticalPartyA(vertical, ToPeer("192.0.2.1:7301")).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not loopback")));
}

TEST(FlSecurityTest, PartyBRejectsPartyAWithAnotherToken) {
  VerticalConfig config;
  config.party_a.format = config.party_b.format = "sklearn_diabetes";
  config.party_a.with_label = true;
  config.party_a.columns = {0, 1, 2};
  config.party_b.columns = {3, 4, 5};
  config.train.iterations = 5;
  config.security.token = "b-token";
  COLONY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<VerticalPartyB> b,
                              VerticalPartyB::Start(config, At("127.0.0.1:0")));
  const std::string peer = "127.0.0.1:" + std::to_string(b->port());
  VerticalConfig a = config;
  a.security.token = "other";
  EXPECT_THAT(RunVerticalPartyA(a, ToPeer(peer)).status(),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("wrong token")));
  a.security.token.clear();
  EXPECT_THAT(RunVerticalPartyA(a, ToPeer(peer)).status(),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("missing token")));
  COLONY_ASSERT_OK_AND_ASSIGN(PartyAResult ok, RunVerticalPartyA(config, ToPeer(peer)));
  COLONY_ASSERT_OK(b->Wait());
}

TEST(FlSecurityTest, MissingCertificateFilesAreNamed) {
  HorizontalConfig config = Tiny();
  config.security = Sec("", "no_such_dir/server.pem", "no_such_dir/server.key");
  EXPECT_THAT(
      HorizontalChild::Start(
          config, {.index = 0, .children = 1, .address = "127.0.0.1:0", .observer = nullptr})
          .status(),
      StatusIs(StatusCode::kNotFound,
               HasSubstr("child 0: security.tls_cert: cannot open 'no_such_dir/server.pem'")));
  config.security = Sec("", "", "", "no_such_dir/ca.pem");
  MasterOptions master;
  master.children = {"127.0.0.1:7311"};
  master.quiet = true;
  EXPECT_THAT(RunHorizontalMaster(config, master).status(),
              StatusIs(StatusCode::kNotFound, HasSubstr("security.tls_ca: cannot open")));
}

TEST(FlSecurityTest, ConfigKeys) {
  const std::string path = WriteTemp("sec_keys.yaml", kTiny);
  ::unsetenv("COLONY_FL_TEST_TOKEN");
  EXPECT_THAT(
      LoadHorizontalConfig(path, {"horizontal.security.token_env=COLONY_FL_TEST_TOKEN"}).status(),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("environment variable COLONY_FL_TEST_TOKEN is not set")));
  ::setenv("COLONY_FL_TEST_TOKEN", "from-env", 1);
  COLONY_ASSERT_OK_AND_ASSIGN(
      HorizontalConfig c,
      LoadHorizontalConfig(path, {"horizontal.security.token_env=COLONY_FL_TEST_TOKEN"}));
  EXPECT_EQ(c.security.token, "from-env");
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.token_env=COLONY_FL_TEST_TOKEN",
                                          "horizontal.security.token=x"})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("set token or token_env")));
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.tls_cert=a.pem"}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("needs both tls_cert and tls_key")));
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.tls_client_cert=c.pem"}).status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("needs both tls_client_cert and tls_client_key")));
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.tls_client_cert=c.pem",
                                          "horizontal.security.tls_client_key=c.key"})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("set tls_ca")));
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.tls_client_ca=ca.pem"}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("set tls_cert and tls_key too")));
  EXPECT_THAT(LoadHorizontalConfig(path, {"horizontal.security.tokn=x"}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tokn")));
}

}  // namespace
}  // namespace colony::fl
