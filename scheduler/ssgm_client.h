// One exchange with ssgmd, with retries: connection failures, resets and
// silence are retried (with backoff) until the retry window closes, so a
// restarting ssgmd costs the caller a delay, not an error. Retrying is safe
// because every request ssgm sends carries an idempotency key, and release
// and renew are idempotent.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "scheduler/json.h"

namespace rcuda::sched {

struct SsgmClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8309;
  int64_t connect_timeout_ms = 2000;
  int64_t retry_for_ms = 30'000;  // keep retrying this long after the first failure
  int64_t reply_timeout_ms = 15'000;  // beyond the request's own wait
  std::string client_key;  // non-empty: sign each request (request_auth.h)
};

// `make_message(elapsed_ms)` builds the message for each attempt (a blocking
// request shortens its wait by the time already spent). `wait_ms` is how
// long ssgmd may legitimately hold the reply (-1: without limit).
Status CallSsgmd(const SsgmClientOptions& options, const std::function<Json(int64_t elapsed_ms)>& make_message,
                 int64_t wait_ms, Json* reply);

}  // namespace rcuda::sched
