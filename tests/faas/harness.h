// TEST EQUIPMENT for the faas tests: real services on 127.0.0.1, started on
// free ports in a private directory, waited for on readiness conditions and
// stopped by pid:
//   RedisServer  Debian's redis-server (optionally with AOF, fsync always)
//   S3rver       npm's s3rver (faas/testing/s3rver/install.sh installs it)
//   CaptureServer an HTTP server (cpp-httplib) that records requests and
//                answers as told, for checking what the S3 client sends
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faas_test {

// A private directory under /tmp, removed at the end (unless FAAS_TEST_KEEP).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
// Polls `predicate` every 10 ms until true or the timeout passes.
bool WaitUntil(int timeout_ms, const std::function<bool()>& predicate);
// A port free on 127.0.0.1 when asked (the caller retries if it is taken).
int FreePort();

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path);
// True when pid has exited (reaped); *code gets its exit status.
bool Exited(pid_t pid, int* code = nullptr);
// SIGTERM, then SIGKILL after grace_ms; reaps the process.
void Stop(pid_t pid, int grace_ms = 5000);
int WaitExit(pid_t pid);

class RedisServer {
 public:
  explicit RedisServer(bool aof = false);
  ~RedisServer();
  void Start();           // on a new port the first time, the same port after
  void Kill();            // SIGKILL: what an unplanned stop looks like
  bool Ping() const;
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool aof_;
  int port_ = 0;
  int starts_ = 0;
  pid_t pid_ = -1;
};

// Where install.sh put s3rver; empty (and *why set) when it is missing or
// was installed from another lockfile.
std::string S3rverDir(std::string* why);

class S3rver {
 public:
  S3rver();
  ~S3rver();
  // http://127.0.0.1:PORT (path-style) and http://s3.localhost:PORT (its
  // virtual-host buckets: bucket.s3.localhost, which libcurl resolves to
  // the loopback address).
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string vhost_endpoint() const { return "http://s3.localhost:" + std::to_string(port_); }
  int port() const { return port_; }
  // s3rver's built-in account.
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct CapturedRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::multimap<std::string, std::string> headers;  // names lower case
  std::string body;
  std::string Header(const std::string& name) const;
};

struct CannedResponse {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
  bool chunked = false;  // send the body without a Content-Length
};

class CaptureServer {
 public:
  // respond picks the answer to each request (in arrival order, from 0).
  using Responder = std::function<CannedResponse(const CapturedRequest& request, int index)>;
  explicit CaptureServer(Responder respond);
  ~CaptureServer();
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<CapturedRequest> requests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Recomputes an AWS Signature V4 for a captured request (S3 rules: the
// path as sent, the query canonicalized, the signed headers named in the
// Authorization header, the payload hash from x-amz-content-sha256) and
// returns "" when the Authorization header matches, else what differs.
// Written from AWS's published description; checked against AWS's own
// example in the tests.
std::string CheckSigV4(const CapturedRequest& request, const std::string& access_key, const std::string& secret_key,
                       const std::string& region);

}  // namespace faas_test
