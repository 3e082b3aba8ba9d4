#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "scheduler/journal.h"
#include "scheduler/lease_journal.h"
#include "scheduler/scheduler.h"

using namespace rcuda::sched;

namespace {

std::string TempPath(const std::string& name) {
  std::string path = "journal_test_" + std::to_string(::getpid()) + "_" + name;
  std::remove(path.c_str());
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("journal records survive a reopen, in order", "[journal]") {
  std::string path = TempPath("basic");
  {
    std::vector<std::string> records;
    std::unique_ptr<Journal> journal;
    REQUIRE(Journal::Open(path, &records, &journal).ok());
    CHECK(records.empty());
    CHECK(journal->Append("one") == 1);
    CHECK(journal->Append("two") == 2);
    REQUIRE(journal->Sync().ok());
    CHECK(journal->committed() == 2);
    CHECK(journal->Append("three") == 3);
  }  // the destructor makes "three" durable too
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  CHECK(records == std::vector<std::string>{"one", "two", "three"});
  journal.reset();
  std::remove(path.c_str());
}

TEST_CASE("a batch of appends is one write and one sync, and the callback names its last record", "[journal]") {
  std::string path = TempPath("group");
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  std::atomic<uint64_t> reported{0};
  journal->SetCommitCallback([&](uint64_t seq, const rcuda::Status& s) {
    if (s.ok()) reported = seq;
  });
  for (int i = 0; i < 500; ++i) journal->Append("record " + std::to_string(i));
  journal->Flush();
  REQUIRE(journal->Sync().ok());
  CHECK(reported.load() == 500);
  CHECK(journal->stats().batches == 1);
  CHECK(journal->stats().records == 500);
  journal.reset();
  std::remove(path.c_str());
}

TEST_CASE("a torn last record is cut off at reopen", "[journal]") {
  std::string path = TempPath("torn");
  {
    std::vector<std::string> records;
    std::unique_ptr<Journal> journal;
    REQUIRE(Journal::Open(path, &records, &journal).ok());
    journal->Append("kept-1");
    journal->Append("kept-2");
  }
  std::string intact = ReadAll(path);
  std::string torn = FrameJournalRecord("lost-in-the-crash");
  {
    std::ofstream file(path, std::ios::app | std::ios::binary);
    file << torn.substr(0, torn.size() / 2);  // half a record, no newline
  }
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  CHECK(records == std::vector<std::string>{"kept-1", "kept-2"});
  CHECK(ReadAll(path) == intact);  // truncated back
  journal->Append("after");
  REQUIRE(journal->Sync().ok());
  journal.reset();
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  CHECK(records == std::vector<std::string>{"kept-1", "kept-2", "after"});
  journal.reset();
  std::remove(path.c_str());
}

TEST_CASE("a damaged record followed by intact ones is refused, not skipped", "[journal]") {
  std::string path = TempPath("damaged");
  {
    std::ofstream file(path, std::ios::binary);
    file << FrameJournalRecord("first");
    std::string bad = FrameJournalRecord("second");
    bad[10] ^= 1;  // a flipped bit in the record
    file << bad << FrameJournalRecord("third");
  }
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  rcuda::Status s = Journal::Open(path, &records, &journal);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("damaged") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("rewrite replaces the file with a snapshot; later appends follow it", "[journal]") {
  std::string path = TempPath("rewrite");
  {
    std::vector<std::string> records;
    std::unique_ptr<Journal> journal;
    REQUIRE(Journal::Open(path, &records, &journal).ok());
    for (int i = 0; i < 100; ++i) journal->Append("old " + std::to_string(i));
    journal->Rewrite({"snapshot", "state"});
    journal->Append("new");
    REQUIRE(journal->Sync().ok());
    CHECK(journal->stats().rewrites == 1);
  }
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  CHECK(records == std::vector<std::string>{"snapshot", "state", "new"});
  journal.reset();
  std::remove(path.c_str());
}

TEST_CASE("replaying lease records rebuilds the scheduler's leases", "[journal][replay]") {
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
  original.UpdateNode(node, 1000);
  LeaseRequest request;
  request.mem_bytes = 3ull << 30;
  request.ttl_ms = 5000;
  request.key = "k";
  REQUIRE(original.Submit(request, 1000).outcome == Outcome::kGranted);  // lease1
  request.key = "";
  REQUIRE(original.Submit(request, 1000).outcome == Outcome::kGranted);  // lease2
  REQUIRE(original.Submit(request, 1000).outcome == Outcome::kGranted);  // lease3
  bool existed;
  original.Release("lease2", 1100, &existed);
  Lease renewed;
  REQUIRE(original.Renew("lease3", 9000, 1200, &renewed).ok());
  original.Tick(6000);  // lease1 expires
  REQUIRE(collect.records.size() == 6);

  Scheduler replayed(options, nullptr);
  ReplayStats stats;
  REQUIRE(ReplayJournal(collect.records, &replayed, nullptr, &stats).ok());
  CHECK(stats.grants == 3);
  CHECK(stats.ends == 2);
  CHECK(stats.renews == 1);
  REQUIRE(replayed.leases().size() == 1);
  CHECK(replayed.leases().at("lease3").expires_ms == 10200);
  CHECK(replayed.CheckInvariants().ok());
  CHECK(replayed.nodes().at("n1").gpus.at(0).allocated_bytes == (3ull << 30));

  // A snapshot of the replayed state replays to the same state.
  Scheduler from_snapshot(options, nullptr);
  REQUIRE(ReplayJournal(SnapshotRecords(replayed, nullptr, 7000), &from_snapshot, nullptr, &stats).ok());
  CHECK(from_snapshot.leases().size() == 1);
  CHECK(from_snapshot.leases().count("lease3") == 1);

  std::vector<std::string> broken = {"{\"t\":\"grant\"}"};
  CHECK_FALSE(ReplayJournal(broken, &from_snapshot, nullptr, &stats).ok());
  broken = {"{\"t\":\"mystery\"}"};
  CHECK_FALSE(ReplayJournal(broken, &from_snapshot, nullptr, &stats).ok());
}

TEST_CASE("without fdatasync a flushed record is committed at once and survives a reopen", "[journal]") {
  std::string path = TempPath("nosync");
  {
    std::vector<std::string> records;
    std::unique_ptr<Journal> journal;
    REQUIRE(Journal::Open(path, &records, &journal, /*sync=*/false).ok());
    journal->Append("a");
    journal->Append("b");
    CHECK(journal->committed() == 0);
    journal->Flush();
    CHECK(journal->committed() == 2);  // written on this thread, nothing to wait for
    CHECK(journal->WriterIdle());
    journal->Rewrite({"snap"});
    journal->Append("c");
    journal->Flush();  // after the rewrite, into the new file
    CHECK(journal->committed() == 3);
  }
  std::vector<std::string> records;
  std::unique_ptr<Journal> journal;
  REQUIRE(Journal::Open(path, &records, &journal).ok());
  CHECK(records == std::vector<std::string>{"snap", "c"});
  journal.reset();
  std::remove(path.c_str());
}

TEST_CASE("journal content: intact records, a torn tail, damage in the middle", "[journal][security]") {
  std::vector<std::string> records;
  size_t intact = 0;
  std::string good = FrameJournalRecord("a") + FrameJournalRecord("b");
  REQUIRE(ParseJournal(good, &records, &intact).ok());
  CHECK(records == std::vector<std::string>{"a", "b"});
  CHECK(intact == good.size());
  // Torn last record, with or without its newline: cut off.
  std::string torn = FrameJournalRecord("c");
  REQUIRE(ParseJournal(good + torn.substr(0, 5), &records, &intact).ok());
  CHECK(records.size() == 2);
  CHECK(intact == good.size());
  std::string bad_crc = torn;
  bad_crc[0] = bad_crc[0] == '0' ? '1' : '0';
  REQUIRE(ParseJournal(good + bad_crc, &records, &intact).ok());
  CHECK(intact == good.size());
  // Damage followed by an intact record: refused, nothing returned.
  CHECK_FALSE(ParseJournal(FrameJournalRecord("a") + bad_crc + FrameJournalRecord("d"), &records, &intact).ok());
  CHECK(records.empty());
  // Garbage of every sort is at worst a torn tail.
  for (std::string junk : {std::string("\n\n\n"), std::string(9, ' '), std::string("zzzzzzzz x\n"),
                           std::string("\0\0\0\0\0\0\0\0 \n", 11)}) {
    CHECK(ParseJournal(junk, &records, &intact).ok());
    CHECK(records.empty());
  }
}

TEST_CASE("replay refuses records whose values are out of range", "[journal][replay][security]") {
  SchedulerOptions options;
  Scheduler scheduler(options, nullptr);
  ReplayStats stats;
  const std::string lease_tail = R"(,"ttl_ms":1,"created_ms":0,"expires_ms":1,"grants":[{"node":"n","host":"h","port":1,"gpu":0,"mem":1}]}})";
  for (std::string bad : {R"({"t":"grant","lease":{"id":"x","mem":-1)" + lease_tail,
                          R"({"t":"grant","lease":{"id":"a b","mem":1)" + lease_tail,
                          R"({"t":"grant","lease":{"id":"x","secret_sha256":"zz","mem":1)" + lease_tail,
                          std::string(R"({"t":"grant","lease":{"id":"x","mem":1,"ttl_ms":1,"created_ms":0,)"
                                      R"("expires_ms":1,"grants":[{"node":"n","host":"h';x","port":1,"gpu":0,"mem":1}]}})"),
                          std::string(R"({"t":"end"})"), std::string(R"([])"), std::string("{")}) {
    INFO(bad);
    CHECK_FALSE(ReplayJournal({bad}, &scheduler, nullptr, &stats).ok());
  }
  CHECK(scheduler.leases().empty());
  CHECK(scheduler.CheckInvariants().ok());
}
