#include "colony/federated/internal/rpc_util.h"

#include "colony/rpc/channel.h"

namespace colony::fl::internal {

namespace {

colony::rpc::ServerSettingNames ServerNames() {
  colony::rpc::ServerSettingNames names;
  names.cert = "security.tls_cert";
  names.key = "security.tls_key";
  names.client_ca = "security.tls_client_ca";
  names.token = "security.token (or security.token_env)";
  names.plaintext = "security.plaintext: true";
  return names;
}

colony::rpc::ChannelSettingNames ChannelNames() {
  colony::rpc::ChannelSettingNames names;
  names.ca = "security.tls_ca";
  names.client_cert = "security.tls_client_cert";
  names.client_key = "security.tls_client_key";
  names.plaintext = "security.plaintext: true";
  return names;
}

}  // namespace

StatusOr<std::unique_ptr<colony::rpc::Server>> StartServer(
    const std::string& who, const std::string& address, grpc::Service* service,
    const std::string& service_name, MessageTap* tap, const ServiceSecurity& security,
    const colony::rpc::RequestLimits& limits) {
  colony::rpc::ServerOptions options;
  options.name = who;
  options.address = address;
  options.tls.cert_file = security.tls_cert;
  options.tls.key_file = security.tls_key;
  options.tls.client_ca_file = security.tls_client_ca;
  options.token = security.token;
  options.plaintext = security.plaintext;
  options.limits = limits;
  options.setting_names = ServerNames();
  options.interceptors = [tap] { return MakeServerTap(tap); };
  return colony::rpc::StartServer(options, {{service, service_name}});
}

StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& who,
                                                     const std::string& address,
                                                     const ServiceSecurity& security,
                                                     MessageTap* tap) {
  colony::rpc::ChannelOptions options;
  options.name = who;
  options.tls_ca_file = security.tls_ca;
  options.tls_client_cert_file = security.tls_client_cert;
  options.tls_client_key_file = security.tls_client_key;
  options.plaintext = security.plaintext;
  options.setting_names = ChannelNames();
  if (tap != nullptr) options.interceptors = [tap] { return MakeClientTap(tap); };
  return colony::rpc::MakeChannel(address, options);
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
