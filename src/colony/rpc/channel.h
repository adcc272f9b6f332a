// MakeChannel: the one way colony connects to a server, with TLS (mutual when a client
// certificate is given), the request limits and a reconnect backoff that finds a restarted
// server within a second.
//   COLONY_ASSIGN_OR_RETURN(auto channel, rpc::MakeChannel("10.0.0.2:7001",
//                                                          {.tls_ca_file = "ca.pem"}));
//   auto stub = ParameterServer::NewStub(channel);
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/rpc/limits.h"

namespace colony::rpc {

// How the users of a client set each option, for error messages (see ServerSettingNames).
struct ChannelSettingNames {
  std::string ca = "--tls-ca";
  std::string client_cert = "--tls-client-cert";
  std::string client_key = "--tls-client-key";
  std::string plaintext = "--plaintext";
};

struct ChannelOptions {
  // PEM CA certificate that signed the server's; set: TLS. Default: "" (plaintext).
  std::string tls_ca_file{};
  // Mutual TLS: the PEM certificate chain and key this client presents. Needs tls_ca_file.
  // Default: "".
  std::string tls_client_cert_file{};
  std::string tls_client_key_file{};
  // Allow no TLS to an address that is not loopback (a trusted network). Default: false.
  bool plaintext = false;
  RequestLimits limits{};
  // Who calls, for messages: "party a to party b". Default: "client".
  std::string name = "client";
  ChannelSettingNames setting_names{};
  // Optional: makes interceptors that see every call (the federated message taps).
  std::function<std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>()>
      interceptors{};
};

// The credentials of `options`: TLS when tls_ca_file is set. NotFound naming the setting for
// an unreadable PEM file; InvalidArgument for a client certificate without a CA or only one
// of certificate and key.
StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelOptions& options);

// A channel to `address` with `credentials` (from MakeChannelCredentials) and the limits,
// backoff and interceptors of `options`. Makes no checks: for clients that validated their
// addresses already and connect to many servers with one set of credentials.
std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ChannelOptions& options);

// MakeChannelCredentials, then the channel. Also InvalidArgument naming options.name when
// `address` is not loopback and there is no TLS (and not options.plaintext).
StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& address,
                                                     const ChannelOptions& options);

}  // namespace colony::rpc
