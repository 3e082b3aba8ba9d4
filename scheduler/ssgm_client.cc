#include "scheduler/ssgm_client.h"

#include <chrono>
#include <random>
#include <thread>

#include "scheduler/line_client.h"
#include "scheduler/request_auth.h"

namespace rcuda::sched {

namespace {

// The longest reply read: a status of some 100,000 leases; an endless line
// from a hostile peer ends there.
constexpr size_t kMaxReplyBytes = size_t(64) << 20;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status CallSsgmd(const SsgmClientOptions& options, const std::function<Json(int64_t elapsed_ms)>& make_message,
                 int64_t wait_ms, Json* reply) {
  int64_t start = SteadyMs();
  int64_t first_failure = -1;
  int64_t backoff_ms = 50;
  std::minstd_rand jitter(std::random_device{}());
  Status last;
  for (int attempt = 0;; ++attempt) {
    int64_t elapsed = SteadyMs() - start;
    Json message = make_message(elapsed);
    LineClient client;
    Status s = client.Connect(options.host, options.port, options.connect_timeout_ms);
    if (s.ok()) {
      std::string text = message.Dump();
      if (!options.client_key.empty()) text = SignRequestLine(text, options.client_key, UnixMillisNow());
      s = client.WriteLine(text, options.connect_timeout_ms);
    }
    std::string line;
    if (s.ok()) {
      int64_t timeout = wait_ms < 0 ? int64_t(1) << 40 : std::max<int64_t>(0, wait_ms - elapsed) + options.reply_timeout_ms;
      s = client.ReadLine(&line, timeout, kMaxReplyBytes);
    }
    if (s.ok()) {
      s = ParseJson(line, reply);
      if (s.ok() && (!reply->is_object() || !reply->Find("error") || !reply->Find("error")->is_integer())) {
        s = Status::InvalidValue("ssgmd sent a reply without an error code: " + line);
      }
      // A reply that does not parse is not a transport failure: do not resend.
      if (!s.ok()) return Status::InvalidValue("bad reply from ssgmd: " + s.message());
      return Status::Ok();
    }
    last = s;
    int64_t now = SteadyMs();
    if (first_failure < 0) first_failure = now;
    if (now - first_failure >= options.retry_for_ms) break;
    int64_t sleep = std::min<int64_t>(backoff_ms / 2 + int64_t(jitter() % uint64_t(backoff_ms)),
                                      options.retry_for_ms - (now - first_failure));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(sleep, 1)));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
  }
  return Status::Unavailable("no answer from ssgmd at " + options.host + ":" + std::to_string(options.port) +
                             " within " + std::to_string(options.retry_for_ms) + " ms of retries: " + last.message());
}

}  // namespace rcuda::sched
