// Revoked leases: ssgmd's list, its journaling, the monitor's file, and the
// server's reading of it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "protocol/lease_token.h"
#include "scheduler/json.h"
#include "scheduler/lease_journal.h"
#include "scheduler/monitor_revocations.h"
#include "scheduler/revocation_list.h"
#include "server/lease_revocations.h"

using namespace rcuda::sched;

namespace {

Lease MakeLease(const std::string& id, std::vector<std::string> nodes, int64_t expires_ms) {
  Lease lease;
  lease.id = id;
  lease.mem_bytes = 1 << 20;
  lease.ttl_ms = 1000;
  lease.expires_ms = expires_ms;
  for (const auto& node : nodes) lease.grants.push_back({node, "10.0.0.1", 8308, 0, 1 << 20});
  return lease;
}

std::string TempPath(const std::string& name) {
  return "/tmp/revocation_test_" + std::to_string(getpid()) + "_" + name;
}

void WriteText(const std::string& path, const std::string& text) {
  std::string temp = path + ".tmp";
  std::ofstream(temp, std::ios::binary) << text;
  std::rename(temp.c_str(), path.c_str());
}

}  // namespace

TEST_CASE("ssgmd's revocations: per node, incremental, until the tokens expire", "[revocation]") {
  RevocationList list("epoch1");
  list.Add(MakeLease("a", {"n1"}, 10'500), 1'000);      // tokens say 11 s
  list.Add(MakeLease("b", {"n2", "n1"}, 20'000), 1'000);
  list.Add(MakeLease("dead", {"n1"}, 900), 1'000);      // its tokens have expired: nothing to revoke
  CHECK(list.size() == 2);
  uint64_t next = 0;
  bool more = false;
  auto n1 = list.Since("n1", 0, 10, &next, &more);
  REQUIRE(n1.size() == 2);
  CHECK(n1[0]->lease_id == "a");
  CHECK(n1[0]->until_unix == 11);
  CHECK_FALSE(more);
  CHECK(list.Since("n2", 0, 10, &next, &more).size() == 1);
  CHECK(list.Since("n3", 0, 10, &next, &more).empty());
  // Incremental, and bounded per reply.
  auto first = list.Since("n1", 0, 1, &next, &more);
  REQUIRE(first.size() == 1);
  CHECK(more);
  auto rest = list.Since("n1", next, 1, &next, &more);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0]->lease_id == "b");
  CHECK_FALSE(more);
  CHECK(list.Since("n1", next, 1, &next, &more).empty());
  list.Prune(11'000);
  CHECK(list.size() == 1);
  list.Prune(20'000);
  CHECK(list.size() == 0);
}

TEST_CASE("revocations survive a restart: released leases in the journal, live ones in snapshots", "[revocation][journal]") {
  SchedulerOptions options;
  int next = 0;
  options.new_lease_id = [&] { return "lease" + std::to_string(++next); };
  struct Collect : StateObserver {
    std::vector<std::string> records;
    void LeaseGranted(const Lease& l) override { records.push_back(GrantRecord(l)); }
    void LeaseRenewed(const Lease& l) override { records.push_back(RenewRecord(l)); }
    void LeaseEnded(const Lease& l, LeaseEnd why) override { records.push_back(EndRecord(l, why)); }
  } collect;
  Scheduler original(options, &collect);
  NodeReport node;
  node.node = "n1";
  node.host = "10.0.0.1";
  node.gpus.push_back({0, "GPU", "", 10ull << 30, 10ull << 30, 0});
  original.UpdateNode(node, 1'000'000);
  LeaseRequest request;
  request.mem_bytes = 1ull << 30;
  request.ttl_ms = 600'000;
  request.secret_sha256 = std::string(64, 'c');
  REQUIRE(original.Submit(request, 1'000'000).outcome == Outcome::kGranted);  // lease1: released
  REQUIRE(original.Submit(request, 1'000'000).outcome == Outcome::kGranted);  // lease2: expires
  bool existed;
  original.Release("lease1", 1'001'000, &existed);
  original.Tick(1'600'000);

  Scheduler replayed(options, nullptr);
  RevocationList revocations("after-restart");
  ReplayStats stats;
  REQUIRE(ReplayJournal(collect.records, &replayed, &revocations, &stats).ok());
  CHECK(replayed.leases().empty());
  REQUIRE(revocations.size() == 1);  // the release, not the expiry
  CHECK(revocations.entries().begin()->second.lease_id == "lease1");
  CHECK(revocations.entries().begin()->second.until_unix == 1600);
  CHECK(revocations.entries().begin()->second.nodes == std::vector<std::string>{"n1"});

  // A compacted journal keeps the revocations still in force, and the
  // lease's secret hash.
  original.UpdateNode(node, 1'600'000);
  REQUIRE(original.Submit(request, 1'600'000).outcome == Outcome::kGranted);
  std::vector<std::string> snapshot = SnapshotRecords(original, &revocations, 1'599'000);
  Scheduler from_snapshot(options, nullptr);
  RevocationList restored("again");
  REQUIRE(ReplayJournal(snapshot, &from_snapshot, &restored, &stats).ok());
  CHECK(restored.size() == 1);
  REQUIRE(from_snapshot.leases().size() == 1);
  CHECK(from_snapshot.leases().begin()->second.secret_sha256 == std::string(64, 'c'));
  CHECK(SnapshotRecords(original, &revocations, 1'600'000).size() == 2);  // header + grant: the revocation ended

  for (const char* bad : {R"({"t":"revoked","id":"x","nodes":[],"until_unix":5})",
                          R"({"t":"revoked","id":"x y","nodes":["n1"],"until_unix":5})",
                          R"({"t":"revoked","id":"x","nodes":["bad node"],"until_unix":5})",
                          R"({"t":"revoked","id":"x","nodes":["n1"]})"}) {
    INFO(bad);
    CHECK_FALSE(ReplayJournal({bad}, &from_snapshot, &restored, &stats).ok());
  }
}

TEST_CASE("the revoked-leases file: format, bounds, expiry", "[revocation][token]") {
  rcuda::RevokedLeases revoked = {{"abc", 100}, {"odd id", 200}};
  std::string text = rcuda::FormatRevokedLeases(revoked);
  CHECK(text == "rcuda-revoked-leases 1\nabc 100\nodd%20id 200\n");
  rcuda::RevokedLeases parsed;
  REQUIRE(rcuda::ParseRevokedLeases(text, 150, &parsed).ok());
  CHECK(parsed == rcuda::RevokedLeases{{"odd id", 200}});  // abc's tokens are dead
  REQUIRE(rcuda::ParseRevokedLeases("rcuda-revoked-leases 1\n", 0, &parsed).ok());
  CHECK(parsed.empty());
  for (const char* bad : {"", "rcuda-revoked-leases 2\n", "rcuda-revoked-leases 1\nabc\n",
                          "rcuda-revoked-leases 1\nabc 1 2\n", "rcuda-revoked-leases 1\nabc x\n",
                          "rcuda-revoked-leases 1\n 5\n", "rcuda-revoked-leases 1\na%zz 5\n"}) {
    INFO(bad);
    CHECK_FALSE(rcuda::ParseRevokedLeases(bad, 0, &parsed).ok());
  }
  std::string too_many = "rcuda-revoked-leases 1\n";
  for (size_t i = 0; i <= rcuda::kMaxRevokedLeases; ++i) too_many += "a 1\n";
  CHECK_FALSE(rcuda::ParseRevokedLeases(too_many, 0, &parsed).ok());
}

TEST_CASE("the monitor merges ssgmd's revocations and keeps its file", "[revocation][monitor]") {
  std::string path = TempPath("monitor");
  std::remove(path.c_str());
  int64_t now = ::time(nullptr);
  {
    MonitorRevocations monitor(path);
    Json report = Json::Object();
    monitor.AddRequestFields(&report);
    CHECK(report.Find("revoked_after")->AsInt() == 0);
    Json reply;
    REQUIRE(ParseJson(R"({"error":0,"revoked":{"epoch":"e1","seq":9,"more":true,"leases":[)"
                      R"({"lease":"L1","until_unix":)" + std::to_string(now + 100) + R"(},)"
                      R"({"lease":"L2","until_unix":)" + std::to_string(now - 1) + R"(}]}})",
                      &reply)
                .ok());
    bool more = false;
    REQUIRE(monitor.TakeReply(reply, now, &more).ok());
    CHECK(more);
    REQUIRE(monitor.Write(now).ok());
    monitor.AddRequestFields(&report);
    CHECK(report.Find("revoked_after")->AsInt() == 9);
    CHECK(report.Find("revoked_epoch")->AsString() == "e1");
    REQUIRE(ParseJson(R"({"error":0,"revoked":{"epoch":"e1","seq":10,"leases":[{"lease":"a'b","until_unix":9}]}})",
                      &reply)
                .ok());
    CHECK_FALSE(monitor.TakeReply(reply, now, &more).ok());
  }
  rcuda::RevokedLeases on_disk;
  std::ifstream file(path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE(rcuda::ParseRevokedLeases(text, now, &on_disk).ok());
  CHECK(on_disk.size() == 1);
  CHECK(on_disk.count("L1") == 1);
  // A restarted monitor starts from its file: nothing revoked is dropped.
  MonitorRevocations restarted(path);
  CHECK(restarted.size() == 1);
  // The file comes back if someone removes it.
  REQUIRE(restarted.Write(now).ok());
  std::remove(path.c_str());
  REQUIRE(restarted.Write(now).ok());
  CHECK(::access(path.c_str(), F_OK) == 0);
  std::remove(path.c_str());
}

TEST_CASE("rcuda-server's revocations: re-read on change, last good list kept", "[revocation][server]") {
  std::string path = TempPath("server");
  std::remove(path.c_str());
  int64_t now = ::time(nullptr);
  rcuda::LeaseRevocations revocations(path);  // no file yet: nothing revoked
  CHECK_FALSE(revocations.IsRevoked("L1"));
  CHECK_FALSE(revocations.IsRevoked(""));
  WriteText(path, "rcuda-revoked-leases 1\nL1 " + std::to_string(now + 100) + "\n");
  revocations.Refresh();
  CHECK(revocations.IsRevoked("L1"));
  CHECK_FALSE(revocations.IsRevoked("L2"));
  // A running session of L1 is ended once.
  CHECK(revocations.ShouldEnd(4242, "L1"));
  CHECK_FALSE(revocations.ShouldEnd(4242, "L1"));
  CHECK_FALSE(revocations.ShouldEnd(4343, "L2"));
  revocations.SessionEnded(4242);
  // A broken file does not undo revocations; neither does a missing one.
  WriteText(path, "garbage that is longer than the last file was\n");
  revocations.Refresh();
  CHECK(revocations.IsRevoked("L1"));
  std::remove(path.c_str());
  revocations.Refresh();
  CHECK(revocations.IsRevoked("L1"));
  WriteText(path, "rcuda-revoked-leases 1\nL2 " + std::to_string(now + 100) + "\n");
  revocations.Refresh();
  CHECK(revocations.IsRevoked("L2"));
  std::remove(path.c_str());
}

TEST_CASE("a renewal that shortens a lease does not shorten its revocation", "[revocation][ttl]") {
  SchedulerOptions options;
  options.new_lease_id = [] { return std::string("L1"); };
  struct Collect : StateObserver {
    std::vector<std::string> records;
    void LeaseGranted(const Lease& l) override { records.push_back(GrantRecord(l)); }
    void LeaseRenewed(const Lease& l) override { records.push_back(RenewRecord(l)); }
    void LeaseEnded(const Lease& l, LeaseEnd why) override { records.push_back(EndRecord(l, why)); }
  } collect;
  Scheduler scheduler(options, &collect);
  NodeReport node;
  node.node = "n1";
  node.host = "10.0.0.1";
  node.gpus.push_back({0, "GPU", "", 10ull << 30, 10ull << 30, 0});
  scheduler.UpdateNode(node, 1'000'000);
  LeaseRequest request;
  request.mem_bytes = 1ull << 30;
  request.ttl_ms = 600'000;  // the first token says 1600 s
  REQUIRE(scheduler.Submit(request, 1'000'000).outcome == Outcome::kGranted);
  Lease renewed;
  REQUIRE(scheduler.Renew("L1", 10'000, 1'001'000, &renewed).ok());  // the lease now ends at 1011 s
  CHECK(renewed.expires_ms == 1'011'000);
  CHECK(renewed.tokens_until_ms == 1'600'000);
  RevocationList live("e");
  live.Add(renewed, 1'002'000);
  CHECK(live.entries().begin()->second.until_unix == 1600);
  // The same after a restart: from the journal, and from a snapshot.
  Scheduler replayed(options, nullptr);
  RevocationList from_journal("e2");
  ReplayStats stats;
  REQUIRE(ReplayJournal(collect.records, &replayed, &from_journal, &stats).ok());
  CHECK(replayed.leases().at("L1").tokens_until_ms == 1'600'000);
  Scheduler from_snapshot(options, nullptr);
  REQUIRE(ReplayJournal(SnapshotRecords(replayed, nullptr, 1'002'000), &from_snapshot, nullptr, &stats).ok());
  CHECK(from_snapshot.leases().at("L1").tokens_until_ms == 1'600'000);
  bool existed = false;
  scheduler.Release("L1", 1'002'000, &existed);
  REQUIRE(ReplayJournal(collect.records, &replayed, &from_journal, &stats).ok());
  REQUIRE(from_journal.size() == 1);
  CHECK(from_journal.entries().begin()->second.until_unix == 1600);
}

TEST_CASE("ssgmd revokes on release, and on an expiry that leaves tokens alive", "[revocation][ttl]") {
  RevocationList revocations("e");
  int64_t now = 1'000'000;
  RevokingObserver observer(&revocations, nullptr, [&] { return now; });
  SchedulerOptions options;
  int next = 0;
  options.new_lease_id = [&] { return "L" + std::to_string(++next); };
  Scheduler scheduler(options, &observer);
  NodeReport node;
  node.node = "n1";
  node.host = "10.0.0.1";
  node.gpus.push_back({0, "GPU", "", 10ull << 30, 10ull << 30, 0});
  scheduler.UpdateNode(node, now);
  LeaseRequest request;
  request.mem_bytes = 1ull << 30;
  request.ttl_ms = 60'000;
  for (int i = 0; i < 3; ++i) REQUIRE(scheduler.Submit(request, now).outcome == Outcome::kGranted);
  Lease renewed;
  REQUIRE(scheduler.Renew("L2", 1'000, now, &renewed).ok());  // shortened: its first token says 1060 s
  bool existed = false;
  scheduler.Release("L1", now, &existed);
  CHECK(revocations.size() == 1);
  now = 1'030'000;
  scheduler.Tick(now);  // L2 expires with a live token; L3 lives on
  REQUIRE(revocations.size() == 2);
  CHECK(revocations.entries().rbegin()->second.lease_id == "L2");
  CHECK(revocations.entries().rbegin()->second.until_unix == 1060);
  now = 1'061'000;
  scheduler.Tick(now);  // L3 expires as granted: its tokens with it, nothing to revoke
  CHECK(revocations.size() == 2);
}
