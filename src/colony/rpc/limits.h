// Request limits of a colony server or channel: the largest message each side accepts. Kept
// free of gRPC types so services can carry them in their own options structs.
#pragma once

#include "colony/base/status.h"

namespace colony::rpc {

struct RequestLimits {
  // The largest request (server) or response (channel) accepted, in bytes; a larger one is
  // refused with ResourceExhausted before any handler runs. Default: 256 MiB.
  int max_receive_message_bytes = 256 << 20;
  // The largest message sent, in bytes; a larger one fails the call with ResourceExhausted.
  // Default: 256 MiB.
  int max_send_message_bytes = 256 << 20;
  // InvalidArgument naming the field when a limit is not > 0.
  Status Validate() const;
};

}  // namespace colony::rpc
