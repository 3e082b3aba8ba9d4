// The per-lease secret: what entitles a holder to renew or release its lease,
// and to get it back by repeating its request (idempotency key). ssgm makes
// one per request (128 random bits) and sends it with the request; ssgmd
// keeps only its SHA-256 (in memory and in the journal), so neither
// `ssgm status`, the journal nor a copy of either lets anyone act on a lease.
// A request without one gets a secret made by ssgmd, returned once, in the
// grant.
#pragma once

#include <string>
#include <string_view>

#include "scheduler/cluster_types.h"

namespace rcuda::sched {

inline constexpr size_t kMinLeaseSecretBytes = 16;
inline constexpr size_t kMaxLeaseSecretBytes = 128;

// 16 to 128 characters of [A-Za-z0-9._~+/=-]: hex, base64 and base64url
// secrets fit, and none of them needs quoting in a shell.
bool IsValidLeaseSecret(std::string_view secret);
// A fresh random secret (32 hex digits).
std::string NewLeaseSecret();
// Lowercase hex SHA-256 of the secret: what ssgmd stores.
std::string HashLeaseSecret(std::string_view secret);
// Whether `secret` is the lease's (constant-time comparison of the hashes).
// A lease without a stored hash (journaled by an older ssgmd) matches none.
bool LeaseSecretMatches(const Lease& lease, std::string_view secret);
// Whether two stored hashes are equal, in constant time.
bool SecretHashesEqual(std::string_view a, std::string_view b);

}  // namespace rcuda::sched
