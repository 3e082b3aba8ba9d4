#include "protocol/shm_socket.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace rcuda {
namespace {

std::string Errno() { return std::strerror(errno); }

// Makes sure `dir` exists and that only its owner (this user, or root) can
// put files in it: a socket there cannot have been planted by someone else.
// Returns why the directory is unusable, or "".
std::string PrepareOwnDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    chmod(dir.c_str(), 0755);  // whatever the umask
  } else if (errno != EEXIST) {
    return "cannot create " + dir + ": " + Errno();
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return "cannot examine " + dir + ": " + Errno();
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";  // a symbolic link is refused too
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    return dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user";
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return dir + " is writable by other users";
  if (access(dir.c_str(), W_OK | X_OK) != 0) return "cannot write to " + dir + ": " + Errno();
  return "";
}

std::string FallbackDir(const ShmSocketDirs& dirs, uid_t uid) {
  return dirs.fallback_parent + "/rcuda-" + std::to_string(uid);
}

}  // namespace

std::string ShmSocketName(uint16_t port) { return "rcuda-server-" + std::to_string(port) + ".sock"; }

Status ShmServerSocketPath(uint16_t port, std::string* path, std::string* note, const ShmSocketDirs& dirs) {
  note->clear();
  const char* configured = std::getenv("RCUDA_SOCKET_DIR");
  if (configured && *configured) {
    // The operator's choice; created if missing. A directory others may
    // write is allowed (clients check who listens) but said.
    std::string dir = configured;
    if (mkdir(dir.c_str(), 0755) == 0) chmod(dir.c_str(), 0755);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::Unavailable("RCUDA_SOCKET_DIR=" + dir + " is not a usable directory");
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
      *note = "RCUDA_SOCKET_DIR=" + dir + " is writable by other users: one could take the socket's name; " +
              "clients refuse a listener that is not root, their own user or RCUDA_SERVER_UID";
    }
    *path = dir + "/" + ShmSocketName(port);
    return Status::Ok();
  }
  std::string why = PrepareOwnDir(dirs.preferred);
  if (why.empty()) {
    *path = dirs.preferred + "/" + ShmSocketName(port);
    return Status::Ok();
  }
  const uid_t me = geteuid();
  const std::string fallback = FallbackDir(dirs, me);
  std::string why_not_fallback = PrepareOwnDir(fallback);
  if (!why_not_fallback.empty()) {
    return Status::Unavailable("no safe directory for the shared-memory socket (" + why + "; " + why_not_fallback +
                               "); set RCUDA_SOCKET_DIR");
  }
  *note = "cannot use " + dirs.preferred + " (" + why + "): the shared-memory socket is in " + fallback;
  if (me != 0) *note += "; clients running as other users find it with RCUDA_SERVER_UID=" + std::to_string(me);
  *path = fallback + "/" + ShmSocketName(port);
  return Status::Ok();
}

std::vector<std::string> ShmClientSocketPaths(uint16_t port, const ShmSocketDirs& dirs) {
  const std::string name = ShmSocketName(port);
  const char* configured = std::getenv("RCUDA_SOCKET_DIR");
  if (configured && *configured) return {std::string(configured) + "/" + name};
  std::vector<std::string> paths{dirs.preferred + "/" + name};
  auto add = [&](uid_t uid) {
    std::string p = FallbackDir(dirs, uid) + "/" + name;
    for (const auto& q : paths)
      if (q == p) return;
    paths.push_back(p);
  };
  if (auto expected = ExpectedServerUid()) add(*expected);
  add(geteuid());
  return paths;
}

std::optional<uid_t> ExpectedServerUid() {
  const char* v = std::getenv("RCUDA_SERVER_UID");
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long n = std::strtoul(v, &end, 10);
  if (*end == '\0' && errno == 0 && n <= UINT32_MAX - 1) return static_cast<uid_t>(n);
  // A user name.
  passwd pw{}, *found = nullptr;
  char buffer[4096];
  if (getpwnam_r(v, &pw, buffer, sizeof buffer, &found) == 0 && found) return found->pw_uid;
  return std::nullopt;
}

Status CheckServerUid(uid_t server, uid_t self, std::optional<uid_t> expected) {
  if (server == 0 || server == self || (expected && server == *expected)) return Status::Ok();
  return Status::Unavailable("the local socket's listener runs as uid " + std::to_string(server) +
                             ", which is neither root, this user (" + std::to_string(self) +
                             ") nor RCUDA_SERVER_UID" +
                             (expected ? " (" + std::to_string(*expected) + ")" : std::string(" (not set)")));
}

bool PeerCredentials(int socket_fd, uid_t* uid, pid_t* pid) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return false;
  *uid = cred.uid;
  *pid = cred.pid;
  return true;
}

}  // namespace rcuda
