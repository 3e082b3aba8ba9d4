// Random identifiers from the kernel's CSPRNG: lease ids (unguessable, so a
// lease can only be released or renewed by whoever was given it) and ssgm's
// automatic idempotency keys.
#pragma once

#include <string>

namespace rcuda::sched {

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string RandomHex(size_t bytes);

}  // namespace rcuda::sched
