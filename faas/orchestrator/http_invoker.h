// HttpInvoker: many HTTP requests in flight at once on one thread, through
// libcurl's multi interface (one curl_multi_poll loop for every transfer),
// each one's result handed back to an Asio event loop. What the orchestrator
// invokes functions with: a RequestResponse Invoke holds its request open
// for the whole run of the function, so thousands may be open together,
// and none of them holds a thread.
//
// Thread-safe: Post() from any thread; callbacks run on the io_context.
#pragma once

#include <asio.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rcuda::faas {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POSTed
  int64_t timeout_ms = 60000;        // the whole exchange
  int64_t connect_timeout_ms = 5000;
  // AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4), e.g. "aws:amz:us-east-1:lambda",
  // with "KEY:SECRET" as the user and password; empty: unsigned.
  std::string aws_sigv4;
  std::string aws_credentials;
  // Keep the connection for later requests. Off for rcuda-fn, whose HTTP
  // server gives an idle kept-alive connection a thread of its pool.
  bool reuse_connection = false;
};

struct HttpResponse {
  int status = 0;                 // 0: no HTTP answer (see error)
  std::string error;              // libcurl's message when the transfer failed
  bool timed_out = false;
  bool not_connected = false;     // no connection was made: the request was never sent
  std::map<std::string, std::string> headers;  // names in lower case; the last value of each
  std::string body;
  bool body_truncated = false;    // the answer was longer than max_body_bytes

  std::string Header(const std::string& lower_name) const;
};

class HttpInvoker {
 public:
  using Callback = std::function<void(HttpResponse response)>;

  HttpInvoker(asio::io_context& io, size_t max_body_bytes);
  ~HttpInvoker();
  HttpInvoker(const HttpInvoker&) = delete;
  HttpInvoker& operator=(const HttpInvoker&) = delete;

  Status Start();
  // Queues a request; `callback` runs on the io_context when it ends.
  void Post(HttpRequest request, Callback callback);
  // Aborts every transfer and ends the thread; no callback runs afterwards.
  void Stop();

  int in_flight() const { return in_flight_.load(); }

 private:
  struct Transfer;
  void Loop();

  asio::io_context& io_;
  size_t max_body_bytes_;
  void* multi_ = nullptr;  // CURLM*
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Transfer>> incoming_;  // guarded by mu_
  bool stop_ = false;                                // guarded by mu_
  std::atomic<int> in_flight_{0};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace rcuda::faas
