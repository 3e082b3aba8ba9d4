// Lease security, scheduler part, through the real binaries: leases bound to their
// holder's secret, lease ids for operators only, host names that cannot reach
// a shell, and released leases revoked on their nodes.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "harness.h"
#include "scheduler/json.h"
#include "scheduler/line_client.h"

using namespace sched_test;
using rcuda::sched::Json;

namespace {

constexpr const char* kOneGpu = "0 16G 16G 0 Test GPU (inventory)\n";

Json ParseOut(const RunResult& r) {
  Json json;
  INFO("stdout: " << r.out << " stderr: " << r.err);
  REQUIRE(rcuda::sched::ParseJson(r.out, &json).ok());
  return json;
}

std::vector<std::string> SecretEnv(const std::string& secret) { return {"SSGM_LEASE_SECRET=" + secret}; }

bool HasMember(const Json& object, const char* name) { return object.Find(name) != nullptr; }

// Test equipment: a fake ssgmd on 127.0.0.1 that answers one request line
// with `reply`, as a compromised ssgmd (or someone on the path) could.
class FakeSsgmd {
 public:
  explicit FakeSsgmd(std::string reply) : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 || listen(fd_, 4) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error("fake ssgmd: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSsgmd() {
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return;  // bounded: the test's ssgm connects at once
    int client = accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    char buffer[4096];
    std::string line;
    for (int reads = 0; reads < 100 && line.find('\n') == std::string::npos; ++reads) {
      pollfd c{client, POLLIN, 0};
      if (poll(&c, 1, 5000) != 1) break;
      ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, size_t(n));
    }
    std::string out = reply_ + "\n";
    if (write(client, out.data(), out.size()) < 0) {
      // ssgm left; nothing to do.
    }
    close(client);
  }

  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("renew and release need the lease's secret; operators need none and alone see lease ids",
          "[integration][security][secret]") {
  Cluster cluster;
  WriteFile(cluster.Path("operator.key"), "operator-key-for-the-test-0123456789\n");
  cluster.StartSsgmd({"--operator-key-file", cluster.Path("operator.key")});
  cluster.StartMonitor("n1", kOneGpu);
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));

  Json granted = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "4G", "--key", "job-7"}));
  std::string lease = granted.Find("lease")->AsString();
  std::string secret = granted.Find("secret")->AsString();
  CHECK(secret.size() == 32);

  // Whoever knows only the id (or guesses the key) gets nowhere.
  RunResult release = cluster.Ssgm({"release", lease});
  CHECK(release.exit_code == 1);
  CHECK_THAT(release.err, Catch::Contains("needs its secret"));
  CHECK(cluster.Ssgm({"release", lease}, SecretEnv("0123456789abcdef0123456789abcdef")).exit_code == 1);
  CHECK(cluster.Ssgm({"renew", lease}).exit_code == 1);
  RunResult stolen = cluster.Ssgm({"request", "--mem", "4G", "--key", "job-7"});
  CHECK(stolen.exit_code == 1);
  CHECK(stolen.out == "SSGM_ERROR=1\n");  // no token, no secret
  CHECK(cluster.Status().Find("lease_count")->AsInt() == 1);

  // The holder renews (secret from a file) and repeats its request (same key, same secret).
  WriteFile(cluster.Path("secret"), secret + "\n");
  CHECK(cluster.Ssgm({"renew", lease, "--secret-file", cluster.Path("secret")}).exit_code == 0);
  Json repeat = ParseOut(cluster.Ssgm(
      {"--format", "json", "request", "--mem", "4G", "--key", "job-7", "--secret-file", cluster.Path("secret")}));
  CHECK(repeat.Find("lease")->AsString() == lease);
  CHECK(repeat.Find("repeated")->AsBool());

  // Status: no ids or keys for clients, both for operators.
  Json status = cluster.Status();
  REQUIRE(status.Find("leases")->items().size() == 1);
  const Json& shown = status.Find("leases")->items()[0];
  CHECK_FALSE(HasMember(shown, "id"));
  CHECK_FALSE(HasMember(shown, "key"));
  CHECK_FALSE(HasMember(shown, "secret_sha256"));
  CHECK(status.Dump().find(lease) == std::string::npos);
  CHECK(cluster.Ssgm({"status"}).out.find(lease) == std::string::npos);
  Json operator_view =
      ParseOut(cluster.Ssgm({"--operator-key-file", cluster.Path("operator.key"), "--format", "json", "status"}));
  const Json& full = operator_view.Find("leases")->items()[0];
  CHECK(full.Find("id")->AsString() == lease);
  CHECK(full.Find("key")->AsString() == "job-7");
  CHECK_FALSE(HasMember(full, "secret_sha256"));

  // An operator releases any lease without its secret.
  Json released = ParseOut(
      cluster.Ssgm({"--operator-key-file", cluster.Path("operator.key"), "--format", "json", "release", lease}));
  CHECK(released.Find("released")->AsBool());
  CHECK(cluster.Status().Find("lease_count")->AsInt() == 0);
  CHECK(cluster.Status().Find("stats")->Find("counters")->Find("forbidden")->AsInt() >= 3);
}

TEST_CASE("a restarted ssgmd still knows who may release a lease; the journal holds no secret",
          "[integration][security][secret][restart]") {
  Cluster cluster;
  cluster.StartSsgmd();
  cluster.StartMonitor("n1", kOneGpu);
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));
  Json granted = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "1G"}));
  std::string lease = granted.Find("lease")->AsString();
  std::string secret = granted.Find("secret")->AsString();
  cluster.KillSsgmd(SIGKILL);
  CHECK(ReadFile(cluster.Path("ssgmd.journal")).find(secret) == std::string::npos);
  CHECK(ReadFile(cluster.Path("ssgmd.journal")).find("secret_sha256") != std::string::npos);
  cluster.StartSsgmd();
  CHECK(cluster.Ssgm({"release", lease}).exit_code == 1);
  RunResult released = cluster.Ssgm({"--format", "json", "release", lease}, SecretEnv(secret));
  CHECK(released.exit_code == 0);
  CHECK(ParseOut(released).Find("released")->AsBool());
}

TEST_CASE("a crafted host name never reaches a shell that evaluates ssgm's output", "[integration][security][host]") {
  std::string marker = "/tmp/lease_security_pwned_" + std::to_string(getpid());
  std::remove(marker.c_str());
  std::string evil_host = "x';touch " + marker + ";'";
  Cluster cluster;
  cluster.StartSsgmd();

  // ssgmd refuses the report of a monitor (or anyone) advertising such a host.
  Json report = Json::Object();
  report.Set("op", "report");
  report.Set("node", "evil");
  report.Set("host", evil_host);
  report.Set("port", int64_t(8308));
  Json gpus = Json::Array();
  Json gpu = Json::Object();
  gpu.Set("index", int64_t(0));
  gpu.Set("total", int64_t(16) << 30);
  gpu.Set("free", int64_t(16) << 30);
  gpus.Push(gpu);
  report.Set("gpus", gpus);
  Json refused = cluster.Ask(report.Dump());
  CHECK(refused.Find("error")->AsInt() == 1);
  CHECK_THAT(refused.Find("message")->AsString(), Catch::Contains("bad host"));
  CHECK(cluster.Status().Find("nodes")->items().empty());

  // The monitor refuses to start with it.
  RunResult monitor = Run({BinPath("rcuda-gpu-monitor"), "--scheduler", cluster.server(), "--node-name", "evil",
                           "--advertise-host", evil_host, "--inventory", "/dev/null"});
  CHECK(monitor.exit_code == 1);
  CHECK_THAT(monitor.err, Catch::Contains("--advertise-host"));

  // And ssgm, given such a grant by a fake ssgmd, prints no part of it.
  FakeSsgmd fake(R"({"error":0,"lease":"abc","mem":1,"expires_ms":1,"token":"rct1.x.y","devices":[{"node":"n1",)"
                 R"("host":"x';touch )" + marker + R"(;'","port":8308,"gpu":0,"mem":1}]})");
  RunResult shell = Run({"/bin/sh", "-c", "eval \"$(" + BinPath("ssgm") + " --server 127.0.0.1:" +
                                              std::to_string(fake.port()) +
                                              " --retry-for 1s --format env request --mem 1G)\"; "
                                              "echo \"SSGM_ERROR=$SSGM_ERROR\""});
  CHECK_THAT(shell.out, Catch::Contains("SSGM_ERROR=1"));
  CHECK_THAT(shell.err, Catch::Contains("bad device"));
  CHECK(access(marker.c_str(), F_OK) != 0);
  std::remove(marker.c_str());
}

TEST_CASE("a released lease is revoked on its nodes, and stays so across an ssgmd restart",
          "[integration][security][revocation]") {
  Cluster cluster;
  cluster.StartSsgmd();
  std::string n1_file = cluster.Path("n1.revoked"), n2_file = cluster.Path("n2.revoked");
  cluster.StartMonitor("n1", kOneGpu, {"--revoked-leases-file", n1_file});
  cluster.StartMonitor("n2", "0 1G 1G 0 Small GPU (inventory)\n", {"--revoked-leases-file", n2_file});
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1") && cluster.NodeLive("n2"); }));
  auto lease_on_n1 = [&] {
    Json granted = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "4G"}));  // only n1 can hold it
    REQUIRE(granted.Find("devices")->items()[0].Find("node")->AsString() == "n1");
    return granted;
  };
  Json first = lease_on_n1();
  std::string lease = first.Find("lease")->AsString();
  REQUIRE(cluster.Ssgm({"release", lease}, SecretEnv(first.Find("secret")->AsString())).exit_code == 0);
  CHECK(WaitUntil(5000, [&] { return ReadFile(n1_file).find("\n" + lease + " ") != std::string::npos; }));
  CHECK(ReadFile(n2_file).rfind("rcuda-revoked-leases 1\n", 0) == 0);
  CHECK(ReadFile(n2_file).find(lease) == std::string::npos);  // not n2's lease
  CHECK(cluster.Status().Find("stats")->Find("counters")->Find("revoked_live")->AsInt() == 1);

  // After a restart (a new epoch) the monitor asks from the start; the file
  // keeps the first revocation and gains the next one.
  cluster.KillSsgmd(SIGKILL);
  cluster.StartSsgmd();
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));
  CHECK(cluster.Status().Find("stats")->Find("counters")->Find("revoked_live")->AsInt() == 1);  // from the journal
  Json second = lease_on_n1();
  std::string lease2 = second.Find("lease")->AsString();
  REQUIRE(cluster.Ssgm({"release", lease2}, SecretEnv(second.Find("secret")->AsString())).exit_code == 0);
  CHECK(WaitUntil(5000, [&] { return ReadFile(n1_file).find("\n" + lease2 + " ") != std::string::npos; }));
  CHECK(ReadFile(n1_file).find("\n" + lease + " ") != std::string::npos);
}

TEST_CASE("a peer that sends many requests before reading gets every answer, in order", "[integration][security]") {
  // ssgmd stops reading a connection with 64 answers unwritten and resumes as
  // they leave; the peer still gets all of them.
  Cluster cluster;
  cluster.StartSsgmd();
  rcuda::sched::LineClient client;
  REQUIRE(client.Connect("127.0.0.1", cluster.port(), 2000).ok());
  constexpr int kRequests = 500;
  std::string burst;
  for (int i = 0; i < kRequests; ++i) burst += R"({"op":"stats","id":)" + std::to_string(i) + "}\n";
  burst.pop_back();  // WriteLine adds the last newline
  REQUIRE(client.WriteLine(burst, 5000).ok());
  for (int i = 0; i < kRequests; ++i) {
    std::string line;
    REQUIRE(client.ReadLine(&line, 5000).ok());
    Json reply;
    REQUIRE(rcuda::sched::ParseJson(line, &reply).ok());
    REQUIRE(reply.Find("id")->AsInt() == i);
  }
}
