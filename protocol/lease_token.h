// Lease tokens: what ssgmd gives a lease holder so that rcuda-server can check,
// without asking the scheduler, that a session may use a GPU and how much of
// its memory.
//
// A token is "rct1.<payload>.<mac>": payload and mac in base64url without
// padding, mac = HMAC-SHA256(key, "rct1.<payload>"). It is one printable word
// with no spaces, ';' or '=', so it fits in RCUDA_TOKEN=<token> and in ssgm's
// one-line output. The payload is text (docs/scheduler.md, "Lease tokens"):
//   rcuda-lease 1
//   id <lease id>
//   exp <expiry, unix seconds>
//   grant <node> <port> <gpu> <memory bytes>      (one line per GPU)
// Fields are percent-encoded where they hold a byte outside [A-Za-z0-9._:-].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rcuda {

struct LeaseGrant {
  std::string node;  // the node name the GPU's monitor and server use
  uint16_t port;     // rcuda-server's port on that node
  int gpu;           // the server's GPU index
  uint64_t mem_bytes;  // the lease's memory partition on that GPU
};

struct LeaseClaims {
  std::string lease_id;
  std::vector<LeaseGrant> grants;
  int64_t expires_unix;  // the token is valid while now < expires_unix
};

std::string SignLeaseToken(const LeaseClaims& claims, std::string_view key);

// Checks the signature (constant-time compare) and the expiry; fills *claims.
Status VerifyLeaseToken(std::string_view token, std::string_view key, int64_t now_unix, LeaseClaims* claims);

// The grant of `claims` that entitles a session on (port, gpu) of this server;
// node_name empty = any node. nullptr when there is none.
const LeaseGrant* FindGrant(const LeaseClaims& claims, std::string_view node_name, uint16_t port, int gpu);

// Reads the key shared by ssgmd and the servers: the file's content with
// trailing whitespace and newlines stripped. Keys shorter than 16 bytes are
// refused (a short key makes forging tokens a matter of guessing).
inline constexpr size_t kMinLeaseKeyBytes = 16;
Status ReadLeaseKeyFile(const std::string& path, std::string* key);

}  // namespace rcuda
