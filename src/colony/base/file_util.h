// Files: whole-file reads and crash-safe writes.
#pragma once

#include <string>
#include <string_view>

#include "colony/base/status.h"

namespace colony {

// Writes `contents` to `path` so that a reader sees the old file or the new one, never a torn
// one: write to "path.tmp-<pid>", fsync, rename, fsync the directory. IOError-like failures
// are reported as Unavailable (disk) with the path.
Status WriteFileAtomic(const std::string& path, std::string_view contents);
// NotFound when the file does not exist or cannot be opened.
StatusOr<std::string> ReadFile(const std::string& path);
// Creates `dir` and its parents; OK if it exists.
Status MakeDirs(const std::string& dir);
// Fsyncs a directory so that renames inside it are durable.
Status SyncDir(const std::string& dir);
bool PathExists(const std::string& path);

}  // namespace colony
