// ssgm, ssgmd and rcuda-gpu-monitor together, as separate processes on a
// free port, GPUs from inventory files.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness.h"
#include "protocol/lease_token.h"
#include "scheduler/json.h"
#include "scheduler/line_client.h"

using namespace sched_test;
using rcuda::sched::Json;

namespace {

constexpr const char* kTwoGpus = "0 16G 16G 0 Test GPU A (inventory)\n1 8G 8G 0 Test GPU B (inventory)\n";

Json ParseOut(const RunResult& r) {
  Json json;
  rcuda::Status s = rcuda::sched::ParseJson(r.out, &json);
  INFO("stdout: " << r.out << " stderr: " << r.err);
  REQUIRE(s.ok());
  return json;
}

void StartCluster(Cluster& cluster, const std::vector<std::string>& ssgmd_extra = {},
                  const std::string& inventory = kTwoGpus) {
  cluster.StartSsgmd(ssgmd_extra);
  cluster.StartMonitor("n1", inventory);
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));
}

}  // namespace

TEST_CASE("ssgm request prints the lease in all three formats; the token verifies for its GPU", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);

  RunResult line = cluster.Ssgm({"request", "--gpus", "1", "--mem", "1G"});
  INFO(line.err);
  REQUIRE(line.exit_code == 0);
  CHECK(line.out.rfind("SSGM_ERROR=0;SSGM_JOB_ID=", 0) == 0);
  CHECK(line.out.find(";RCUDA_DEVICE_COUNT=1;RCUDA_DEVICE_0=127.0.0.1@8308:") != std::string::npos);
  CHECK(line.out.find(";RCUDA_TOKEN=rct1.") != std::string::npos);

  RunResult env = cluster.Ssgm({"--format", "env", "request", "--gpus", "2", "--mem", "2G"});
  REQUIRE(env.exit_code == 0);
  CHECK(env.out.find("export RCUDA_DEVICE_COUNT='2';\n") != std::string::npos);
  // The env format works with eval in a real shell.
  RunResult shell = Run({"/bin/sh", "-c", "eval \"$(" + BinPath("ssgm") + " --server " + cluster.server() +
                                              " --format env request --mem 1G)\"; echo \"$SSGM_ERROR $RCUDA_DEVICE_COUNT $RCUDA_DEVICE_0\""});
  CHECK(shell.out.rfind("0 1 127.0.0.1@8308:", 0) == 0);

  RunResult json_run = cluster.Ssgm({"--format", "json", "request", "--mem", "3G"});
  REQUIRE(json_run.exit_code == 0);
  Json json = ParseOut(json_run);
  std::string token = json.Find("token")->AsString();
  const Json& device = json.Find("devices")->items()[0];
  rcuda::LeaseClaims claims;
  REQUIRE(rcuda::VerifyLeaseToken(token, cluster.key(), time(nullptr), &claims).ok());
  CHECK(claims.lease_id == json.Find("lease")->AsString());
  int gpu = int(device.Find("gpu")->AsInt());
  const rcuda::LeaseGrant* grant = rcuda::FindGrant(claims, "n1", 8308, gpu);
  REQUIRE(grant != nullptr);
  CHECK(grant->mem_bytes == (3ull << 30));
  CHECK(rcuda::FindGrant(claims, "n1", 8308, 1 - gpu) == nullptr);  // not the other GPU
  CHECK(rcuda::FindGrant(claims, "n2", 8308, gpu) == nullptr);      // not another node
  CHECK_FALSE(rcuda::VerifyLeaseToken(token, "some-other-key-of-enough-length", time(nullptr), &claims).ok());
  CHECK(cluster.Status().Find("invariants")->AsString() == "ok");
}

TEST_CASE("release is idempotent and renew gives a fresh expiry", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  Json granted = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "1G", "--ttl", "60"}));
  std::string lease = granted.Find("lease")->AsString();
  std::vector<std::string> secret = {"SSGM_LEASE_SECRET=" + granted.Find("secret")->AsString()};
  Json renewed = ParseOut(cluster.Ssgm({"--format", "json", "renew", lease, "--ttl", "600"}, secret));
  CHECK(renewed.Find("expires_unix")->AsInt() >= granted.Find("expires_unix")->AsInt() + 500);
  CHECK(renewed.Find("secret")->AsString() == granted.Find("secret")->AsString());
  RunResult first = cluster.Ssgm({"--format", "json", "release", lease}, secret);
  RunResult second = cluster.Ssgm({"--format", "json", "release", lease}, secret);
  CHECK(first.exit_code == 0);
  CHECK(second.exit_code == 0);
  CHECK(ParseOut(first).Find("released")->AsBool());
  CHECK_FALSE(ParseOut(second).Find("released")->AsBool());
  RunResult gone = cluster.Ssgm({"renew", lease});
  CHECK(gone.exit_code == 1);
  CHECK(gone.out == "SSGM_ERROR=1\n");
}

TEST_CASE("non-blocking requests are busy at once; blocking ones wait and are served in order", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  Json a = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "16G"}));
  Json b = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "8G"}));
  RunResult busy = cluster.Ssgm({"request", "--mem", "1G"});
  CHECK(busy.exit_code == 2);
  CHECK(busy.out == "SSGM_ERROR=2\n");
  CHECK(busy.seconds < 2);

  pid_t first = Spawn({BinPath("ssgm"), "--server", cluster.server(), "request", "--mem", "10G", "--wait=30s"},
                      cluster.Path("first.out"));
  REQUIRE(WaitUntil(5000, [&] { return cluster.Status().Find("queue")->AsInt() == 1; }));
  pid_t second = Spawn({BinPath("ssgm"), "--server", cluster.server(), "request", "--mem", "1G", "--wait"},
                       cluster.Path("second.out"));
  REQUIRE(WaitUntil(5000, [&] { return cluster.Status().Find("queue")->AsInt() == 2; }));
  // Releasing the 8 GiB lease would fit the second (1G) but not the first
  // (10G): the second must not overtake.
  auto secret_of = [](const Json& lease) {
    return std::vector<std::string>{"SSGM_LEASE_SECRET=" + lease.Find("secret")->AsString()};
  };
  CHECK(cluster.Ssgm({"release", b.Find("lease")->AsString()}, secret_of(b)).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(cluster.Status().Find("queue")->AsInt() == 2);
  CHECK(cluster.Ssgm({"release", a.Find("lease")->AsString()}, secret_of(a)).exit_code == 0);
  CHECK(WaitExit(first) == 0);
  CHECK(WaitExit(second) == 0);
  CHECK(ReadFile(cluster.Path("first.out")).find("SSGM_ERROR=0;") != std::string::npos);
  CHECK(ReadFile(cluster.Path("second.out")).find("SSGM_ERROR=0;") != std::string::npos);
  CHECK(cluster.Status().Find("invariants")->AsString() == "ok");
}

TEST_CASE("a blocking request whose deadline passes is answered busy", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  REQUIRE(cluster.Ssgm({"request", "--mem", "16G"}).exit_code == 0);
  RunResult late = cluster.Ssgm({"request", "--mem", "10G", "--wait=700ms"});
  CHECK(late.exit_code == 2);
  CHECK(late.err.find("waited") != std::string::npos);
  CHECK(late.seconds >= 0.65);
  CHECK(late.seconds < 3.0);
  CHECK(cluster.Status().Find("queue")->AsInt() == 0);
}

TEST_CASE("an impossible request is refused at once in both modes", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  RunResult now = cluster.Ssgm({"request", "--mem", "17G"});
  CHECK(now.exit_code == 1);
  CHECK(now.err.find("no GPU can hold") != std::string::npos);
  RunResult blocking = cluster.Ssgm({"request", "--mem", "17G", "--wait=30s"});
  CHECK(blocking.exit_code == 1);
  CHECK(blocking.seconds < 2);
  CHECK(cluster.Ssgm({"request", "--gpus", "3", "--mem", "1G", "--wait"}).exit_code == 1);
  CHECK(cluster.Ssgm({"request", "--gpus", "2", "--mem", "9G", "--wait"}).exit_code == 1);
}

TEST_CASE("a request repeated with the same key gets the same lease", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  // A repeat from another invocation carries the same secret (--secret-file).
  WriteFile(cluster.Path("secret"), "job-42-secret-0123456789\n");
  std::vector<std::string> args = {"--format", "json", "request", "--mem", "4G", "--key", "job-42",
                                   "--secret-file", cluster.Path("secret")};
  Json first = ParseOut(cluster.Ssgm(args));
  Json again = ParseOut(cluster.Ssgm(args));
  REQUIRE(again.Find("lease"));
  CHECK(first.Find("lease")->AsString() == again.Find("lease")->AsString());
  CHECK(again.Find("repeated")->AsBool());
  CHECK(first.Find("token")->AsString() == again.Find("token")->AsString());
  CHECK(cluster.Status().Find("lease_count")->AsInt() == 1);
  CHECK(cluster.Ssgm({"request", "--mem", "5G", "--key", "job-42", "--secret-file", cluster.Path("secret")})
            .exit_code == 1);
}

TEST_CASE("malformed requests get SSGM_ERROR=1 and ssgmd goes on", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  rcuda::sched::LineClient client;
  REQUIRE(client.Connect("127.0.0.1", cluster.port(), 2000).ok());
  for (const char* bad : {"garbage", "[1,2]", "{\"op\":42}", "{\"op\":\"fly\"}", "{\"op\":\"request\"}",
                          "{\"op\":\"request\",\"mem\":-5}", "{\"op\":\"request\",\"mem\":1,\"gpus\":1000}",
                          "{\"op\":\"request\",\"mem\":\"1G\"}", "{\"op\":\"request\",\"mem\":1,\"key\":\"a b\"}",
                          "{\"op\":\"release\"}", "{\"op\":\"renew\",\"lease\":7}", "{\"op\":\"report\",\"node\":\"x\"}",
                          "{\"op\":\"request\",\"mem\":1,\"ttl_ms\":999999999999}"}) {
    INFO(bad);
    REQUIRE(client.WriteLine(bad, 2000).ok());
    std::string line;
    REQUIRE(client.ReadLine(&line, 2000).ok());
    Json reply;
    REQUIRE(rcuda::sched::ParseJson(line, &reply).ok());
    CHECK(reply.Find("error")->AsInt() == 1);
    CHECK(reply.Find("message")->AsString().size() > 5);
  }
  // The same connection still serves a good request, with its id echoed.
  REQUIRE(client.WriteLine(R"({"op":"request","mem":1024,"id":"abc"})", 2000).ok());
  std::string line;
  REQUIRE(client.ReadLine(&line, 2000).ok());
  Json reply;
  REQUIRE(rcuda::sched::ParseJson(line, &reply).ok());
  CHECK(reply.Find("error")->AsInt() == 0);
  CHECK(reply.Find("id")->AsString() == "abc");
  // An endless line is refused and the connection closed; ssgmd survives.
  rcuda::sched::LineClient flood;
  REQUIRE(flood.Connect("127.0.0.1", cluster.port(), 2000).ok());
  std::string huge(2 << 20, 'x');
  flood.WriteLine(huge, 5000);  // may fail midway once ssgmd hangs up
  std::string refusal;
  if (flood.ReadLine(&refusal, 2000).ok()) CHECK(refusal.find("\"error\":1") != std::string::npos);
  CHECK(cluster.Ssgm({"request", "--mem", "1G"}).exit_code == 0);
  CHECK(cluster.Status().Find("stats")->Find("counters")->Find("malformed")->AsInt() >= 13);
}

TEST_CASE("with a client key, ssgmd serves only signed requests and reports", "[integration][auth]") {
  Cluster cluster;
  cluster.client_key = "client-key-for-the-integration-test-0123";
  WriteFile(cluster.Path("client.key"), cluster.client_key + "\n");
  WriteFile(cluster.Path("wrong.key"), "a-wrong-key-of-sufficient-length\n");
  cluster.StartSsgmd({"--client-key-file", cluster.Path("client.key")});

  // A monitor without the key is not heard: its node never goes live.
  pid_t unsigned_monitor = cluster.StartMonitor("n0", kTwoGpus);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK_FALSE(cluster.NodeLive("n0"));
  cluster.StopMonitor(unsigned_monitor);
  // One with the key is.
  cluster.StartMonitor("n1", kTwoGpus, {"--scheduler-key-file", cluster.Path("client.key")});
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));

  // ssgm without the key, or with another: refused with SSGM_ERROR=1, saying why.
  RunResult refused = cluster.Ssgm({"request", "--mem", "1G"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("unauthenticated"));
  RunResult wrong = cluster.Ssgm({"--auth-key-file", cluster.Path("wrong.key"), "request", "--mem", "1G"});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("signature"));
  // A request line sent by hand, unsigned: refused, and the connection goes on.
  rcuda::sched::LineClient client;
  REQUIRE(client.Connect("127.0.0.1", cluster.port(), 2000).ok());
  REQUIRE(client.WriteLine(R"({"op":"request","mem":1024})", 2000).ok());
  std::string line;
  REQUIRE(client.ReadLine(&line, 2000).ok());
  CHECK(line.find("\"error\":1") != std::string::npos);

  // With the key (option or SSGM_KEY_FILE): granted and released.
  RunResult granted =
      cluster.Ssgm({"--auth-key-file", cluster.Path("client.key"), "--format", "json", "request", "--mem", "1G"});
  INFO(granted.err);
  REQUIRE(granted.exit_code == 0);
  std::string lease = ParseOut(granted).Find("lease")->AsString();
  std::string secret = ParseOut(granted).Find("secret")->AsString();
  RunResult released = Run({"/bin/sh", "-c", "SSGM_KEY_FILE=" + cluster.Path("client.key") + " SSGM_LEASE_SECRET=" +
                                                 secret + " " + BinPath("ssgm") + " --server " + cluster.server() +
                                                 " --format json release " + lease});
  CHECK(released.exit_code == 0);
  CHECK(ParseOut(released).Find("released")->AsBool());
  CHECK(cluster.Status().Find("stats")->Find("counters")->Find("unauthenticated")->AsInt() >= 4);
}

TEST_CASE("a holder that dies loses its lease at its time to live", "[integration]") {
  Cluster cluster;
  StartCluster(cluster);
  // ssgm exits right after the grant: the "function" that held the lease is gone.
  RunResult holder = cluster.Ssgm({"--format", "json", "request", "--mem", "16G", "--ttl", "1"});
  REQUIRE(holder.exit_code == 0);
  std::string lease = ParseOut(holder).Find("lease")->AsString();
  auto start = std::chrono::steady_clock::now();
  RunResult waiter = cluster.Ssgm({"--format", "json", "request", "--mem", "12G", "--wait=10s"});
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(waiter.exit_code == 0);
  CHECK(waited < 3.0);
  Json status = cluster.Status();
  CHECK(status.Find("lease_count")->AsInt() == 1);
  CHECK(status.Find("stats")->Find("counters")->Find("expired")->AsInt() == 1);
  CHECK(cluster.Ssgm({"renew", lease}).exit_code == 1);
}

TEST_CASE("a node whose monitor stops reporting gets no new leases", "[integration]") {
  Cluster cluster;
  cluster.StartSsgmd({"--node-timeout", "600ms"});
  pid_t monitor = cluster.StartMonitor("n1", kTwoGpus);
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));
  CHECK(cluster.Ssgm({"request", "--mem", "1G"}).exit_code == 0);
  cluster.StopMonitor(monitor);
  REQUIRE(WaitUntil(5000, [&] { return !cluster.NodeLive("n1"); }));
  RunResult busy = cluster.Ssgm({"request", "--mem", "1G"});
  CHECK(busy.exit_code == 2);
  CHECK(busy.err.find("no live GPU node") != std::string::npos);
  pid_t waiting = Spawn({BinPath("ssgm"), "--server", cluster.server(), "request", "--mem", "1G", "--wait=20s"},
                        cluster.Path("waiting.out"));
  cluster.StartMonitor("n1", kTwoGpus);  // the node comes back: the waiter is served
  CHECK(WaitExit(waiting) == 0);
}

TEST_CASE("the monitor reports the server down when the status file's server is gone", "[integration]") {
  Cluster cluster;
  cluster.StartSsgmd();
  std::string status_file = cluster.Path("server-status.json");
  WriteFile(status_file, "{\"server_pid\":" + std::to_string(getpid()) +
                             ",\"port\":9100,\"backend\":\"test\",\"sessions\":[{\"id\":1,\"gpu\":1,\"worker_pid\":1,"
                             "\"peer\":\"x\",\"lease\":\"\",\"started_unix\":1}]}");
  cluster.StartMonitor("n1", kTwoGpus, {"--server-status-file", status_file});
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));
  Json node = cluster.Status().Find("nodes")->items()[0];
  CHECK(node.Find("server")->AsString() == "up");
  CHECK(node.Find("port")->AsInt() == 9100);  // from the status file
  CHECK(node.Find("gpus")->items()[1].Find("sessions")->AsInt() == 1);
  RunResult granted = cluster.Ssgm({"request", "--mem", "1G"});
  CHECK(granted.out.find("@9100:") != std::string::npos);
  // A pid that cannot exist: the server is gone.
  WriteFile(status_file, "{\"server_pid\":2147483646,\"port\":9100,\"sessions\":[]}");
  REQUIRE(WaitUntil(5000, [&] { return !cluster.NodeLive("n1"); }));
  CHECK(cluster.Status().Find("nodes")->items()[0].Find("server")->AsString() == "down");
  CHECK(cluster.Ssgm({"request", "--mem", "1G"}).exit_code == 2);
}

TEST_CASE("ssgmd places leases by its configured policy", "[integration][policy]") {
  struct Case {
    const char* policy;
    std::vector<int> gpus;  // expected GPU of each 1G request
  };
  for (const Case& c : {Case{"best-fit", {1, 1, 1}}, Case{"spread", {0, 0, 0}}, Case{"round-robin", {0, 1, 0}},
                        Case{"least-loaded", {0, 1, 0}}}) {
    INFO(c.policy);
    Cluster cluster;
    StartCluster(cluster, {"--policy", c.policy});
    for (int expected : c.gpus) {
      Json granted = ParseOut(cluster.Ssgm({"--format", "json", "request", "--mem", "1G"}));
      CHECK(granted.Find("devices")->items()[0].Find("gpu")->AsInt() == expected);
    }
    CHECK(cluster.Status().Find("policy")->AsString() == c.policy);
  }
}

TEST_CASE("ssgm with no ssgmd to talk to says so with SSGM_ERROR=3", "[integration]") {
  RunResult r = Run({BinPath("ssgm"), "--server", "127.0.0.1:1", "--retry-for", "300ms", "request", "--mem", "1G"});
  CHECK(r.exit_code == 3);
  CHECK(r.out == "SSGM_ERROR=3\n");
  CHECK(r.err.find("no answer from ssgmd") != std::string::npos);
}

TEST_CASE("rcuda-gpu-monitor reads NVML where there is one and says plainly where there is not", "[integration][nvml]") {
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  RunResult r = Run({BinPath("rcuda-gpu-monitor"), "--once", "--node-name", "probe"});
  if (!nvml) {
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("libnvidia-ml.so.1") != std::string::npos);
    CHECK(r.err.find("--inventory") != std::string::npos);
  } else {
    dlclose(nvml);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    Json report = ParseOut(r);
    CHECK(report.Find("source")->AsString() == "nvml");
    REQUIRE(!report.Find("gpus")->items().empty());
    for (const Json& gpu : report.Find("gpus")->items()) {
      CHECK(gpu.Find("total")->AsInt() > 0);
      CHECK(gpu.Find("free")->AsInt() <= gpu.Find("total")->AsInt());
      CHECK(!gpu.Find("name")->AsString().empty());
    }
  }
  Cluster cluster;
  WriteFile(cluster.Path("inv"), kTwoGpus);
  RunResult inventory = Run({BinPath("rcuda-gpu-monitor"), "--once", "--node-name", "probe", "--inventory",
                             cluster.Path("inv")});
  REQUIRE(inventory.exit_code == 0);
  CHECK(ParseOut(inventory).Find("source")->AsString() == "inventory:" + cluster.Path("inv"));
  CHECK(inventory.err.find("NOT from NVML") != std::string::npos);
}
