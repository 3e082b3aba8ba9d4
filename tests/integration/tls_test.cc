// TLS through the real client library, protocol and server (TEST backend):
// CUDA programs and their host channels over TLS, what plaintext and TLS
// clients and servers that do not match are told, the checks of the
// server's certificate and of client certificates, leases judged on the
// Hello read inside TLS, and hostile peers that stall or garble the TLS
// handshake. The PKI is made at test time (tests/transport/tls_test_certs.h,
// TEST EQUIPMENT). Each TEST_CASE is one CTest entry (CMakeLists.txt).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <openssl/ssl.h>

#include "harness.h"
#include "common/env.h"
#include "protocol/lease_token.h"
#include "protocol/tls/tls_preamble.h"
#include "tls_test_certs.h"

namespace rcuda::itest {
namespace {

// The PKI of this test process, removed at exit.
const std::string& Pki() {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/rcuda-itest-tls-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    REQUIRE(testing::MakeTestPki(d).ok());
    return d;
  }();
  return dir;
}
struct PkiCleanup {
  ~PkiCleanup() {
    std::error_code ec;
    std::filesystem::remove_all(
        std::filesystem::temp_directory_path().string() + "/rcuda-itest-tls-" + std::to_string(getpid()), ec);
  }
} pki_cleanup;

// A server offering TLS with `cert` (server, other-name), plus `more`.
TestServer::Options TlsServerOptions(std::vector<std::string> more = {}, const std::string& cert = "server") {
  TestServer::Options options;
  options.extra_args = {"--tls-cert", Pki() + "/" + cert + ".pem", "--tls-key", Pki() + "/" + cert + ".key",
                        "--test-kernels", RCUDA_ITEST_CUDA_KERNELS};
  options.extra_args.insert(options.extra_args.end(), more.begin(), more.end());
  return options;
}

// A client that uses TLS (over TCP, even to this host) trusting our CA.
std::vector<std::string> TlsClient(const TestServer& server, std::vector<std::string> more = {}) {
  std::vector<std::string> env = {"RCUDA_TLS=1", "RCUDA_TLS_CA=" + Pki() + "/ca.pem", "RCUDA_TRANSPORT=tcp"};
  env.insert(env.end(), more.begin(), more.end());
  return ClientEnv(server.endpoint(), env);
}

std::string Describe(const Program& p, const TestServer& server) {
  return "--- stdout:\n" + p.Stdout() + "--- stderr:\n" + p.Stderr() + "--- server log:\n" + server.Log();
}

// Runs fault_probe's computation; returns its stderr when it failed.
bool Computes(const TestServer& server, const std::vector<std::string>& env, std::string* failure = nullptr) {
  Program p(BuildPaths::Probe(), {"compute", "3"}, env);
  auto rc = p.Wait(milliseconds(60000));
  if (failure) *failure = Describe(p, server);
  return rc == 0 && p.Line("OK 3");
}

// A first call that fails: its error text (stderr).
std::string FirstCallError(const TestServer& server, const std::vector<std::string>& env) {
  Program p(BuildPaths::Probe(), {"first-call"}, env);
  auto rc = p.Wait(milliseconds(60000));
  INFO(Describe(p, server));
  REQUIRE(rc == 0);  // the probe saw its calls fail
  auto first = p.Line("FIRST");
  REQUIRE(first);
  CHECK(first->find("cudaSuccess") == std::string::npos);
  return p.Stderr();
}

// A lease token for GPU 0 of `node`:`port`, signed with `key`.
std::string LeaseToken(const std::string& key, const std::string& lease, const std::string& node, uint16_t port,
                       uint64_t mem_bytes) {
  LeaseClaims claims;
  claims.lease_id = lease;
  claims.expires_unix = NowUnixSeconds() + 3600;
  claims.grants.push_back(LeaseGrant{node, port, 0, mem_bytes});
  return SignLeaseToken(claims, key);
}

std::set<pid_t> Workers(const TestServer& server) {
  auto w = server.WorkerProcesses();
  return std::set<pid_t>(w.begin(), w.end());
}

// A raw TCP peer that sends a TLS preamble (and whatever else it likes).
Status SendPreamble(RawClient& c, uint16_t port, const std::string& route = "") {
  RCUDA_RETURN_IF_ERROR(c.Connect(port, Via::kTcp));
  return WriteFrame(c.connection(), TlsPreamble(0, route));
}

// A genuine ClientHello, made with memory BIOs (and nothing after it).
std::string RealClientHello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), out);
  SSL_set_connect_state(ssl);
  (void)SSL_do_handshake(ssl);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(std::max(n, 0L)));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

}  // namespace

TEST_CASE("CUDA programs and their host channels run over TLS; plaintext is refused", "[tls_programs]") {
  TestServer server(TlsServerOptions({"--require-tls=all"}));
  REQUIRE(server.started());
  // Host functions (cudaLaunchHostFunc) and asynchronous copies into pinned
  // memory both travel on the session's host channel.
  for (const char* program : {RCUDA_ITEST_HOST_FUNC, RCUDA_ITEST_MEMCPY_ASYNC}) {
    server.WaitForWarmWorker();
    Program p(program, {}, TlsClient(server));
    auto rc = p.Wait(milliseconds(120000));
    INFO(Describe(p, server));
    CHECK(rc == 0);
    CHECK(p.Line("PASS"));
  }
  // CUDA calls from the program's atexit handlers still travel over TLS
  // (OpenSSL must not have cleaned up before them).
  server.WaitForWarmWorker();
  {
    Program p(RCUDA_ITEST_TLS_ATEXIT, {}, TlsClient(server));
    auto rc = p.Wait(milliseconds(60000));
    INFO(Describe(p, server));
    CHECK(rc == 0);
    CHECK(p.Line("ATEXIT OK"));
  }
  CHECK(server.WaitForLogLine({"over TLS"}, milliseconds(5000)));
  CHECK(server.WaitForLogLine({"TLS host channel from", "TLSv1.3"}, milliseconds(5000)));
  // A device named tls:// uses TLS whatever RCUDA_TLS and RCUDA_TRANSPORT say
  // (auto would pick shared memory for this host).
  server.WaitForWarmWorker();
  std::string failure;
  CHECK(Computes(server, ClientEnv("tls://" + server.endpoint(), {"RCUDA_TLS_CA=" + Pki() + "/ca.pem"}), &failure));
  INFO(failure);
  // A plaintext TCP client learns what to set.
  std::string err = FirstCallError(server, ClientEnv(server.endpoint(), {"RCUDA_TRANSPORT=tcp"}));
  CHECK_THAT(err, Catch::Contains("requires TLS") && Catch::Contains("RCUDA_TLS=1"));
  CHECK(server.Alive());
}

TEST_CASE("clients and servers that do not match fail clearly", "[tls_mismatch]") {
  SECTION("a TLS client and a server without TLS") {
    TestServer plain;
    REQUIRE(plain.started());
    std::string err = FirstCallError(plain, TlsClient(plain));
    CHECK_THAT(err, Catch::Contains("does not offer TLS"));
  }
  SECTION("--require-tls alone refuses only clients on other hosts: loopback may stay plaintext") {
    TestServer server(TlsServerOptions({"--require-tls"}));
    REQUIRE(server.started());
    std::string failure;
    CHECK(Computes(server, ClientEnv(server.endpoint(), {"RCUDA_TRANSPORT=tcp"}), &failure));
    INFO(failure);
    CHECK(server.WaitForLogLine({"refused unless they are on this host"}, milliseconds(5000)));
  }
  SECTION("a client that trusts another CA") {
    TestServer server(TlsServerOptions());
    REQUIRE(server.started());
    std::string err = FirstCallError(server, TlsClient(server, {"RCUDA_TLS_CA=" + Pki() + "/other-ca.pem"}));
    CHECK_THAT(err, Catch::Contains("server's certificate was refused") && Catch::Contains("RCUDA_TLS_CA"));
  }
  SECTION("a certificate for another name; accepted when that name is the one asked for") {
    TestServer server(TlsServerOptions({}, "other-name"));
    REQUIRE(server.started());
    std::string err = FirstCallError(server, TlsClient(server));
    CHECK_THAT(err, Catch::Contains("IP address mismatch"));
    std::string failure;
    CHECK(Computes(server, TlsClient(server, {"RCUDA_TLS_SERVER_NAME=other.example"}), &failure));
    INFO(failure);
  }
}

TEST_CASE("mutual TLS: without a client certificate, or with a stranger's, refused; with ours, served",
          "[tls_mutual]") {
  TestServer server(TlsServerOptions({"--tls-client-ca", Pki() + "/ca.pem", "--require-tls=all"}));
  REQUIRE(server.started());
  std::string err = FirstCallError(server, TlsClient(server));
  CHECK_THAT(err, Catch::Contains("requires a client certificate") && Catch::Contains("RCUDA_TLS_CERT"));
  server.WaitForWarmWorker();
  err = FirstCallError(server, TlsClient(server, {"RCUDA_TLS_CERT=" + Pki() + "/stranger.pem",
                                                  "RCUDA_TLS_KEY=" + Pki() + "/stranger.key"}));
  CHECK_THAT(err, Catch::Contains("alert"));
  server.WaitForWarmWorker();
  std::string failure;
  CHECK(Computes(server, TlsClient(server, {"RCUDA_TLS_CERT=" + Pki() + "/client.pem",
                                            "RCUDA_TLS_KEY=" + Pki() + "/client.key"}),
                 &failure));
  INFO(failure);
  CHECK(server.WaitForLogLine({"client certificate", "rcuda test client"}, milliseconds(5000)));
}

TEST_CASE("leases over TLS: the daemon judges the token the worker read inside TLS", "[tls_lease]") {
  const std::string key = "tls-test-lease-key-0123456789abcdef";
  const std::string key_file = Pki() + "/lease.key";
  const std::string revoked_file = Pki() + "/revoked";
  std::ofstream(key_file) << key << "\n";
  std::ofstream(revoked_file) << FormatRevokedLeases({{"tls-lease-released", NowUnixSeconds() + 3600}});
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  // No --node-name: the server's is its host name, and tokens must name it.
  TestServer server(TlsServerOptions(
      {"--auth-key-file", key_file, "--revoked-leases-file", revoked_file, "--require-tls=all"}));
  REQUIRE(server.started());
  const uint16_t port = server.port();

  Program held(BuildPaths::Probe(), {"two-phase"},
               TlsClient(server, {"RCUDA_TOKEN=" + LeaseToken(key, "tls-lease-1", host, port, 64 << 20)}));
  if (!held.WaitForLine("PHASE1 OK", milliseconds(60000))) FAIL(Describe(held, server));
  // The daemon never saw the token in the clear, yet it knows the lease.
  CHECK(WaitUntil([&] { return ReadFile(server.dir() + "/status.json").find("\"lease\":\"tls-lease-1\"") !=
                               std::string::npos; },
                  milliseconds(5000)));
  held.SendLine("GO");
  CHECK(held.Wait(milliseconds(60000)) == 0);

  server.WaitForWarmWorker();
  CHECK_THAT(FirstCallError(server, TlsClient(server)), Catch::Contains("requires a lease token"));
  server.WaitForWarmWorker();
  CHECK_THAT(FirstCallError(server, TlsClient(server, {"RCUDA_TOKEN=" + LeaseToken(key, "tls-lease-2", "other-node",
                                                                                   port, 64 << 20)})),
             Catch::Contains("does not grant GPU 0"));
  server.WaitForWarmWorker();
  CHECK_THAT(FirstCallError(server, TlsClient(server, {"RCUDA_TOKEN=" + LeaseToken(key, "tls-lease-released", host,
                                                                                   port, 64 << 20)})),
             Catch::Contains("lease tls-lease-released was released"));
  CHECK(server.Alive());
}

TEST_CASE("hostile peers: garbage, a stalled ClientHello or handshake, false routes; the daemon goes on",
          "[tls_hostile]") {
  TestServer server(TlsServerOptions({"--handshake-timeout", "1", "--warm-workers", "1"}));
  REQUIRE(server.started());
  const std::set<pid_t> warm = Workers(server);
  REQUIRE(warm.size() == 1);

  SECTION("what the daemon refuses costs no worker") {
    // Garbage instead of a ClientHello; a preamble and then silence; a
    // preamble that carries a token; a route to no session; noise before
    // any frame.
    RawClient garbage, silent, token, route, noise;
    REQUIRE(SendPreamble(garbage, server.port()).ok());
    REQUIRE(garbage.WriteRaw("GET / HTTP/1.1\r\n\r\n", 18).ok());
    REQUIRE(SendPreamble(silent, server.port()).ok());
    REQUIRE(SendPreamble(route, server.port(), std::string(32, 'a')).ok());
    REQUIRE(route.WriteRaw(RealClientHello().data(), RealClientHello().size()).ok());
    REQUIRE(token.Connect(server.port(), Via::kTcp).ok());
    {
      flatbuffers::FlatBufferBuilder b;
      auto t = b.CreateString("secret-token");
      auto tr = b.CreateString("tls");
      wire::HelloBuilder h(b);
      h.add_token(t);
      h.add_transport(tr);
      auto body = h.Finish();
      wire::MessageBuilder m(b);
      m.add_request_type(wire::Request::Hello);
      m.add_request(body.Union());
      b.Finish(m.Finish());
      REQUIRE(WriteFrame(token.connection(), std::span(b.GetBufferPointer(), b.GetSize())).ok());
    }
    REQUIRE(noise.Connect(server.port(), Via::kTcp).ok());
    REQUIRE(noise.WriteRaw("\x16\x03\x01\x00\x05hello", 10).ok());
    for (RawClient* c : {&garbage, &silent, &token, &route, &noise}) CHECK(c->WaitClosed(milliseconds(10000)));
    CHECK(server.WaitForLogLine({"not a TLS ClientHello"}, milliseconds(5000)));
    CHECK(server.WaitForLogLine({"must not carry a token"}, milliseconds(5000)));
    CHECK(server.WaitForLogLine({"no session with that route"}, milliseconds(5000)));
    CHECK(Workers(server) == warm);  // the warm worker is still the one there was
  }
  SECTION("a peer that stalls inside the handshake holds a worker only until its deadline") {
    std::vector<std::unique_ptr<RawClient>> stalled;
    for (int i = 0; i < 3; ++i) {
      stalled.push_back(std::make_unique<RawClient>());
      REQUIRE(SendPreamble(*stalled.back(), server.port()).ok());
      std::string hello = RealClientHello();
      REQUIRE(stalled.back()->WriteRaw(hello.data(), hello.size()).ok());
    }
    // Meanwhile a real client is served.
    std::string failure;
    CHECK(Computes(server, TlsClient(server), &failure));
    INFO(failure);
    auto start = Clock::now();
    for (auto& c : stalled) CHECK(c->WaitClosed(milliseconds(10000)));
    CHECK(Clock::now() - start < milliseconds(10000));
    CHECK(server.WaitForLogLine({"worker: TLS handshake", "timed out"}, milliseconds(5000)));
  }
  CHECK(server.Alive());
  server.WaitForWarmWorker();
  std::string failure;
  CHECK(Computes(server, TlsClient(server), &failure));
  INFO(failure);
}

}  // namespace rcuda::itest
