#include "faas/storage/s3_object_store.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "faas/storage/s3_uri.h"
#include "faas/storage/s3_xml.h"

namespace rcuda::faas {

// What one request sends and where its answer goes.
struct S3Request {
  const char* method = "GET";
  std::string bucket;
  std::string key;    // empty: the bucket itself
  std::string query;  // canonical (S3CanonicalQuery)
  std::string payload_sha256;
  bool upload = false;          // PUT with a body (possibly empty)
  std::string_view body;        // when body_file is empty
  std::string body_file;        // streamed from this file
  uint64_t body_size = 0;
  bool expect_data = false;     // a 2xx answer's body is wanted
  uint64_t max_bytes = 0;       // ... and may be at most this long
  std::string* data = nullptr;  // ... into memory
  std::string data_file;        // ... or into this file (truncated per try)
  std::string what;             // "GET bucket/key", for messages
};

struct S3Response {
  long status = 0;
  std::string etag;
  std::string last_modified;
  std::string version_id;
  bool has_content_length = false;
  uint64_t content_length = 0;
  std::string error_body;
};

namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr uint64_t kMaxListBytes = 16 * 1024 * 1024;
constexpr uint64_t kMaxSinglePut = 5ull << 30;  // S3's limit for one PUT
constexpr size_t kMaxIdleHandles = 16;

std::once_flag g_curl_init;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

bool IsIpAddress(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6 literal
  unsigned char buf[sizeof(in_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1;
}

Status CheckBucket(const std::string& bucket) {
  if (!IsValidBucketName(bucket)) return Status::InvalidValue("s3: invalid bucket name '" + bucket + "'");
  return Status::Ok();
}

Status CheckObject(const std::string& bucket, const std::string& key) {
  RCUDA_RETURN_IF_ERROR(CheckBucket(bucket));
  if (key.empty()) return Status::InvalidValue("s3: empty object key");
  if (key.size() > 1024) return Status::InvalidValue("s3: object key longer than 1024 bytes");
  return Status::Ok();
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One try's state, shared with libcurl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  S3Request* request = nullptr;
  S3Response* response = nullptr;
  size_t body_offset = 0;
  FILE* in = nullptr;
  FILE* out = nullptr;
  uint64_t received = 0;
  long header_status = 0;
  bool too_large = false;
  bool write_failed = false;
};

size_t OnHeader(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  S3Response* r = t->response;
  std::string_view line(buffer, size * count);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {  // a new answer (e.g. after 100 Continue): forget the last one's fields
    size_t space = line.find(' ');
    t->header_status = 0;
    if (space != std::string_view::npos && line.size() >= space + 4) {
      t->header_status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    }
    *r = S3Response();
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string_view name = line.substr(0, colon);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (EqualsNoCase(name, "etag")) {
    r->etag = TrimEtag(value);
  } else if (EqualsNoCase(name, "last-modified")) {
    r->last_modified = std::string(value);
  } else if (EqualsNoCase(name, "x-amz-version-id")) {
    r->version_id = std::string(value);
  } else if (EqualsNoCase(name, "content-length")) {
    std::string digits(value);
    char* end = nullptr;
    uint64_t length = std::strtoull(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0') return size * count;  // malformed: ignored, the data is still capped
    r->has_content_length = true;
    r->content_length = length;
    bool success = t->header_status >= 200 && t->header_status < 300;
    if (success && t->request->expect_data && length > t->request->max_bytes) {
      t->too_large = true;
      return 0;  // abandons the transfer before any byte is buffered
    }
  }
  return size * count;
}

size_t OnData(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300 || !t->request->expect_data) {
    std::string& error_body = t->response->error_body;  // error documents, kept up to 64 KiB
    error_body.append(buffer, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, error_body.size())));
    return n;
  }
  if (t->received + n > t->request->max_bytes) {
    t->too_large = true;
    return 0;
  }
  t->received += n;
  if (t->out) {
    if (std::fwrite(buffer, 1, n, t->out) != n) {
      t->write_failed = true;
      return 0;
    }
  } else if (t->request->data) {
    t->request->data->append(buffer, n);
  }
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t room = size * count;
  if (t->in) return std::fread(buffer, 1, room, t->in);
  std::string_view body = t->request->body;
  size_t n = std::min(room, body.size() - t->body_offset);
  std::memcpy(buffer, body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  if (t->in) return fseeko(t->in, off_t(offset), SEEK_SET) == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
  if (uint64_t(offset) > t->request->body.size()) return CURL_SEEKFUNC_FAIL;
  t->body_offset = size_t(offset);
  return CURL_SEEKFUNC_OK;
}

bool RetryableCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status S3ObjectStore::Create(const S3Config& config, std::unique_ptr<S3ObjectStore>* store) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<S3ObjectStore> s(new S3ObjectStore(config));
  if (config.region.empty()) return Status::InvalidValue("s3: empty region");
  std::string endpoint = config.endpoint;
  if (endpoint.empty()) {
    endpoint = "https://s3." + config.region + ".amazonaws.com";
    s->virtual_host_default_ = true;
  }
  CURLU* url = curl_url();
  if (!url) return Status::OutOfMemory("s3: curl_url");
  char* part = nullptr;
  auto take = [&](CURLUPart which, std::string* out) {
    part = nullptr;
    if (curl_url_get(url, which, &part, 0) != CURLUE_OK) return false;
    *out = part;
    curl_free(part);
    return true;
  };
  std::string port, path;
  bool ok = curl_url_set(url, CURLUPART_URL, endpoint.c_str(), 0) == CURLUE_OK && take(CURLUPART_SCHEME, &s->scheme_) &&
            take(CURLUPART_HOST, &s->host_);
  if (ok && take(CURLUPART_PORT, &port)) s->host_ += ":" + port;
  if (ok && !take(CURLUPART_PATH, &path)) path.clear();
  std::string query;
  bool has_query = ok && take(CURLUPART_QUERY, &query);
  curl_url_cleanup(url);
  if (!ok) return Status::InvalidValue("s3: cannot parse the endpoint '" + endpoint + "'");
  if (has_query) return Status::InvalidValue("s3: the endpoint '" + endpoint + "' has a query");
  if (s->scheme_ != "http" && s->scheme_ != "https") {
    return Status::InvalidValue("s3: the endpoint's scheme must be http or https: '" + endpoint + "'");
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  s->base_path_ = path;
  if (config.addressing == S3Addressing::kVirtualHost && IsIpAddress(s->host_.substr(0, s->host_.rfind(':')))) {
    return Status::InvalidValue("s3: virtual-host addressing needs a host name, not the address in '" + endpoint + "'");
  }
  if (!config.access_key_id.empty()) {
    s->sigv4_ = "aws:amz:" + config.region + ":s3";
    s->userpwd_ = config.access_key_id + ":" + config.secret_access_key;
  }
  *store = std::move(s);
  return Status::Ok();
}

S3ObjectStore::~S3ObjectStore() {
  for (CURL* curl : idle_handles_) curl_easy_cleanup(curl);
}

Status S3ObjectStore::Url(const std::string& bucket, const std::string& key, const std::string& query,
                          std::string* url) const {
  bool virtual_host = config_.addressing == S3Addressing::kVirtualHost ||
                      (config_.addressing == S3Addressing::kAuto && virtual_host_default_ && IsVirtualHostBucket(bucket));
  if (config_.addressing == S3Addressing::kVirtualHost && !IsVirtualHostBucket(bucket)) {
    return Status::InvalidValue("s3: bucket '" + bucket + "' cannot be a host name (virtual-host addressing)");
  }
  std::string encoded_key = S3UriEncode(key, /*keep_slash=*/true);
  if (virtual_host) {
    *url = scheme_ + "://" + bucket + "." + host_ + base_path_ + "/" + encoded_key;
  } else {
    *url = scheme_ + "://" + host_ + base_path_ + "/" + bucket + (key.empty() ? "" : "/" + encoded_key);
  }
  if (!query.empty()) *url += "?" + query;
  return Status::Ok();
}

CURL* S3ObjectStore::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_handles_.empty()) {
      CURL* curl = idle_handles_.back();
      idle_handles_.pop_back();
      return curl;
    }
  }
  return curl_easy_init();
}

void S3ObjectStore::ReturnHandle(CURL* curl) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_handles_.size() < kMaxIdleHandles) {
      idle_handles_.push_back(curl);
      return;
    }
  }
  curl_easy_cleanup(curl);
}

Status S3ObjectStore::Perform(S3Request& request, S3Response* response) {
  CURL* curl = TakeHandle();
  if (!curl) return Status::OutOfMemory("s3: curl_easy_init failed");
  std::mt19937 random(std::random_device{}());
  Status status;
  for (int attempt = 1;; ++attempt) {
    bool retryable = false;
    status = PerformOnce(curl, request, response, &retryable);
    if (status.ok() || !retryable || attempt >= config_.max_attempts) break;
    int64_t delay = std::min<int64_t>(config_.backoff_max_ms, int64_t(config_.backoff_initial_ms) << std::min(attempt - 1, 20));
    delay = std::uniform_int_distribution<int64_t>(delay / 2, std::max<int64_t>(delay, 1))(random);
    spdlog::warn("{} (try {} of {}); again in {} ms", status.message(), attempt, config_.max_attempts, delay);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  ReturnHandle(curl);
  return status;
}

Status S3ObjectStore::PerformOnce(CURL* curl, S3Request& request, S3Response* response, bool* retryable) {
  *response = S3Response();
  std::string url;
  RCUDA_RETURN_IF_ERROR(Url(request.bucket, request.key, request.query, &url));
  Transfer t;
  t.curl = curl;
  t.request = &request;
  t.response = response;
  if (request.data) request.data->clear();
  std::unique_ptr<FILE, int (*)(FILE*)> in(nullptr, &std::fclose), out(nullptr, &std::fclose);
  if (!request.body_file.empty()) {
    in.reset(std::fopen(request.body_file.c_str(), "rb"));
    if (!in) return Status::IoError("s3: " + request.what + ": cannot open " + request.body_file);
    t.in = in.get();
  }
  if (!request.data_file.empty()) {
    out.reset(std::fopen(request.data_file.c_str(), "wb"));
    if (!out) return Status::IoError("s3: " + request.what + ": cannot write " + request.data_file);
    t.out = out.get();
  }

  curl_easy_reset(curl);  // keeps the connection cache
  curl_slist* headers = nullptr;
  std::string sha_header = "x-amz-content-sha256: " + request.payload_sha256;
  headers = curl_slist_append(headers, sha_header.c_str());
  std::string token_header = "x-amz-security-token: " + config_.session_token;
  if (!config_.session_token.empty()) headers = curl_slist_append(headers, token_header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // a key like "a/../b" is a key, not a path to resolve
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(config_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, long(std::max(1, config_.stall_timeout_ms / 1000)));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, config_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, config_.verify_tls ? 2L : 0L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!sigv4_.empty()) {
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd_.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (request.upload) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body_size));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
  } else if (std::string_view(request.method) == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (std::string_view(request.method) != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
  if (out && std::fflush(out.get()) != 0) t.write_failed = true;

  std::string prefix = "s3: " + request.what + ": ";
  if (t.too_large) {
    return Status::InvalidValue(prefix + "the object is larger than the " + std::to_string(request.max_bytes) +
                                " bytes allowed");
  }
  if (t.write_failed) return Status::IoError(prefix + "cannot write " + request.data_file);
  if (rc != CURLE_OK) {
    *retryable = RetryableCurlError(rc);
    return Status::Unavailable(prefix + curl_easy_strerror(rc) + " (" + url + ")");
  }
  if (response->status >= 200 && response->status < 300) {
    if (response->has_content_length && request.expect_data && t.received != response->content_length) {
      *retryable = true;
      return Status::Unavailable(prefix + "the answer ended early");
    }
    return Status::Ok();
  }
  S3ErrorDocument error;
  std::string detail = "HTTP " + std::to_string(response->status);
  if (ParseS3Error(response->error_body, &error)) detail += " " + error.code + ": " + error.message;
  if (response->status >= 500 || response->status == 429) {
    *retryable = true;
    return Status::Unavailable(prefix + detail);
  }
  return Status::InvalidValue(prefix + detail);
}

Status S3ObjectStore::CreateBucket(const std::string& bucket) {
  RCUDA_RETURN_IF_ERROR(CheckBucket(bucket));
  std::string body;
  if (config_.region != "us-east-1") {  // elsewhere S3 wants the region named
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           config_.region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  S3Request request;
  request.method = "PUT";
  request.bucket = bucket;
  request.upload = true;
  request.body = body;
  request.body_size = body.size();
  request.payload_sha256 = Sha256Hex(body);
  request.what = "create bucket " + bucket;
  S3Response response;
  return Perform(request, &response);
}

Status S3ObjectStore::Put(const std::string& bucket, const std::string& key, std::string_view data) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  if (data.size() > kMaxSinglePut) return Status::NotSupported("s3: objects over 5 GiB (multipart upload)");
  S3Request request;
  request.method = "PUT";
  request.bucket = bucket;
  request.key = key;
  request.upload = true;
  request.body = data;
  request.body_size = data.size();
  request.payload_sha256 = Sha256Hex(data);
  request.what = "PUT " + bucket + "/" + key;
  S3Response response;
  return Perform(request, &response);
}

Status S3ObjectStore::PutFile(const std::string& bucket, const std::string& key, const std::string& path) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidValue("s3: PUT " + bucket + "/" + key + ": " + path + " is not a readable file");
  }
  if (uint64_t(st.st_size) > kMaxSinglePut) return Status::NotSupported("s3: objects over 5 GiB (multipart upload)");
  S3Request request;
  request.method = "PUT";
  request.bucket = bucket;
  request.key = key;
  request.upload = true;
  request.body_file = path;
  request.body_size = uint64_t(st.st_size);
  request.payload_sha256 = "UNSIGNED-PAYLOAD";  // streamed: not read twice to hash it
  request.what = "PUT " + bucket + "/" + key;
  S3Response response;
  return Perform(request, &response);
}

Status S3ObjectStore::Get(const std::string& bucket, const std::string& key, std::string* data, uint64_t max_bytes) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  S3Request request;
  request.bucket = bucket;
  request.key = key;
  request.payload_sha256 = kEmptySha256;
  request.expect_data = true;
  request.max_bytes = max_bytes;
  request.data = data;
  request.what = "GET " + bucket + "/" + key;
  S3Response response;
  Status s = Perform(request, &response);
  if (!s.ok()) data->clear();
  return s;
}

Status S3ObjectStore::GetFile(const std::string& bucket, const std::string& key, const std::string& path,
                              uint64_t max_bytes) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  S3Request request;
  request.bucket = bucket;
  request.key = key;
  request.payload_sha256 = kEmptySha256;
  request.expect_data = true;
  request.max_bytes = max_bytes;
  request.data_file = path + ".part";
  request.what = "GET " + bucket + "/" + key;
  S3Response response;
  Status s = Perform(request, &response);
  if (s.ok() && std::rename(request.data_file.c_str(), path.c_str()) != 0) {
    s = Status::IoError("s3: " + request.what + ": cannot rename " + request.data_file + " to " + path);
  }
  if (!s.ok()) std::remove(request.data_file.c_str());
  return s;
}

Status S3ObjectStore::Head(const std::string& bucket, const std::string& key, ObjectInfo* info, bool* exists) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  S3Request request;
  request.method = "HEAD";
  request.bucket = bucket;
  request.key = key;
  request.payload_sha256 = kEmptySha256;
  request.what = "HEAD " + bucket + "/" + key;
  S3Response response;
  Status s = Perform(request, &response);
  *exists = false;
  if (!s.ok()) {
    // A HEAD answer has no body, so no error code: 404 is "no such key".
    return response.status == 404 ? Status::Ok() : s;
  }
  *exists = true;
  *info = ObjectInfo();
  info->key = key;
  info->size = response.content_length;
  info->etag = response.etag;
  info->last_modified = response.last_modified;
  info->version_id = response.version_id == "null" ? "" : response.version_id;
  return Status::Ok();
}

Status S3ObjectStore::Delete(const std::string& bucket, const std::string& key) {
  RCUDA_RETURN_IF_ERROR(CheckObject(bucket, key));
  S3Request request;
  request.method = "DELETE";
  request.bucket = bucket;
  request.key = key;
  request.payload_sha256 = kEmptySha256;
  request.what = "DELETE " + bucket + "/" + key;
  S3Response response;
  return Perform(request, &response);
}

Status S3ObjectStore::List(const std::string& bucket, const std::string& prefix, const std::string& continuation_token,
                           int max_keys, ListPage* page) {
  RCUDA_RETURN_IF_ERROR(CheckBucket(bucket));
  max_keys = std::clamp(max_keys, 1, 1000);
  std::vector<std::pair<std::string, std::string>> params = {{"list-type", "2"},
                                                             {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) params.emplace_back("prefix", prefix);
  if (!continuation_token.empty()) params.emplace_back("continuation-token", continuation_token);
  std::string xml;
  S3Request request;
  request.bucket = bucket;
  request.query = S3CanonicalQuery(std::move(params));
  request.payload_sha256 = kEmptySha256;
  request.expect_data = true;
  request.max_bytes = kMaxListBytes;
  request.data = &xml;
  request.what = "LIST " + bucket + "/" + prefix;
  S3Response response;
  RCUDA_RETURN_IF_ERROR(Perform(request, &response));
  Status s = ParseListObjectsV2(xml, size_t(max_keys), page);
  if (!s.ok()) return Status::InvalidValue(request.what + ": " + s.message());
  return Status::Ok();
}

}  // namespace rcuda::faas
