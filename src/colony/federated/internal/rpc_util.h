// gRPC plumbing of the federated parties: status mapping, and interceptors that hand every
// message a party sends to a MessageObserver (so tests can inspect the whole exchange).
// Private to federated.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "colony/base/status.h"
#include "colony/federated/service_security.h"
#include "colony/federated/vertical.h"

namespace colony::fl::internal {

grpc::Status ToGrpcStatus(const Status& status);
// Adds `what` ("party B at 127.0.0.1:7301") and a hint for Unavailable.
Status FromGrpcStatus(const grpc::Status& status, const std::string& what);

// Counts the bytes of every message sent and, when `observer` is set, reports it.
struct MessageTap {
  MessageTap(std::string sender_name, MessageObserver on_message)
      : sender(std::move(sender_name)), observer(std::move(on_message)) {}
  std::string sender;
  MessageObserver observer;
  std::atomic<int64_t> bytes{0};
  void Record(const std::string& method, const grpc::ByteBuffer& buffer);
};

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> MakeClientTap(
    MessageTap* tap);
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MakeServerTap(
    MessageTap* tap);

// A started server for `service` on `address` (port 0: a free one) with `tap` on every
// message it sends, and its port; TLS when security.tls_cert is set. InvalidArgument naming
// `who` for an address off loopback without TLS (and not security.plaintext) or a bad
// certificate file; Unavailable when the address cannot be bound.
struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};
StatusOr<StartedServer> StartServer(const std::string& who, const std::string& address,
                                    grpc::Service* service, MessageTap* tap,
                                    const ServiceSecurity& security);

// What a serving party (a horizontal child, vertical party B) waits on: when the last call
// came and whether the caller finished the session. Thread-safe.
class SessionWaiter {
 public:
  void Touch();   // A call came.
  void Finish();  // The caller ended the session.
  // Blocks until Finish (OK), `*stop` turns true (Cancelled with `cancelled`) or no call came
  // for idle_s seconds (DeadlineExceeded with `idle`).
  Status Wait(const std::atomic<bool>* stop, double idle_s, const std::string& cancelled,
              const std::string& idle);

 private:
  std::mutex mu_;
  std::condition_variable done_;
  std::chrono::steady_clock::time_point last_call_ = std::chrono::steady_clock::now();
  bool finished_ = false;
};

// A serving party's public handle (Interface: HorizontalChild, VerticalPartyB) over its gRPC
// service (which has Wait(stop)), the tap on its messages and its server; shuts the server
// down (2 s grace) when destroyed.
template <typename Interface, typename ServiceT>
class Served : public Interface {
 public:
  Served(std::unique_ptr<MessageTap> tap, std::unique_ptr<ServiceT> service, StartedServer started)
      : tap_(std::move(tap)),
        service_(std::move(service)),
        server_(std::move(started.server)),
        port_(started.port) {}
  ~Served() override { Shutdown(); }
  int port() const override { return port_; }
  Status Wait(const std::atomic<bool>* stop) override { return service_->Wait(stop); }
  void Shutdown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

 protected:
  const ServiceT& service() const { return *service_; }

 private:
  std::unique_ptr<MessageTap> tap_;
  std::unique_ptr<ServiceT> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
};

// A channel to `address` (TLS when security.tls_ca is set), with `tap` on every message sent
// when not null. InvalidArgument naming `who` for an address off loopback without TLS (and not
// security.plaintext) or an unreadable CA file.
StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& who,
                                                     const std::string& address,
                                                     const ServiceSecurity& security,
                                                     MessageTap* tap);

// Client side: adds the token to a call's metadata (nothing without a token).
void AddToken(grpc::ClientContext* context, const ServiceSecurity& security);
// Server side: OK when the server has no token or the call carries it; otherwise
// UNAUTHENTICATED saying so.
grpc::Status CheckToken(const grpc::ServerContext* context, const std::string& token);

// Whether host:port is 127.x, ::1 or localhost.
bool IsLoopback(const std::string& address);

}  // namespace colony::fl::internal
