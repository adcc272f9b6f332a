#include "colony/rpc/limits.h"

#include <string>

namespace colony::rpc {

Status RequestLimits::Validate() const {
  if (max_receive_message_bytes <= 0) {
    return InvalidArgumentError("limits.max_receive_message_bytes must be > 0, got " +
                                std::to_string(max_receive_message_bytes));
  }
  if (max_send_message_bytes <= 0) {
    return InvalidArgumentError("limits.max_send_message_bytes must be > 0, got " +
                                std::to_string(max_send_message_bytes));
  }
  return OkStatus();
}

}  // namespace colony::rpc
