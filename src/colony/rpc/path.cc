#include "colony/rpc/path.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace colony::rpc {
namespace fs = std::filesystem;

namespace {

// `path` with every symlink in its existing part resolved (the rest appended as it is).
StatusOr<fs::path> Resolve(const fs::path& path) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(path, ec);
  if (ec) return UnavailableError("cannot resolve '" + path.string() + "': " + ec.message());
  return resolved;
}

bool IsUnder(const fs::path& path, const fs::path& root) {
  auto [root_end, path_it] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  // weakly_canonical keeps a trailing empty component for "dir/"; it does not leave the root.
  return root_end == root.end() || (std::next(root_end) == root.end() && root_end->empty());
}

}  // namespace

StatusOr<std::string> ConfinedPath(const std::string& root, const std::string& requested,
                                   const std::string& flag) {
  if (root.empty()) {
    return FailedPreconditionError("this server has no root for client paths; start it with " +
                                   flag);
  }
  if (requested.empty()) return InvalidArgumentError("the path is empty");
  if (requested.find('\0') != std::string::npos) {
    return InvalidArgumentError("the path has a NUL byte");
  }
  const fs::path asked(requested);
  for (const fs::path& part : asked) {
    if (part == "..") {
      return PermissionDeniedError("path '" + requested + "' has a '..' component; paths stay under " +
                                   flag + " '" + root + "'");
    }
  }
  std::error_code ec;
  const fs::path root_abs = fs::absolute(root, ec);
  if (ec) return UnavailableError("cannot resolve '" + root + "': " + ec.message());
  COLONY_ASSIGN_OR_RETURN(fs::path real_root, Resolve(root_abs));
  const fs::path joined = asked.is_absolute() ? asked : root_abs / asked;
  COLONY_ASSIGN_OR_RETURN(fs::path real, Resolve(joined));
  if (!IsUnder(real, real_root)) {
    return PermissionDeniedError("path '" + requested + "' lies outside " + flag + " '" + root +
                                 "' (after following symlinks: '" + real.string() + "')");
  }
  return real.lexically_normal().string();
}

Status CheckPathComponent(const std::string& name, const std::string& what) {
  const bool valid =
      !name.empty() && name != "." && name != ".." && name.size() <= 255 &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (valid) return OkStatus();
  return InvalidArgumentError(what + " '" + name +
                              "' must be 1-255 letters, digits, '_', '-' or '.' (and not '.' or "
                              "'..')");
}

}  // namespace colony::rpc
