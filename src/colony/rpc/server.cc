#include "colony/rpc/server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>

#include "colony/rpc/internal/pem.h"
#include "colony/rpc/loopback.h"

namespace colony::rpc {
namespace {

Status CheckTransport(const ServerOptions& o) {
  const ServerSettingNames& n = o.setting_names;
  const ServerTlsOptions& tls = o.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgumentError(o.name + ": TLS needs both " + n.cert + " and " + n.key);
  }
  if (tls.cert_file.empty() && !tls.client_ca_file.empty()) {
    return InvalidArgumentError(o.name + ": " + n.client_ca + " needs " + n.cert + " and " +
                                n.key + " (client certificates are checked over TLS)");
  }
  if (IsLoopbackAddress(o.address)) return OkStatus();
  if (tls.cert_file.empty() && !o.plaintext) {
    return InvalidArgumentError(o.name + ": " + o.address + " is not loopback: set " + n.cert +
                                " and " + n.key + " (scripts/make-certs.sh makes them), or " +
                                n.plaintext + " on a trusted network");
  }
  if (o.token.empty()) {
    return InvalidArgumentError(o.name + ": " + o.address +
                                " is not loopback, so every call must carry a token: set " +
                                n.token);
  }
  return OkStatus();
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerOptions& o) {
  if (o.tls.cert_file.empty()) return grpc::InsecureServerCredentials();
  const ServerSettingNames& n = o.setting_names;
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  COLONY_ASSIGN_OR_RETURN(pair.cert_chain, internal::ReadPem(o.name, n.cert, o.tls.cert_file));
  COLONY_ASSIGN_OR_RETURN(pair.private_key, internal::ReadPem(o.name, n.key, o.tls.key_file));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls.client_ca_file.empty()) {
    COLONY_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            internal::ReadPem(o.name, n.client_ca, o.tls.client_ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Server::Server(std::unique_ptr<grpc::Server> server, int port, int shutdown_grace_ms)
    : server_(std::move(server)), port_(port), shutdown_grace_ms_(shutdown_grace_ms) {}

Server::~Server() { Shutdown(); }

void Server::Wait() { server_->Wait(); }

void Server::Shutdown() {
  if (shut_down_.exchange(true)) return;
  // Probes and Watch streams learn first; then new calls are refused.
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->Shutdown();
  }
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(shutdown_grace_ms_));
}

StatusOr<std::unique_ptr<Server>> StartServer(const ServerOptions& options,
                                              const std::vector<HostedService>& services) {
  COLONY_RETURN_IF_ERROR(options.limits.Validate().WithContext(options.name));
  if (options.shutdown_grace_ms < 0) {
    return InvalidArgumentError(options.name + ": shutdown_grace_ms must be >= 0");
  }
  COLONY_RETURN_IF_ERROR(CheckTransport(options));
  COLONY_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                          Credentials(options));
  // Process-wide, read by every builder: all colony servers answer grpc.health.v1.Health.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, credentials, &port);
  builder.SetMaxReceiveMessageSize(options.limits.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.limits.max_send_message_bytes);
  for (const HostedService& s : services) builder.RegisterService(s.service);
  if (options.interceptors) builder.experimental().SetInterceptorCreators(options.interceptors());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return UnavailableError(options.name + " cannot listen on '" + options.address +
                            "'; is the port in use or the address not local?");
  }
  if (grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService()) {
    for (const HostedService& s : services) health->SetServingStatus(s.name, true);
  }
  return std::make_unique<Server>(std::move(server), port, options.shutdown_grace_ms);
}

}  // namespace colony::rpc
