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
#include <functional>
#include <map>
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

// Bounds on what a token may be: a token arrives from any client, in its Hello.
inline constexpr size_t kMaxLeaseTokenBytes = 16 << 10;
inline constexpr size_t kMaxLeaseTokenGrants = 256;
inline constexpr size_t kMaxLeaseIdBytes = 128;

std::string SignLeaseToken(const LeaseClaims& claims, std::string_view key);

// Checks the size, the signature (constant-time compare, before anything of
// the payload is decoded) and the expiry; fills *claims. A plain function of
// its arguments: the lease-token fuzz target calls it.
Status VerifyLeaseToken(std::string_view token, std::string_view key, int64_t now_unix, LeaseClaims* claims);

// The grant of `claims` that entitles a session on (port, gpu) of the node
// `node_name`. nullptr when there is none, and always when node_name is empty:
// the servers share one key, so a server that does not know its own node
// name cannot tell its grants from another node's.
const LeaseGrant* FindGrant(const LeaseClaims& claims, std::string_view node_name, uint16_t port, int gpu);

// Revoked leases: leases released before their tokens expired, whose tokens a
// server must no longer honour. rcuda-gpu-monitor writes the file from what
// ssgmd tells it; rcuda-server reads it (--revoked-leases-file). Text:
//   rcuda-revoked-leases 1
//   <lease id, percent-encoded> <until: unix seconds>      (one line per lease)
// An entry matters until its time (the lease's last token is dead then).
using RevokedLeases = std::map<std::string, int64_t, std::less<>>;  // lease id -> until (unix seconds)
inline constexpr size_t kMaxRevokedLeasesFileBytes = size_t(64) << 20;
inline constexpr size_t kMaxRevokedLeases = size_t(1) << 20;
std::string FormatRevokedLeases(const RevokedLeases& revoked);
// Parses the file's text; entries whose time is past `now_unix` are left out.
// Refuses (and fills nothing) a text over the size or count bounds, or with a
// malformed line: a reader keeps what it had rather than act on half a file.
Status ParseRevokedLeases(std::string_view text, int64_t now_unix, RevokedLeases* revoked);

// Reads the key shared by ssgmd and the servers: the file's content with
// trailing whitespace and newlines stripped. Keys shorter than 16 bytes are
// refused (a short key makes forging tokens a matter of guessing).
inline constexpr size_t kMinLeaseKeyBytes = 16;
Status ReadLeaseKeyFile(const std::string& path, std::string* key);

}  // namespace rcuda
