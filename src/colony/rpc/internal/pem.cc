#include "colony/rpc/internal/pem.h"

#include "colony/base/file_util.h"

namespace colony::rpc::internal {

StatusOr<std::string> ReadPem(const std::string& who, const std::string& setting,
                              const std::string& path) {
  StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) return pem.status().WithContext(who + ": " + setting);
  return pem;
}

}  // namespace colony::rpc::internal
