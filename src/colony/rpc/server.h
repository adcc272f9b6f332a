// StartServer: the one way colony starts a gRPC server. It applies the transport rules every
// service shares: TLS (mutual when a client CA is given), a shared token, request limits, the
// standard health service (grpc.health.v1.Health, answering without a token) and, off
// loopback, a refusal to start without a token or (unless plaintext) without TLS.
//   rpc::ServerOptions options{.name = "parameter server", .address = "0.0.0.0:7001"};
//   options.token = token;
//   options.tls = {.cert_file = "server.pem", .key_file = "server.key"};
//   COLONY_ASSIGN_OR_RETURN(auto server, rpc::StartServer(options,
//       {{service.get(), ParameterServer::service_full_name()}}));
//   server->port();      // The port picked when the address asked for port 0.
//   server->Shutdown();  // Health turns NOT_SERVING; calls in flight get a grace period.
// Handlers check the token themselves, through rpc::Serve (serve.h).
#pragma once

#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/rpc/limits.h"

namespace colony::rpc {

struct ServerTlsOptions {
  // PEM certificate chain and private key (scripts/make-certs.sh). Both set: TLS; both empty:
  // plaintext. Default: "".
  std::string cert_file{};
  std::string key_file{};
  // Mutual TLS: PEM CA a client's certificate must be signed by; a client without one fails
  // the handshake. Needs cert_file. Default: "" (clients are not asked for a certificate).
  std::string client_ca_file{};
};

// How the users of a service set each option, for error messages ("set --tls-cert"); the
// command-line flags by default, the federated configs' YAML keys for theirs.
struct ServerSettingNames {
  std::string cert = "--tls-cert";
  std::string key = "--tls-key";
  std::string client_ca = "--tls-client-ca";
  std::string token = "--token-file (or COLONY_TOKEN)";
  std::string plaintext = "--plaintext";
};

struct ServerOptions {
  // Who serves, for messages: "parameter server", "child 0". Default: "server".
  std::string name = "server";
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free port.
  ServerTlsOptions tls{};
  // Shared secret every call must carry (token.h); empty accepts any call. Required when the
  // address is not loopback. Default: "".
  std::string token{};
  // Allow no TLS on an address that is not loopback (a trusted network). Default: false.
  bool plaintext = false;
  RequestLimits limits{};
  // Calls still running when Shutdown starts get this long before they are cancelled.
  // Default: 2000 ms.
  int shutdown_grace_ms = 2000;
  ServerSettingNames setting_names{};
  // Optional: makes interceptors that see every call (the federated message taps).
  std::function<std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>()>
      interceptors{};
};

// One service a server hosts.
struct HostedService {
  grpc::Service* service;  // Not owned; must outlive the server.
  // Its proto full name (the generated class's service_full_name()): the health service
  // answers SERVING for it, as for "" (the whole server).
  std::string name{};
};

// A running server. Thread-safe; destroying it shuts it down.
class Server {
 public:
  Server(std::unique_ptr<grpc::Server> server, int port, int shutdown_grace_ms);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  // Blocks until the server has shut down.
  void Wait();
  // Turns health NOT_SERVING (Watch streams see it), stops taking calls and gives the calls in
  // flight the grace period before cancelling them. Later calls do nothing.
  void Shutdown();

 private:
  std::unique_ptr<grpc::Server> server_;
  const int port_;
  const int shutdown_grace_ms_;
  std::atomic<bool> shut_down_{false};
};

// Starts a server for `services` on options.address.
// InvalidArgument naming options.name when the address is not loopback and there is no
// token, or no TLS and not plaintext; for only one of cert and key, a client CA without TLS,
// or bad limits. NotFound naming the setting for an unreadable PEM file. Unavailable when the
// address cannot be bound.
StatusOr<std::unique_ptr<Server>> StartServer(const ServerOptions& options,
                                              const std::vector<HostedService>& services);

}  // namespace colony::rpc
