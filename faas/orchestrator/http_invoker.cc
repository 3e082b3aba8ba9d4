#include "faas/orchestrator/http_invoker.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace rcuda::faas {

struct HttpInvoker::Transfer {
  HttpRequest request;
  HttpResponse response;
  Callback callback;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  size_t max_body = 0;
  char error[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpInvoker::HttpInvoker(asio::io_context& io, size_t max_body_bytes) : io_(io), max_body_bytes_(max_body_bytes) {}

HttpInvoker::~HttpInvoker() { Stop(); }

Status HttpInvoker::Start() {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return Status::Unavailable(std::string("curl_global_init: ") + curl_easy_strerror(global));
  multi_ = curl_multi_init();
  if (!multi_) return Status::Unavailable("curl_multi_init failed");
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void HttpInvoker::Post(HttpRequest request, Callback callback) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->callback = std::move(callback);
  transfer->max_body = max_body_bytes_;
  ++in_flight_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming_.push_back(std::move(transfer));
  }
  if (multi_) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void HttpInvoker::Stop() {
  alive_->store(false);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  if (multi_) curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
  if (multi_) {
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
    multi_ = nullptr;
  }
}

namespace {

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<std::pair<HttpResponse*, size_t>*>(user);
  size_t n = size * count;
  HttpResponse* response = transfer->first;
  if (response->body.size() + n > transfer->second) {
    response->body_truncated = true;
    return 0;  // ends the transfer (CURLE_WRITE_ERROR)
  }
  response->body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos || response->headers.size() >= 256) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  size_t start = line.find_first_not_of(" \t", colon + 1);
  response->headers[name] = start == std::string::npos ? "" : line.substr(start, 8192);
  return n;
}

}  // namespace

void HttpInvoker::Loop() {
  auto* multi = static_cast<CURLM*>(multi_);
  // The easy handle's private pointer is its Transfer; the body callback's
  // user pointer lives beside it.
  std::unordered_map<CURL*, std::pair<std::unique_ptr<Transfer>, std::unique_ptr<std::pair<HttpResponse*, size_t>>>>
      active;
  for (;;) {
    std::vector<std::unique_ptr<Transfer>> fresh;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      fresh.swap(incoming_);
    }
    for (auto& transfer : fresh) {
      CURL* easy = curl_easy_init();
      if (!easy) {
        transfer->response.error = "curl_easy_init failed";
        auto alive = alive_;
        --in_flight_;
        asio::post(io_, [alive, t = std::shared_ptr<Transfer>(std::move(transfer))]() mutable {
          if (alive->load()) t->callback(std::move(t->response));
        });
        continue;
      }
      Transfer* t = transfer.get();
      t->easy = easy;
      for (const auto& header : t->request.headers) t->headers = curl_slist_append(t->headers, header.c_str());
      t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
      auto sink = std::make_unique<std::pair<HttpResponse*, size_t>>(&t->response, t->max_body);
      curl_easy_setopt(easy, CURLOPT_URL, t->request.url.c_str());
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->request.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(t->request.body.size()));
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, long(std::max<int64_t>(1, t->request.timeout_ms)));
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, long(std::max<int64_t>(1, t->request.connect_timeout_ms)));
      curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, t->request.reuse_connection ? 0L : 1L);
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, WriteBody);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, sink.get());
      curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, WriteHeader);
      curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t->response);
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
      if (!t->request.aws_sigv4.empty()) {
        curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, t->request.aws_sigv4.c_str());
        curl_easy_setopt(easy, CURLOPT_USERPWD, t->request.aws_credentials.c_str());
      }
      curl_multi_add_handle(multi, easy);
      active.emplace(easy, std::make_pair(std::move(transfer), std::move(sink)));
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      CURLcode result = message->data.result;
      auto found = active.find(easy);
      if (found == active.end()) continue;
      std::shared_ptr<Transfer> t(std::move(found->second.first));
      active.erase(found);
      curl_multi_remove_handle(multi, easy);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      if (result == CURLE_OK) {
        t->response.status = int(status);
      } else {
        t->response.status = 0;
        t->response.timed_out = result == CURLE_OPERATION_TIMEDOUT;
        t->response.not_connected = result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST;
        t->response.error = t->error[0] ? t->error : curl_easy_strerror(result);
        if (t->response.body_truncated) t->response.error = "the answer was longer than the limit";
      }
      --in_flight_;
      auto alive = alive_;
      asio::post(io_, [alive, t]() mutable {
        if (alive->load()) t->callback(std::move(t->response));
      });
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (auto& [easy, entry] : active) curl_multi_remove_handle(multi, easy);
  active.clear();
}

}  // namespace rcuda::faas
