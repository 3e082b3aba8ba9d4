// The identity of one message's lease at ssgmd: its idempotency key and its
// secret, both derived from the message id, so that a redelivered message
// (same id) can never hold two leases, and an orchestrator restarted after a
// crash can take over, renew and release the lease its predecessor obtained
// for that message:
//
//   key    = "faas-" + hex(SHA-256(queue name))[0..12] + "-" + message id
//   secret = hex(HMAC-SHA256(orchestrator key, "rcuda-orchestrator lease secret 1\n" + key))
//
// The orchestrator key (--lease-secret-key-file) is the orchestrator's own:
// ssgmd never sees it, only each lease's secret's hash. Without a key file a
// random key is made at start; the key then also carries that run's nonce,
// so that a restarted orchestrator asks for a new lease (the old one ends at
// its time to live) rather than being refused a key it cannot prove.
#pragma once

#include <string>

namespace rcuda::faas {

struct LeaseIdentity {
  std::string key;     // ssgmd's idempotency key (sched::IsValidKey)
  std::string secret;  // the lease's secret (sched::IsValidLeaseSecret)
};

class LeaseIdentityMaker {
 public:
  // `orchestrator_key` empty: a random one for this process (not durable).
  LeaseIdentityMaker(const std::string& orchestrator_key, const std::string& queue_name);

  LeaseIdentity For(const std::string& message_id) const;

  // True when identities survive a restart (a key was given).
  bool durable() const { return durable_; }

 private:
  std::string key_;
  std::string prefix_;  // "faas-<queue hash>-" (plus the run's nonce when not durable)
  bool durable_;
};

}  // namespace rcuda::faas
