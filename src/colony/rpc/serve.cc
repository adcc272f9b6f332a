#include "colony/rpc/serve.h"

#include <exception>
#include <new>

namespace colony::rpc::internal {

Status CurrentExceptionStatus() {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return InternalError(std::string("the server ran out of memory in this call (") + e.what() +
                         "); it keeps serving: retry with a smaller request");
  } catch (const std::exception& e) {
    return InternalError(std::string("the handler failed with an exception: ") + e.what());
  } catch (...) {
    return InternalError("the handler failed with an exception of unknown type");
  }
}

}  // namespace colony::rpc::internal
