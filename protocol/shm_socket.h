// Where a local rcuda-server's Unix socket (the shared-memory transport's
// set-up channel) lives, and whom each end trusts.
//
// The socket must not sit under a fixed name in a directory any user can
// write (/tmp): another user could create it first and receive every local
// client's lease token and data. So:
// - RCUDA_SOCKET_DIR, when set, names the one directory, for server and
//   clients alike;
// - otherwise a server uses /run/rcuda (created 0755 when it can be: root,
//   or a systemd RuntimeDirectory=rcuda), and when it cannot (a server
//   started by an ordinary user, a CI run), /tmp/rcuda-<uid>, a directory of
//   its own user (created 0755, refused if anyone else owns it or may write
//   it);
// - a client looks in /run/rcuda, then in /tmp/rcuda-<uid> for the uid
//   RCUDA_SERVER_UID names, then for its own uid.
// Whatever the directory, a client checks who listens (SO_PEERCRED) before
// it sends anything: root, its own user, or RCUDA_SERVER_UID.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda {

// The directories above; tests substitute their own.
struct ShmSocketDirs {
  std::string preferred = "/run/rcuda";
  std::string fallback_parent = "/tmp";  // holds rcuda-<uid>
};

// The socket's name in its directory: rcuda-server-<port>.sock.
std::string ShmSocketName(uint16_t port);

// Server side: picks the directory (creating it if needed) and returns the
// socket's path. *note says what an operator should know (a fallback and
// why, a directory others may write), or stays empty. Fails when no
// directory is safe to use; the server then offers no shared memory.
Status ShmServerSocketPath(uint16_t port, std::string* path, std::string* note, const ShmSocketDirs& dirs = {});

// Client side: the paths to try, in order.
std::vector<std::string> ShmClientSocketPaths(uint16_t port, const ShmSocketDirs& dirs = {});

// RCUDA_SERVER_UID (a uid or a user name), if set and valid.
std::optional<uid_t> ExpectedServerUid();

// Whether a client running as `self` may trust a local server listening as
// `server`: root, the same user, or `expected`.
Status CheckServerUid(uid_t server, uid_t self, std::optional<uid_t> expected);

// The credentials of a Unix socket's peer (for a client: the process that
// listened). False when the socket has none.
bool PeerCredentials(int socket_fd, uid_t* uid, pid_t* pid);

}  // namespace rcuda
