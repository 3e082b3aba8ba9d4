#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "scheduler/scheduler.h"

using namespace rcuda::sched;

namespace {

constexpr uint64_t GiB = 1ull << 30;

struct RecordingObserver : StateObserver {
  std::vector<std::string> events;
  void LeaseGranted(const Lease& lease) override { events.push_back("grant " + lease.id); }
  void LeaseRenewed(const Lease& lease) override { events.push_back("renew " + lease.id); }
  void LeaseEnded(const Lease& lease, LeaseEnd why) override {
    events.push_back((why == LeaseEnd::kReleased ? "release " : "expire ") + lease.id);
  }
};

NodeReport MakeNode(const std::string& name, std::vector<uint64_t> gpu_gib, std::vector<int> util = {}) {
  NodeReport report;
  report.node = name;
  report.host = name + ".example";
  report.port = 8308;
  report.source = "inventory:test";
  for (size_t i = 0; i < gpu_gib.size(); ++i) {
    GpuReport gpu;
    gpu.index = int(i);
    gpu.name = "Test GPU";
    gpu.total_bytes = gpu_gib[i] * GiB;
    gpu.free_bytes = gpu.total_bytes;
    gpu.utilization_percent = i < util.size() ? util[i] : 0;
    report.gpus.push_back(gpu);
  }
  return report;
}

struct Fixture {
  explicit Fixture(Policy policy = Policy::kBestFit, int64_t node_timeout_ms = 5000, uint64_t reserve = 0) {
    SchedulerOptions options;
    options.policy = policy;
    options.node_timeout_ms = node_timeout_ms;
    options.gpu_reserve_bytes = reserve;
    options.new_lease_id = [this] { return "L" + std::to_string(++next_id); };
    scheduler = std::make_unique<Scheduler>(options, &observer);
  }

  Decision Ask(uint64_t gib, int gpus = 1, int64_t wait_ms = 0, std::string key = "", uint64_t requester = 0,
               int64_t ttl_ms = 60000) {
    LeaseRequest request;
    request.gpus = gpus;
    request.mem_bytes = gib * GiB;
    request.ttl_ms = ttl_ms;
    request.wait_ms = wait_ms;
    request.key = std::move(key);
    request.requester = requester ? requester : ++next_requester;
    return scheduler->Submit(request, now);
  }

  // "node:gpu" of each grant.
  static std::string Where(const Decision& d) {
    std::string out;
    for (const auto& g : d.lease.grants) out += (out.empty() ? "" : ",") + g.node + ":" + std::to_string(g.gpu);
    return out;
  }

  int next_id = 0;
  uint64_t next_requester = 1000;
  int64_t now = 1'000'000;
  RecordingObserver observer;
  std::unique_ptr<Scheduler> scheduler;
};

}  // namespace

TEST_CASE("best fit packs the fullest GPU that still fits", "[scheduler][policy]") {
  Fixture f(Policy::kBestFit);
  f.scheduler->UpdateNode(MakeNode("a", {16, 40, 80}), f.now);
  CHECK(Fixture::Where(f.Ask(10)) == "a:0");  // leaves 6
  CHECK(Fixture::Where(f.Ask(10)) == "a:1");  // a:0 cannot; a:1 leaves 30
  CHECK(Fixture::Where(f.Ask(5)) == "a:0");   // leaves 1
  CHECK(Fixture::Where(f.Ask(50)) == "a:2");
  REQUIRE(f.scheduler->CheckInvariants().ok());
}

TEST_CASE("spread (worst fit) takes the emptiest GPU", "[scheduler][policy]") {
  Fixture f(Policy::kSpread);
  f.scheduler->UpdateNode(MakeNode("a", {16, 40, 80}), f.now);
  CHECK(Fixture::Where(f.Ask(10)) == "a:2");  // 70 left
  CHECK(Fixture::Where(f.Ask(10)) == "a:2");  // 60 left, still the most
  CHECK(Fixture::Where(f.Ask(25)) == "a:2");  // 35 left
  CHECK(Fixture::Where(f.Ask(10)) == "a:1");  // 40 -> 30 beats 35 -> 25
}

TEST_CASE("least loaded takes the GPU with the fewest leases and least utilization", "[scheduler][policy]") {
  Fixture f(Policy::kLeastLoaded);
  f.scheduler->UpdateNode(MakeNode("a", {80, 80, 80}, {90, 0, 50}), f.now);
  CHECK(Fixture::Where(f.Ask(1)) == "a:1");  // load 0
  CHECK(Fixture::Where(f.Ask(1)) == "a:2");  // 0.5 beats 0.9 and 1.0
  CHECK(Fixture::Where(f.Ask(1)) == "a:0");  // 0.9 beats 1.0 and 1.5
  CHECK(Fixture::Where(f.Ask(1)) == "a:1");  // 1.0
}

TEST_CASE("round robin walks the GPUs in order, skipping those that do not fit", "[scheduler][policy]") {
  Fixture f(Policy::kRoundRobin);
  f.scheduler->UpdateNode(MakeNode("a", {8, 8}), f.now);
  f.scheduler->UpdateNode(MakeNode("b", {8, 2}), f.now);
  CHECK(Fixture::Where(f.Ask(4)) == "a:0");
  CHECK(Fixture::Where(f.Ask(4)) == "a:1");
  CHECK(Fixture::Where(f.Ask(4)) == "b:0");
  CHECK(Fixture::Where(f.Ask(4)) == "a:0");  // b:1 has only 2 GiB
  CHECK(Fixture::Where(f.Ask(1)) == "a:1");
  CHECK(Fixture::Where(f.Ask(1)) == "b:0");
  CHECK(Fixture::Where(f.Ask(1)) == "b:1");
}

TEST_CASE("a multi-GPU request gets distinct GPUs, across nodes if need be", "[scheduler]") {
  Fixture f(Policy::kBestFit);
  f.scheduler->UpdateNode(MakeNode("a", {8, 8}), f.now);
  f.scheduler->UpdateNode(MakeNode("b", {8}), f.now);
  Decision d = f.Ask(6, 3);
  REQUIRE(d.outcome == Outcome::kGranted);
  CHECK(Fixture::Where(d) == "a:0,a:1,b:0");
  CHECK(f.Ask(6, 1).outcome == Outcome::kBusy);
  CHECK(f.Ask(2, 3).outcome == Outcome::kGranted);
  CHECK(f.scheduler->CheckInvariants().ok());
}

TEST_CASE("an impossible request is refused at once, blocking or not", "[scheduler]") {
  Fixture f(Policy::kBestFit, 5000, 1 * GiB);
  f.scheduler->UpdateNode(MakeNode("a", {16, 40}), f.now);
  Decision d = f.Ask(41);
  CHECK(d.outcome == Outcome::kRefused);
  CHECK(d.message.find("no GPU can hold") != std::string::npos);
  CHECK(f.Ask(41, 1, 10000).outcome == Outcome::kRefused);
  CHECK(f.Ask(40, 1, 10000).outcome == Outcome::kRefused);  // the reserve leaves 39
  CHECK(f.Ask(20, 2).outcome == Outcome::kRefused);          // only one GPU holds 20
  CHECK(f.Ask(1, 3, 10000).outcome == Outcome::kRefused);    // three GPUs wanted, two exist
  CHECK(f.Ask(39).outcome == Outcome::kGranted);
  CHECK(f.scheduler->queue_length() == 0);
}

TEST_CASE("non-blocking requests are answered busy; blocking ones wait in order", "[scheduler][queue]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision first = f.Ask(8);
  REQUIRE(first.outcome == Outcome::kGranted);
  CHECK(f.Ask(4).outcome == Outcome::kBusy);
  CHECK(f.Ask(4, 1, 10000, "", 1).outcome == Outcome::kQueued);
  CHECK(f.Ask(1, 1, 10000, "", 2).outcome == Outcome::kQueued);  // fits now, but waits behind #1
  CHECK(f.Ask(1).outcome == Outcome::kBusy);                      // non-blocking does not overtake either
  CHECK(f.scheduler->queue_length() == 2);
  CHECK(f.scheduler->TakeNotices().empty());
  bool existed = false;
  f.now += 10;
  f.scheduler->Release(first.lease.id, f.now, &existed);
  CHECK(existed);
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 2);
  CHECK(notices[0].requester == 1);
  CHECK(notices[0].decision.outcome == Outcome::kGranted);
  CHECK(notices[0].queued_ms == 10);
  CHECK(notices[1].requester == 2);
  CHECK(notices[1].decision.outcome == Outcome::kGranted);
  CHECK(f.scheduler->queue_length() == 0);
}

TEST_CASE("the head of the queue blocks later requests until it fits", "[scheduler][queue]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10, 10}), f.now);
  Decision a = f.Ask(6), b = f.Ask(6);
  REQUIRE((a.outcome == Outcome::kGranted && b.outcome == Outcome::kGranted));
  REQUIRE(f.Ask(8, 1, 10000, "", 1).outcome == Outcome::kQueued);
  REQUIRE(f.Ask(2, 1, 10000, "", 2).outcome == Outcome::kQueued);
  bool existed;
  f.scheduler->Release(a.lease.id, f.now, &existed);
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 2);  // 8 fits in the freed GPU, then 2 fits beside b
  CHECK(notices[0].requester == 1);
  CHECK(notices[1].requester == 2);
}

TEST_CASE("a waiting request is answered busy when its deadline passes", "[scheduler][queue]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  REQUIRE(f.Ask(10).outcome == Outcome::kGranted);
  REQUIRE(f.Ask(5, 1, 1000, "", 7).outcome == Outcome::kQueued);
  CHECK(f.scheduler->NextWakeMs() == f.now + 1000);
  f.scheduler->Tick(f.now + 999);
  CHECK(f.scheduler->TakeNotices().empty());
  f.scheduler->Tick(f.now + 1000);
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].requester == 7);
  CHECK(notices[0].decision.outcome == Outcome::kBusy);
  CHECK(notices[0].queued_ms == 1000);
  CHECK(f.scheduler->queue_length() == 0);
  CHECK(f.scheduler->counters().timed_out == 1);
}

TEST_CASE("a repeat with the same idempotency key gets the same lease", "[scheduler][idempotency]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision first = f.Ask(4, 1, 0, "job-1");
  REQUIRE(first.outcome == Outcome::kGranted);
  Decision again = f.Ask(4, 1, 0, "job-1");
  REQUIRE(again.outcome == Outcome::kGranted);
  CHECK(again.repeated);
  CHECK(again.lease.id == first.lease.id);
  CHECK(f.scheduler->leases().size() == 1);
  CHECK(f.Ask(5, 1, 0, "job-1").outcome == Outcome::kRefused);  // same key, other shape
  bool existed;
  f.scheduler->Release(first.lease.id, f.now, &existed);
  Decision fresh = f.Ask(4, 1, 0, "job-1");  // the key died with its lease
  CHECK(fresh.outcome == Outcome::kGranted);
  CHECK(fresh.lease.id != first.lease.id);
}

TEST_CASE("a repeat of a waiting request takes over its place in the queue", "[scheduler][idempotency]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision holder = f.Ask(10);
  REQUIRE(f.Ask(2, 1, 5000, "", 1).outcome == Outcome::kQueued);
  REQUIRE(f.Ask(5, 1, 5000, "k", 2).outcome == Outcome::kQueued);
  REQUIRE(f.Ask(5, 1, 5000, "k", 3).outcome == Outcome::kQueued);
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].requester == 2);
  CHECK(notices[0].decision.outcome == Outcome::kBusy);
  CHECK(f.scheduler->queue_length() == 2);
  bool existed;
  f.scheduler->Release(holder.lease.id, f.now, &existed);
  notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 2);
  CHECK(notices[0].requester == 1);
  CHECK(notices[1].requester == 3);
  CHECK(notices[1].decision.lease.key == "k");
}

TEST_CASE("a repeat must carry its holder's secret: knowing the key is not enough", "[scheduler][idempotency][security]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  auto ask = [&](uint64_t gib, int64_t wait_ms, const std::string& secret_hash, uint64_t requester = 0) {
    LeaseRequest request;
    request.mem_bytes = gib * GiB;
    request.ttl_ms = 60000;
    request.wait_ms = wait_ms;
    request.key = "guessable-job-1";
    request.secret_sha256 = secret_hash;
    request.requester = requester ? requester : ++f.next_requester;
    return f.scheduler->Submit(request, f.now);
  };
  const std::string holder(64, 'a'), intruder(64, 'b');
  Decision granted = ask(4, 0, holder);
  REQUIRE(granted.outcome == Outcome::kGranted);
  CHECK(granted.lease.secret_sha256 == holder);
  Decision stolen = ask(4, 0, intruder);
  CHECK(stolen.outcome == Outcome::kRefused);
  CHECK(stolen.lease.id.empty());  // neither the lease nor its token
  CHECK(stolen.message.find(granted.lease.id) == std::string::npos);
  Decision repeat = ask(4, 0, holder);
  REQUIRE(repeat.outcome == Outcome::kGranted);
  CHECK(repeat.repeated);

  // A waiting request cannot be taken over either.
  Fixture g;
  g.scheduler->UpdateNode(MakeNode("a", {10}), g.now);
  REQUIRE(g.Ask(10).outcome == Outcome::kGranted);
  LeaseRequest waiting;
  waiting.mem_bytes = 4 * GiB;
  waiting.ttl_ms = 60000;
  waiting.wait_ms = 5000;
  waiting.key = "k";
  waiting.secret_sha256 = holder;
  waiting.requester = 1;
  REQUIRE(g.scheduler->Submit(waiting, g.now).outcome == Outcome::kQueued);
  LeaseRequest takeover = waiting;
  takeover.secret_sha256 = intruder;
  takeover.requester = 2;
  CHECK(g.scheduler->Submit(takeover, g.now).outcome == Outcome::kRefused);
  CHECK(g.scheduler->TakeNotices().empty());  // the holder still waits
  CHECK(g.scheduler->queue_length() == 1);
}

TEST_CASE("an unrenewed lease expires at its time to live and its memory serves the queue", "[scheduler][ttl]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision d = f.Ask(10, 1, 0, "", 0, 2000);
  REQUIRE(d.outcome == Outcome::kGranted);
  REQUIRE(f.Ask(3, 1, 60000, "", 9).outcome == Outcome::kQueued);
  f.scheduler->Tick(f.now + 1999);
  CHECK(f.scheduler->leases().count(d.lease.id) == 1);
  f.scheduler->Tick(f.now + 2000);
  CHECK(f.scheduler->leases().count(d.lease.id) == 0);
  CHECK(f.observer.events.back() == "grant L2");
  CHECK(std::find(f.observer.events.begin(), f.observer.events.end(), "expire L1") != f.observer.events.end());
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].decision.outcome == Outcome::kGranted);
}

TEST_CASE("renew extends a lease; an unknown lease cannot be renewed", "[scheduler][ttl]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision d = f.Ask(1, 1, 0, "", 0, 2000);
  Lease renewed;
  f.now += 1500;
  REQUIRE(f.scheduler->Renew(d.lease.id, 0, f.now, &renewed).ok());
  CHECK(renewed.expires_ms == f.now + 2000);
  f.scheduler->Tick(f.now + 1999);
  CHECK(f.scheduler->leases().count(d.lease.id) == 1);
  REQUIRE(f.scheduler->Renew(d.lease.id, 10000, f.now, &renewed).ok());
  CHECK(renewed.expires_ms == f.now + 10000);
  CHECK_FALSE(f.scheduler->Renew("nope", 0, f.now, &renewed).ok());
}

TEST_CASE("release is idempotent", "[scheduler]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision d = f.Ask(10);
  bool existed = false;
  f.scheduler->Release(d.lease.id, f.now, &existed);
  CHECK(existed);
  f.scheduler->Release(d.lease.id, f.now, &existed);
  CHECK_FALSE(existed);
  f.scheduler->Release("never-granted", f.now, &existed);
  CHECK_FALSE(existed);
  CHECK(f.Ask(10).outcome == Outcome::kGranted);
}

TEST_CASE("a node whose monitor stops reporting, or whose server is down, gets no new leases", "[scheduler][nodes]") {
  Fixture f(Policy::kBestFit, 3000);
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  f.now += 3000;
  CHECK(f.Ask(1).outcome == Outcome::kGranted);
  f.now += 1;
  Decision d = f.Ask(1);
  CHECK(d.outcome == Outcome::kBusy);
  CHECK(d.message.find("no live GPU node") != std::string::npos);
  REQUIRE(f.Ask(1, 1, 60000, "", 5).outcome == Outcome::kQueued);
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);  // back: the waiter is served
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].decision.outcome == Outcome::kGranted);
  NodeReport down = MakeNode("a", {10});
  down.server = ServerState::kDown;
  f.scheduler->UpdateNode(down, f.now);
  CHECK(f.Ask(1).outcome == Outcome::kBusy);
}

TEST_CASE("before any node reports, requests are busy or wait; nothing is impossible yet", "[scheduler][nodes]") {
  Fixture f;
  CHECK(f.Ask(1000).outcome == Outcome::kBusy);
  REQUIRE(f.Ask(4, 1, 60000, "", 3).outcome == Outcome::kQueued);
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].decision.outcome == Outcome::kGranted);
}

TEST_CASE("a cancelled waiter leaves the queue", "[scheduler][queue]") {
  Fixture f;
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  Decision holder = f.Ask(6);
  REQUIRE(f.Ask(8, 1, 60000, "", 1).outcome == Outcome::kQueued);
  REQUIRE(f.Ask(4, 1, 60000, "", 2).outcome == Outcome::kQueued);
  f.scheduler->CancelWaiter(1, f.now);  // the head leaves: #2 fits beside the holder
  auto notices = f.scheduler->TakeNotices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].requester == 2);
}

TEST_CASE("restored leases occupy their GPUs before the node reports again", "[scheduler][restore]") {
  Fixture f;
  Lease lease;
  lease.id = "restored";
  lease.key = "k1";
  lease.mem_bytes = 7 * GiB;
  lease.ttl_ms = 60000;
  lease.created_ms = f.now;
  lease.expires_ms = f.now + 60000;
  lease.grants.push_back({"a", "a.example", 8308, 0, 7 * GiB});
  f.scheduler->RestoreLease(lease);
  CHECK(f.observer.events.empty());
  f.scheduler->UpdateNode(MakeNode("a", {10}), f.now);
  CHECK(f.Ask(4).outcome == Outcome::kBusy);
  CHECK(f.Ask(3).outcome == Outcome::kGranted);
  Decision repeat = f.Ask(7, 1, 0, "k1");
  CHECK(repeat.repeated);
  CHECK(repeat.lease.id == "restored");
  REQUIRE(f.scheduler->CheckInvariants().ok());
  f.scheduler->RestoreEnd("restored");
  CHECK(f.Ask(7).outcome == Outcome::kGranted);
}

TEST_CASE("random operations never over-grant a GPU", "[scheduler][property]") {
  for (Policy policy : {Policy::kBestFit, Policy::kSpread, Policy::kLeastLoaded, Policy::kRoundRobin}) {
    Fixture f(policy, 1'000'000);
    f.scheduler->UpdateNode(MakeNode("a", {16, 24}), f.now);
    f.scheduler->UpdateNode(MakeNode("b", {40}), f.now);
    std::mt19937 rng(42);
    std::vector<std::string> held;
    for (int step = 0; step < 3000; ++step) {
      f.now += rng() % 50;
      int op = int(rng() % 10);
      if (op < 5) {
        Decision d = f.Ask(1 + rng() % 12, 1 + int(rng() % 2), (rng() % 2) ? 2000 : 0, "", 0, 500 + rng() % 3000);
        if (d.outcome == Outcome::kGranted) held.push_back(d.lease.id);
      } else if (op < 8 && !held.empty()) {
        size_t pick = rng() % held.size();
        bool existed;
        f.scheduler->Release(held[pick], f.now, &existed);
        held.erase(held.begin() + long(pick));
      } else {
        f.scheduler->Tick(f.now);
      }
      for (const Notice& n : f.scheduler->TakeNotices()) {
        if (n.decision.outcome == Outcome::kGranted) held.push_back(n.decision.lease.id);
      }
      INFO("policy " << PolicyName(policy) << " step " << step);
      REQUIRE(f.scheduler->CheckInvariants().ok());
    }
    CHECK(f.scheduler->counters().granted > 100);
  }
}
