#include "colony/rpc/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "colony/rpc/internal/pem.h"
#include "colony/rpc/loopback.h"

namespace colony::rpc {

StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelOptions& o) {
  const ChannelSettingNames& n = o.setting_names;
  if (o.tls_client_cert_file.empty() != o.tls_client_key_file.empty()) {
    return InvalidArgumentError(o.name + ": mutual TLS needs both " + n.client_cert + " and " +
                                n.client_key);
  }
  if (o.tls_ca_file.empty()) {
    if (!o.tls_client_cert_file.empty()) {
      return InvalidArgumentError(o.name + ": " + n.client_cert + " needs " + n.ca +
                                  " (a client certificate is presented over TLS)");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  COLONY_ASSIGN_OR_RETURN(ssl.pem_root_certs, internal::ReadPem(o.name, n.ca, o.tls_ca_file));
  if (!o.tls_client_cert_file.empty()) {
    COLONY_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                            internal::ReadPem(o.name, n.client_cert, o.tls_client_cert_file));
    COLONY_ASSIGN_OR_RETURN(ssl.pem_private_key,
                            internal::ReadPem(o.name, n.client_key, o.tls_client_key_file));
  }
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.limits.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.limits.max_send_message_bytes);
  // A restarted server is found again within a second, not gRPC's default of minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  if (!options.interceptors) return grpc::CreateCustomChannel(address, credentials, args);
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 options.interceptors());
}

StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& address,
                                                     const ChannelOptions& options) {
  COLONY_RETURN_IF_ERROR(options.limits.Validate().WithContext(options.name));
  COLONY_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                          MakeChannelCredentials(options));
  if (options.tls_ca_file.empty() && !options.plaintext && !IsLoopbackAddress(address)) {
    const ChannelSettingNames& n = options.setting_names;
    return InvalidArgumentError(options.name + ": " + address + " is not loopback: set " + n.ca +
                                " (scripts/make-certs.sh makes it), or " + n.plaintext +
                                " on a trusted network");
  }
  return MakeChannel(address, credentials, options);
}

}  // namespace colony::rpc
