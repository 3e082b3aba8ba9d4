// Random identifiers from the kernel's CSPRNG: lease ids, lease secrets
// (lease_secret.h: what entitles a holder to renew and release its lease),
// ssgm's automatic idempotency keys and ssgmd's run epoch.
#pragma once

#include <string>

namespace rcuda::sched {

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string RandomHex(size_t bytes);

}  // namespace rcuda::sched
