// gRPC plumbing of the federated parties over the rpc layer (colony/rpc): the `security`
// config mapped onto its server and channel options, and interceptors that hand every message
// a party sends to a MessageObserver (so tests can inspect the whole exchange). Handlers go
// through colony::rpc::Serve. Private to federated.
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
#include "colony/rpc/server.h"

namespace colony::fl::internal {

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

// A started server (colony::rpc::StartServer) for `service`, whose proto full name is
// `service_name`, on `address` (port 0: a free one) with `tap` on every message it sends; TLS
// when security.tls_cert is set. InvalidArgument naming `who` for an address off loopback
// without TLS (and not security.plaintext) or without a token, or a bad certificate setting;
// NotFound for an unreadable PEM file; Unavailable when the address cannot be bound.
StatusOr<std::unique_ptr<colony::rpc::Server>> StartServer(
    const std::string& who, const std::string& address, grpc::Service* service,
    const std::string& service_name, MessageTap* tap, const ServiceSecurity& security,
    const colony::rpc::RequestLimits& limits = {});

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
  Served(std::unique_ptr<MessageTap> tap, std::unique_ptr<ServiceT> service,
         std::unique_ptr<colony::rpc::Server> server)
      : tap_(std::move(tap)), service_(std::move(service)), server_(std::move(server)) {}
  ~Served() override { Shutdown(); }
  int port() const override { return server_->port(); }
  Status Wait(const std::atomic<bool>* stop) override { return service_->Wait(stop); }
  void Shutdown() override { server_->Shutdown(); }

 protected:
  const ServiceT& service() const { return *service_; }

 private:
  std::unique_ptr<MessageTap> tap_;
  std::unique_ptr<ServiceT> service_;
  std::unique_ptr<colony::rpc::Server> server_;
};

// A channel to `address` (colony::rpc::MakeChannel; TLS when security.tls_ca is set), with
// `tap` on every message sent when not null. InvalidArgument naming `who` for an address off
// loopback without TLS (and not security.plaintext); NotFound for an unreadable PEM file.
StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& who,
                                                     const std::string& address,
                                                     const ServiceSecurity& security,
                                                     MessageTap* tap);

}  // namespace colony::fl::internal
