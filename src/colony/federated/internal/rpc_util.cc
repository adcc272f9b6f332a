#include "colony/federated/internal/rpc_util.h"

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

StatusOr<StartedServer> StartServer(const std::string& who, const std::string& address,
                                    grpc::Service* service, MessageTap* tap) {
  StartedServer started;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &started.port);
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
