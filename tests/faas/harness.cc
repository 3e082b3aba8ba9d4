#include "harness.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace faas_test {

TempDir::TempDir() {
  char pattern[] = "/tmp/faas_test_XXXXXX";
  if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("FAAS_TEST_KEEP")) return;
  std::string command = "rm -rf '" + path_ + "'";
  if (std::system(command.c_str()) != 0) {
    // Leftovers in /tmp are harmless.
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path + ".tmp", std::ios::binary) << content;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

bool WaitUntil(int timeout_ms, const std::function<bool()>& predicate) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

bool Exited(pid_t pid, int* code) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r != pid) return false;
  if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Stop(pid_t pid, int grace_ms) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  if (WaitUntil(grace_ms, [&] { return Exited(pid); })) return;
  kill(pid, SIGKILL);
  WaitExit(pid);
}

// ---- RedisServer ------------------------------------------------------------

RedisServer::RedisServer(bool aof) : aof_(aof) { Start(); }

RedisServer::~RedisServer() { Stop(pid_); }

bool RedisServer::Ping() const {
  timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (!c) return false;
  bool ok = false;
  if (!c->err) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply && reply->type == REDIS_REPLY_STATUS && std::string(reply->str) == "PONG";
    if (reply) freeReplyObject(reply);
  }
  redisFree(c);
  return ok;
}

void RedisServer::Start() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (starts_ == 0) port_ = FreePort();
    std::vector<std::string> argv = {"redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port_),
                                     "--dir", dir_.path(), "--save", "", "--daemonize", "no",
                                     "--appendonly", aof_ ? "yes" : "no", "--appendfsync", "always"};
    pid_ = Spawn(argv, dir_.Path("redis." + std::to_string(starts_) + ".log"));
    bool up = WaitUntil(10000, [&] { return Ping() || Exited(pid_); });
    if (up && Ping()) {
      ++starts_;
      return;
    }
    Stop(pid_);  // exited already (port taken?) or never answered
    pid_ = -1;
    if (starts_ > 0) break;  // a restart must keep its port
  }
  throw std::runtime_error("redis-server did not start; see " + dir_.path());
}

void RedisServer::Kill() {
  kill(pid_, SIGKILL);
  WaitExit(pid_);
  pid_ = -1;
}

// ---- S3rver -----------------------------------------------------------------

std::string S3rverDir(std::string* why) {
  std::string dir;
  if (const char* d = std::getenv("RCUDA_S3RVER_DIR")) {
    dir = d;
  } else if (const char* cache = std::getenv("XDG_CACHE_HOME")) {
    dir = std::string(cache) + "/rcuda/s3rver";
  } else {
    dir = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/rcuda/s3rver";
  }
  std::string stamp = ReadFile(dir + "/.lock-sha256");
  while (!stamp.empty() && (stamp.back() == '\n' || stamp.back() == ' ')) stamp.pop_back();
  if (stamp != FAAS_S3RVER_LOCK_SHA256 || ReadFile(dir + "/node_modules/s3rver/bin/s3rver.js").empty()) {
    *why = "s3rver is not installed in " + dir +
           " (or from another lockfile): run faas/testing/s3rver/install.sh (needs node, npm and the npm registry)";
    return "";
  }
  return dir;
}

S3rver::S3rver() {
  std::string why;
  std::string install = S3rverDir(&why);
  if (install.empty()) throw std::runtime_error(why);
  std::string log = dir_.Path("s3rver.log");
  // s3rver makes its continuation tokens with DES, which Node 17+ (OpenSSL
  // 3) offers only through the legacy provider.
  pid_ = Spawn({"node", "--openssl-legacy-provider", install + "/node_modules/s3rver/bin/s3rver.js", "--directory", dir_.Path("data"),
                "--address", "127.0.0.1", "--port", "0", "--service-endpoint", "localhost"},
               log);
  std::regex listening("S3rver listening on 127\\.0\\.0\\.1:([0-9]+)");
  std::smatch match;
  std::string text;
  bool started = WaitUntil(30000, [&] {
    text = ReadFile(log);
    return std::regex_search(text, match, listening) || Exited(pid_);
  });
  if (!started || !std::regex_search(text, match, listening)) {
    Stop(pid_);
    throw std::runtime_error("s3rver did not start: " + text);
  }
  port_ = std::stoi(match[1].str());
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(1, 0);
  if (!WaitUntil(10000, [&] { return bool(client.Get("/")); })) {
    Stop(pid_);
    throw std::runtime_error("s3rver does not answer HTTP on port " + std::to_string(port_));
  }
}

S3rver::~S3rver() { Stop(pid_); }

// ---- CaptureServer ----------------------------------------------------------

std::string CapturedRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

struct CaptureServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  std::vector<CapturedRequest> requests;
  Responder respond;
};

CaptureServer::CaptureServer(Responder respond) : impl_(std::make_unique<Impl>()) {
  impl_->respond = std::move(respond);
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    CapturedRequest captured;
    captured.method = req.method;
    captured.target = req.target;
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      captured.headers.emplace(lower, value);
    }
    captured.body = req.body;
    int index = 0;
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      index = int(impl_->requests.size());
      impl_->requests.push_back(captured);
    }
    CannedResponse canned = impl_->respond(captured, index);
    res.status = canned.status;
    for (const auto& [name, value] : canned.headers) res.set_header(name, value);
    if (canned.chunked) {
      auto body = std::make_shared<std::string>(canned.body);
      res.set_chunked_content_provider("application/octet-stream", [body](size_t offset, httplib::DataSink& sink) {
        if (offset < body->size()) {
          sink.write(body->data() + offset, std::min<size_t>(4096, body->size() - offset));
        } else {
          sink.done();
        }
        return true;
      });
    } else if (req.method != "HEAD") {
      res.set_content(canned.body, "application/xml");
    }
  };
  impl_->server.Get(".*", handle);
  impl_->server.Put(".*", handle);
  impl_->server.Delete(".*", handle);
  port_ = impl_->server.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("capture server: cannot listen");
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  if (!WaitUntil(5000, [this] { return impl_->server.is_running(); })) {
    throw std::runtime_error("capture server did not start");
  }
}

CaptureServer::~CaptureServer() {
  impl_->server.stop();
  impl_->thread.join();
}

std::vector<CapturedRequest> CaptureServer::requests() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

// ---- SigV4 check ------------------------------------------------------------

namespace {

std::string Hex(const unsigned char* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

std::string Sha256(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string PercentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(char(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// RFC 3986 unreserved characters stay, everything else is %XX (upper case).
std::string AwsEncode(const std::string& text, bool keep_slash) {
  std::ostringstream out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out << c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out << buf;
    }
  }
  return out.str();
}

std::string After(const std::string& text, const std::string& marker, char end) {
  size_t at = text.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  size_t stop = text.find(end, at);
  return text.substr(at, stop == std::string::npos ? std::string::npos : stop - at);
}

}  // namespace

std::string CheckSigV4(const CapturedRequest& request, const std::string& access_key, const std::string& secret_key,
                       const std::string& region) {
  std::string auth = request.Header("authorization");
  if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0) return "no AWS4-HMAC-SHA256 Authorization header: '" + auth + "'";
  std::string credential = After(auth, "Credential=", ',');
  std::string signed_headers = After(auth, "SignedHeaders=", ',');
  std::string signature = After(auth, "Signature=", ',');
  std::string date = request.Header("x-amz-date");
  if (date.size() != 16) return "bad x-amz-date '" + date + "'";
  std::string scope = date.substr(0, 8) + "/" + region + "/s3/aws4_request";
  if (credential != access_key + "/" + scope) return "credential '" + credential + "', expected " + access_key + "/" + scope;
  std::string payload = request.Header("x-amz-content-sha256");
  if (payload.empty()) return "no x-amz-content-sha256 header";
  if (payload != "UNSIGNED-PAYLOAD" && payload != Sha256(request.body)) return "x-amz-content-sha256 is not the body's";
  std::set<std::string> signed_set;
  std::stringstream signed_stream(signed_headers);
  for (std::string name; std::getline(signed_stream, name, ';');) signed_set.insert(name);
  for (const char* needed : {"host", "x-amz-content-sha256", "x-amz-date"}) {
    if (!signed_set.count(needed)) return std::string("header not signed: ") + needed + " (" + signed_headers + ")";
  }

  std::string path = request.target.substr(0, request.target.find('?'));
  std::string query = request.target.find('?') == std::string::npos ? "" : request.target.substr(request.target.find('?') + 1);
  std::vector<std::string> params;
  std::stringstream query_stream(query);
  for (std::string param; std::getline(query_stream, param, '&');) {
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string name = PercentDecode(param.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : PercentDecode(param.substr(eq + 1));
    params.push_back(AwsEncode(name, false) + "=" + AwsEncode(value, false));
  }
  std::sort(params.begin(), params.end());
  std::string canonical_query;
  for (const auto& p : params) canonical_query += (canonical_query.empty() ? "" : "&") + p;

  std::string canonical = request.method + "\n" + AwsEncode(PercentDecode(path), true) + "\n" + canonical_query + "\n";
  std::stringstream names(signed_headers);
  for (std::string name; std::getline(names, name, ';');) {
    auto [begin, end] = request.headers.equal_range(name);
    if (begin == end) return "signed header missing from the request: " + name;
    std::string value = begin->second;  // the first (curl may repeat x-amz-date given by the caller)
    value = std::regex_replace(value, std::regex("^ +| +$"), "");
    value = std::regex_replace(value, std::regex(" +"), " ");
    canonical += name + ":" + value + "\n";
  }
  canonical += "\n" + signed_headers + "\n" + payload;
  std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + Sha256(canonical);
  std::string key = Hmac(Hmac(Hmac(Hmac("AWS4" + secret_key, date.substr(0, 8)), region), "s3"), "aws4_request");
  std::string hmac = Hmac(key, to_sign);
  std::string expected = Hex(reinterpret_cast<const unsigned char*>(hmac.data()), hmac.size());
  if (expected != signature) return "signature " + signature + ", expected " + expected + " for:\n" + canonical;
  return "";
}

}  // namespace faas_test
