#include "faas/orchestrator/lease_identity.h"

#include <sys/random.h>

#include "protocol/hmac_sha256.h"
#include "scheduler/lease_secret.h"
#include "scheduler/wire.h"

namespace rcuda::faas {

namespace {

std::string Hex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += size_t(n);
  }
  return Hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
}

}  // namespace

LeaseIdentityMaker::LeaseIdentityMaker(const std::string& orchestrator_key, const std::string& queue_name)
    : key_(orchestrator_key), durable_(!orchestrator_key.empty()) {
  Sha256Digest queue = Sha256Of(queue_name);
  prefix_ = "faas-" + Hex(queue.data(), 6) + "-";
  if (!durable_) {
    key_ = RandomHex(32);
    prefix_ += RandomHex(4) + "-";
  }
}

LeaseIdentity LeaseIdentityMaker::For(const std::string& message_id) const {
  LeaseIdentity identity;
  identity.key = prefix_ + message_id;
  // Ids are the queue's (Redis: "1700000000000-0"; SQS: a UUID); one that
  // would not make a valid key is hashed instead.
  if (!sched::IsValidKey(identity.key)) {
    Sha256Digest id = Sha256Of(message_id);
    identity.key = prefix_ + "h" + Hex(id.data(), 16);
  }
  Sha256Digest mac = HmacSha256(key_, "rcuda-orchestrator lease secret 1\n" + identity.key);
  identity.secret = Hex(mac.data(), mac.size());
  return identity;
}

}  // namespace rcuda::faas
