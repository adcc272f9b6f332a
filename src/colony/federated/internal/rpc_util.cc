#include "colony/federated/internal/rpc_util.h"

#include "colony/base/file_util.h"
#include "colony/ps/remote_table.h"  // IsLoopbackAddress

namespace colony::fl::internal {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

Status FromGrpcStatus(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return OkStatus();
  std::string message = what + ": " + status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    message += " (is party b running there? start it first with colony fl vertical --role b)";
  }
  return Status(static_cast<StatusCode>(status.error_code()), message);
}

namespace {

constexpr char kAuthorization[] = "authorization";

// The PEM file of security.<key>; an error names who reads it and the key.
StatusOr<std::string> ReadPem(const std::string& who, const char* key, const std::string& path) {
  StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status().WithContext(who + ": security." + key);
  return pem;
}

Status NeedsTls(const std::string& who, const std::string& address, const char* keys) {
  return InvalidArgumentError(who + ": " + address + " is not loopback: set security." + keys +
                              " (scripts/make-certs.sh makes them), or security.plaintext: "
                              "true on a trusted network");
}

}  // namespace

bool IsLoopback(const std::string& address) { return ps::IsLoopbackAddress(address); }

StatusOr<StartedServer> StartServer(const std::string& who, const std::string& address,
                                    grpc::Service* service, MessageTap* tap,
                                    const ServiceSecurity& security) {
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!security.tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    COLONY_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(who, "tls_cert", security.tls_cert));
    COLONY_ASSIGN_OR_RETURN(pair.private_key, ReadPem(who, "tls_key", security.tls_key));
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    if (!security.tls_client_ca.empty()) {
      COLONY_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                              ReadPem(who, "tls_client_ca", security.tls_client_ca));
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  } else if (!security.tls_client_ca.empty()) {
    return InvalidArgumentError(who +
                                ": security.tls_client_ca needs security.tls_cert and "
                                "security.tls_key (client certificates are checked over TLS)");
  } else if (!IsLoopback(address) && !security.plaintext) {
    return NeedsTls(who, address, "tls_cert and security.tls_key");
  }
  StartedServer started;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &started.port);
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.SetMaxSendMessageSize(256 << 20);
  builder.RegisterService(service);
  builder.experimental().SetInterceptorCreators(MakeServerTap(tap));
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return UnavailableError(who + " cannot listen on '" + address +
                            "'; is the port in use or the address not local?");
  }
  return started;
}

StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& who,
                                                     const std::string& address,
                                                     const ServiceSecurity& security,
                                                     MessageTap* tap) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!security.tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    COLONY_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(who, "tls_ca", security.tls_ca));
    if (!security.tls_client_cert.empty()) {
      COLONY_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                              ReadPem(who, "tls_client_cert", security.tls_client_cert));
      COLONY_ASSIGN_OR_RETURN(ssl.pem_private_key,
                              ReadPem(who, "tls_client_key", security.tls_client_key));
    }
    credentials = grpc::SslCredentials(ssl);
  } else if (!security.tls_client_cert.empty()) {
    return InvalidArgumentError(who +
                                ": security.tls_client_cert needs security.tls_ca (a "
                                "client certificate is presented over TLS)");
  } else if (!IsLoopback(address) && !security.plaintext) {
    return NeedsTls(who, address, "tls_ca");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  if (tap == nullptr) return grpc::CreateCustomChannel(address, credentials, args);
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 MakeClientTap(tap));
}

void SessionWaiter::Touch() {
  std::lock_guard<std::mutex> lock(mu_);
  last_call_ = std::chrono::steady_clock::now();
}

void SessionWaiter::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  done_.notify_all();
}

Status SessionWaiter::Wait(const std::atomic<bool>* stop, double idle_s,
                           const std::string& cancelled, const std::string& idle) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!finished_) {
    if (stop != nullptr && *stop) return CancelledError(cancelled);
    if (std::chrono::steady_clock::now() - last_call_ > std::chrono::duration<double>(idle_s)) {
      return DeadlineExceededError(idle);
    }
    done_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return OkStatus();
}

void AddToken(grpc::ClientContext* context, const ServiceSecurity& security) {
  if (!security.token.empty()) context->AddMetadata(kAuthorization, "Bearer " + security.token);
}

grpc::Status CheckToken(const grpc::ServerContext* context, const std::string& token) {
  if (token.empty()) return grpc::Status::OK;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(kAuthorization);
  if (it != metadata.end() &&
      std::string_view(it->second.data(), it->second.size()) == "Bearer " + token) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      it == metadata.end()
                          ? "missing token: this service needs security.token (or token_env) in "
                            "the caller's config"
                          : "wrong token: the caller's security.token differs from this "
                            "service's");
}

void MessageTap::Record(const std::string& method, const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string data;
  if (buffer.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices)
      data.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  bytes += static_cast<int64_t>(data.size());
  if (observer) observer(FlMessage{sender, method, std::move(data)});
}

namespace {

template <typename Methods>
void TapSend(MessageTap* tap, const std::string& method, Methods* methods) {
  if (methods->QueryInterceptionHookPoint(
          grpc::experimental::InterceptionHookPoints::PRE_SEND_MESSAGE)) {
    const grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage();
    if (buffer != nullptr) tap->Record(method, *buffer);
  }
  methods->Proceed();
}

// Reports each message this end sends, on either side of a call.
class SendTap final : public grpc::experimental::Interceptor {
 public:
  SendTap(MessageTap* tap, std::string method) : tap_(tap), method_(std::move(method)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    TapSend(tap_, method_, methods);
  }

 private:
  MessageTap* tap_;
  std::string method_;
};

class ClientTapFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClientTapFactory(MessageTap* tap) : tap_(tap) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new SendTap(tap_, info->method());
  }

 private:
  MessageTap* tap_;
};

class ServerTapFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerTapFactory(MessageTap* tap) : tap_(tap) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new SendTap(tap_, info->method());
  }

 private:
  MessageTap* tap_;
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> MakeClientTap(
    MessageTap* tap) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<ClientTapFactory>(tap));
  return out;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MakeServerTap(
    MessageTap* tap) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<ServerTapFactory>(tap));
  return out;
}

}  // namespace colony::fl::internal
