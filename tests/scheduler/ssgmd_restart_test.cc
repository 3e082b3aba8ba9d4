// ssgmd killed with SIGKILL in the middle of a burst and restarted on the
// same port and journal: no lease lost, none granted twice, every client
// served (ssgm retries with its idempotency key).
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "harness.h"
#include "scheduler/json.h"

using namespace sched_test;
using rcuda::sched::Json;

namespace {

using Clock = std::chrono::steady_clock;

// What the clients saw: who held which GPU when. A client holds a lease from
// the moment it has read the grant until it starts releasing, a sub-interval
// of the time ssgmd counts it, so if the clients ever see more leases on a GPU
// than fit, ssgmd over-granted.
class Ledger {
 public:
  explicit Ledger(int per_gpu_capacity) : capacity_(per_gpu_capacity) {}
  void Take(int gpu, const std::string& lease) {
    std::lock_guard<std::mutex> lock(mu_);
    if (++held_[gpu] > capacity_) ++violations_;
    if (!leases_.insert(lease).second) ++duplicates_;
  }
  void Drop(int gpu) {
    std::lock_guard<std::mutex> lock(mu_);
    --held_[gpu];
  }
  int violations() const { return violations_; }
  int duplicates() const { return duplicates_; }

 private:
  std::mutex mu_;
  int capacity_;
  std::map<int, int> held_;
  std::set<std::string> leases_;
  int violations_ = 0;
  int duplicates_ = 0;
};

struct ClientOutcome {
  int request_exit = -1;
  int renew_exit = -1;
  int release_exit = -1;
  bool released = false;
  std::string lease;
  Clock::time_point granted_at, released_at;
  std::string error;
};

}  // namespace

TEST_CASE("ssgmd killed -9 mid-burst and restarted loses no lease and grants none twice", "[integration][restart]") {
  constexpr int kClients = 80;
  constexpr int kPerGpu = 8;  // 8 GiB GPUs, 1 GiB leases
  // Both journal modes survive the process being killed.
  std::string sync_mode = GENERATE(std::string("fdatasync"), std::string("none"));
  INFO("journal-sync " << sync_mode);
  Cluster cluster;
  cluster.StartSsgmd({"--journal-sync", sync_mode});
  cluster.StartMonitor("n1", "0 8G 8G 0 A\n1 8G 8G 0 B\n2 8G 8G 0 C\n3 8G 8G 0 D\n");
  REQUIRE(WaitUntil(5000, [&] { return cluster.NodeLive("n1"); }));

  Ledger ledger(kPerGpu);
  std::atomic<int> granted{0};
  std::vector<ClientOutcome> outcomes(kClients);
  std::vector<std::thread> clients;
  std::string server = cluster.server();
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      ClientOutcome& out = outcomes[i];
      std::mt19937 rng(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
      RunResult r = Run({BinPath("ssgm"), "--server", server, "--format", "json", "--retry-for", "30s", "request",
                         "--mem", "1G", "--wait=60s", "--ttl", "60", "--key", "burst-" + std::to_string(i)});
      out.request_exit = r.exit_code;
      Json reply;
      if (r.exit_code != 0 || !rcuda::sched::ParseJson(r.out, &reply).ok()) {
        out.error = r.out + r.err;
        return;
      }
      out.lease = reply.Find("lease")->AsString();
      // The lease's secret: renew and release need it, from a restarted ssgmd too.
      std::vector<std::string> secret_env = {"SSGM_LEASE_SECRET=" + reply.Find("secret")->AsString()};
      int gpu = int(reply.Find("devices")->items()[0].Find("gpu")->AsInt());
      out.granted_at = Clock::now();
      ledger.Take(gpu, out.lease);
      ++granted;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 500));
      // Still known to ssgmd (across the restart, for many): not lost.
      out.renew_exit =
          Run({BinPath("ssgm"), "--server", server, "--retry-for", "30s", "renew", out.lease}, secret_env).exit_code;
      out.released_at = Clock::now();
      ledger.Drop(gpu);
      RunResult rel = Run({BinPath("ssgm"), "--server", server, "--format", "json", "--retry-for", "30s", "release",
                           out.lease},
                          secret_env);
      out.release_exit = rel.exit_code;
      out.released = rel.out.find("\"released\":true") != std::string::npos;
    });
  }

  REQUIRE(WaitUntil(20000, [&] { return granted.load() >= 25; }));
  Clock::time_point killed_at = Clock::now();
  cluster.KillSsgmd(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  cluster.StartSsgmd({"--journal-sync", sync_mode});
  Clock::time_point restarted_at = Clock::now();
  for (auto& t : clients) t.join();

  int served = 0, renewed = 0, released = 0, spanning = 0;
  std::set<std::string> leases;
  for (const ClientOutcome& out : outcomes) {
    INFO(out.error);
    if (out.request_exit == 0) ++served;
    if (out.renew_exit == 0) ++renewed;
    if (out.release_exit == 0 && out.released) ++released;
    leases.insert(out.lease);
    if (out.request_exit == 0 && out.granted_at < killed_at && out.released_at > restarted_at) ++spanning;
  }
  CHECK(served == kClients);    // every client got a lease despite the crash
  CHECK(renewed == kClients);   // every lease a client held was still known: none lost
  CHECK(released == kClients);  // and each was released by its holder, not reclaimed
  CHECK(leases.size() == size_t(kClients));  // distinct leases for distinct keys
  CHECK(ledger.violations() == 0);           // never more on a GPU than fits
  CHECK(ledger.duplicates() == 0);
  CHECK(spanning >= 1);  // the crash hit while leases were held
  Json status = cluster.Status();
  CHECK(status.Find("lease_count")->AsInt() == 0);
  CHECK(status.Find("invariants")->AsString() == "ok");
  for (const Json& gpu : status.Find("nodes")->items()[0].Find("gpus")->items()) {
    CHECK(gpu.Find("allocated")->AsInt() == 0);
  }
  // The restarted ssgmd replayed the leases held at the crash.
  std::string restart_log = ReadFile(cluster.Path("ssgmd.1.log"));
  CHECK(restart_log.find("live leases") != std::string::npos);
  UNSCOPED_INFO("leases held across the crash: " << spanning);
}
