// An append-only journal of text records with group commit: the event loop
// appends records as decisions are made, Flush() hands everything appended
// since the last flush to a writer thread, which writes it with one write()
// and makes it durable with one fdatasync(), then reports the sequence number
// now on disk. While one batch syncs, the next accumulates, so durability
// costs one sync per batch rather than per record, and a batch is as large as
// what arrived during the previous sync.
//
// On disk each record is one line, "<crc32c, 8 hex digits> <record>\n". After
// a crash the last line may be torn; Open() cuts it off. A damaged line
// followed by intact ones is not a torn write: Open() refuses the file rather
// than silently drop what follows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "scheduler/latency_recorder.h"

namespace rcuda::sched {

class Journal {
 public:
  struct Stats {
    uint64_t batches = 0;   // write+sync rounds
    uint64_t records = 0;   // records made durable
    uint64_t rewrites = 0;  // compactions
    uint64_t sync_ns_total = 0;
    uint64_t sync_ns_max = 0;
    uint64_t sync_ns_p50 = 0;  // over the last 65,536 batches
    uint64_t sync_ns_p99 = 0;
    uint64_t pickup_ns_p99 = 0;  // from Flush() to the writer thread taking the batch
  };
  // Runs on the writer thread after each batch: the highest sequence number
  // now durable, or the error that stopped the journal.
  using CommitCallback = std::function<void(uint64_t committed_seq, const Status& status)>;

  // Reads every intact record of the journal at `path` (created if absent).
  // With `sync` false, a record is committed once written, which Flush()
  // does on the caller's thread: it survives the process being killed, not
  // the machine crashing.
  static Status Open(const std::string& path, std::vector<std::string>* records, std::unique_ptr<Journal>* journal,
                     bool sync = true);
  ~Journal();  // makes everything appended durable, then stops the writer

  void SetCommitCallback(CommitCallback callback);  // before the first Append

  // Buffers a record (no newline inside); returns its sequence number, from 1.
  uint64_t Append(std::string_view record);
  // Hands the buffered records to the writer thread.
  void Flush();
  // Replaces the file's content with exactly `records`, after everything
  // appended so far (compaction: `records` must describe the state including
  // those). Later appends go to the new file.
  void Rewrite(const std::vector<std::string>& records);
  // Waits until everything flushed so far is durable (and, with sync,
  // flushes first).
  Status Sync();

  uint64_t appended() const { return appended_; }
  // Records appended but not yet handed to the writer.
  bool HasUnflushed() const { return appended_ > flushed_; }
  // Everything handed to the writer is durable: a Flush() now starts at once.
  bool WriterIdle() const { return committed() >= flushed_; }
  uint64_t committed() const { return committed_.load(std::memory_order_acquire); }
  // Steady-clock time (ns) at which the latest commit completed.
  uint64_t committed_at_ns() const { return committed_at_ns_.load(std::memory_order_acquire); }
  // Records in the file since it was opened or last rewritten.
  uint64_t records_in_file() const { return records_in_file_; }
  Stats stats() const;
  const std::string& path() const { return path_; }

 private:
  struct Op {
    bool rewrite = false;
    std::string data;       // framed records
    uint64_t last_seq = 0;  // durable once this op is
    uint64_t flushed_ns = 0;
  };

  Journal(std::string path, int fd, bool sync);
  void WriterLoop();
  Status RewriteFile(const std::string& data);

  const std::string path_;
  int fd_;
  const bool sync_;
  CommitCallback callback_;

  // Event-loop side.
  std::string buffer_;
  uint64_t appended_ = 0;
  uint64_t flushed_ = 0;
  uint64_t records_in_file_ = 0;

  // Shared with the writer thread.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Op> ops_;
  uint64_t ops_submitted_ = 0;
  uint64_t ops_completed_ = 0;
  bool stop_ = false;
  Status failure_;
  Stats stats_;
  LatencyRecorder sync_latency_;
  LatencyRecorder pickup_latency_;
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> committed_at_ns_{0};
  std::thread writer_;
};

// Reads a journal file's content: the records of its intact lines, from the
// start; a damaged or unterminated last line (a torn write) ends them, and
// *intact_bytes is where it starts. A damaged line followed by intact ones is
// not a torn write: Corruption. Journal::Open() reads files with it; exposed
// for tests and fuzzing.
Status ParseJournal(std::string_view content, std::vector<std::string>* records, size_t* intact_bytes);

// Frames one record as it is stored: "<crc> <record>\n". Exposed for tests.
std::string FrameJournalRecord(std::string_view record);

}  // namespace rcuda::sched
