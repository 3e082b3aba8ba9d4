// Fuzz target: ssgmd's journal as it reads it back at start
// (scheduler/journal.h, lease_journal.h). Each input is read twice:
// - as a journal file: ParseJournal (CRC-framed lines, a torn last line cut
//   off, damage before intact lines refused), then ReplayJournal;
// - as its lines framed right (a stored CRC, "xxxxxxxx ", dropped and made
//   again), so that the replay sees the fuzzer's records whatever their CRC.
// A replay that succeeds must leave the scheduler's books consistent
// (CheckInvariants), and its compaction (SnapshotRecords) must replay into
// the same leases.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "scheduler/journal.h"
#include "scheduler/lease_journal.h"
#include "scheduler/scheduler.h"
#include "scheduler/wire.h"

namespace rcuda::fuzz {
namespace {

using namespace rcuda::sched;

std::vector<std::string> LeasesOf(const Scheduler& scheduler) {
  std::vector<std::string> out;
  for (const auto& [id, lease] : scheduler.leases()) out.push_back(EncodeLease(lease).Dump());
  std::sort(out.begin(), out.end());
  return out;
}

void Replay(const std::vector<std::string>& records) {
  Scheduler scheduler(SchedulerOptions{});
  ReplayStats stats;
  if (!ReplayJournal(records, &scheduler, nullptr, &stats).ok()) return;
  FUZZ_CHECK(stats.records == records.size(), "a replay that succeeded skipped records");
  Status books = scheduler.CheckInvariants();
  if (!books.ok()) std::fprintf(stderr, "%s\n", books.message().c_str());
  FUZZ_CHECK(books.ok(), "a replayed journal leaves the scheduler's books inconsistent");
  Scheduler compacted(SchedulerOptions{});
  Status s = ReplayJournal(SnapshotRecords(scheduler, nullptr, 0), &compacted, nullptr, &stats);
  FUZZ_CHECK(s.ok(), "a compacted journal does not replay");
  FUZZ_CHECK(LeasesOf(compacted) == LeasesOf(scheduler), "a compacted journal replays into other leases");
}

}  // namespace
}  // namespace rcuda::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rcuda;
  std::string_view content = fuzz::AsText(data, size);
  std::vector<std::string> records;
  size_t intact = 0;
  if (sched::ParseJournal(content, &records, &intact).ok()) {
    FUZZ_CHECK(intact <= content.size(), "intact bytes beyond the file");
    FUZZ_CHECK(size_t(std::count(content.begin(), content.begin() + intact, '\n')) == records.size(),
               "records and intact lines disagree");
    fuzz::Replay(records);
  }

  std::vector<std::string> lines;
  std::string file;
  while (!content.empty()) {
    size_t newline = content.find('\n');
    std::string_view line = content.substr(0, newline);
    content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
    if (line.size() >= 9 && line[8] == ' ') line.remove_prefix(9);
    lines.emplace_back(line);
    file += sched::FrameJournalRecord(line);
  }
  FUZZ_CHECK(sched::ParseJournal(file, &records, &intact).ok() && records == lines && intact == file.size(),
             "a journal of framed records does not read back as those records");
  fuzz::Replay(records);
  return 0;
}
