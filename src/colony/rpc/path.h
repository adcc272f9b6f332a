// Path confinement: every file a server writes or reads on a client's behalf lies under a
// root the server was started with.
//   COLONY_ASSIGN_OR_RETURN(std::string dir, ConfinedPath(checkpoint_root, request->dir()));
#pragma once

#include <string>

#include "colony/base/status.h"

namespace colony::rpc {

// `requested` resolved under `root`: a relative path is taken relative to `root`; an absolute
// one must already lie under it. Refused with PermissionDenied (naming both) when it has a ".."
// component, or when it or any existing parent is a symlink that leads out of `root`.
// FailedPrecondition when `root` is empty (the server was started without one; `flag` names
// the option that sets it), InvalidArgument for an empty `requested` or one with a NUL byte.
// The returned path is absolute and need not exist yet.
StatusOr<std::string> ConfinedPath(const std::string& root, const std::string& requested,
                                   const std::string& flag);

// OK when `name` can be one path component under a server's root (a table or file name):
// non-empty letters, digits, '_', '-' or '.', and not "." or "..". InvalidArgument naming
// `what` ("table name") otherwise.
Status CheckPathComponent(const std::string& name, const std::string& what);

}  // namespace colony::rpc
