#include "scheduler/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "scheduler/crc32c.h"

namespace rcuda::sched {

namespace {

Status ErrnoStatus(const std::string& what) { return Status::IoError(what + ": " + std::strerror(errno)); }

Status WriteFully(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path);
    }
    done += size_t(n);
  }
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncDirectory(const std::string& path) {
  int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return ErrnoStatus("open directory of " + path);
  int rc = ::fsync(dir);
  ::close(dir);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync directory of " + path);
}

bool ParseFramedLine(std::string_view line, std::string_view* record) {
  if (line.size() < 9 || line[8] != ' ') return false;
  uint32_t stored = 0;
  for (int i = 0; i < 8; ++i) {
    char c = line[i];
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    stored = (stored << 4) | uint32_t(v);
  }
  *record = line.substr(9);
  return Crc32c(*record) == stored;
}

uint64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status ParseJournal(std::string_view content, std::vector<std::string>* records, size_t* intact_bytes) {
  records->clear();
  *intact_bytes = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t newline = content.find('\n', pos);
    std::string_view record;
    bool intact = newline != std::string_view::npos && ParseFramedLine(content.substr(pos, newline - pos), &record);
    if (!intact) {
      // A torn write can only be the last line. Anything intact after a
      // damaged line means the damage is not from a crash.
      size_t next = newline == std::string_view::npos ? content.size() : newline + 1;
      while (next < content.size()) {
        size_t end = content.find('\n', next);
        if (end == std::string_view::npos) break;
        std::string_view later;
        if (ParseFramedLine(content.substr(next, end - next), &later)) {
          return Status::Corruption("damaged record at byte " + std::to_string(pos) +
                                    " is followed by intact ones; refusing to guess (move the file aside to start "
                                    "empty, or repair it)");
        }
        next = end + 1;
      }
      break;
    }
    records->emplace_back(record);
    pos = newline + 1;
    *intact_bytes = pos;
  }
  return Status::Ok();
}

std::string FrameJournalRecord(std::string_view record) {
  char crc[10];
  std::snprintf(crc, sizeof crc, "%08x ", Crc32c(record));
  std::string out(crc);
  out.append(record);
  out += '\n';
  return out;
}

Status Journal::Open(const std::string& path, std::vector<std::string>* records, std::unique_ptr<Journal>* journal,
                     bool sync) {
  records->clear();
  bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open journal " + path);
  std::string content;
  char chunk[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus("read journal " + path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    content.append(chunk, size_t(n));
  }
  size_t good_end = 0;  // bytes of intact records from the start
  Status parsed = ParseJournal(content, records, &good_end);
  if (!parsed.ok()) {
    ::close(fd);
    return Status::Corruption("journal " + path + ": " + parsed.message());
  }
  if (good_end < content.size()) {
    if (::ftruncate(fd, off_t(good_end)) != 0 || ::fsync(fd) != 0) {
      Status s = ErrnoStatus("truncate torn journal tail " + path);
      ::close(fd);
      return s;
    }
  }
  ::close(fd);
  fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open journal " + path);
  if (!existed) {
    Status s = SyncDirectory(path);
    if (!s.ok()) {
      ::close(fd);
      return s;
    }
  }
  journal->reset(new Journal(path, fd, sync));
  (*journal)->records_in_file_ = records->size();
  return Status::Ok();
}

Journal::Journal(std::string path, int fd, bool sync) : path_(std::move(path)), fd_(fd), sync_(sync) {
  writer_ = std::thread([this] { WriterLoop(); });
}

Journal::~Journal() {
  Flush();
  Sync();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  writer_.join();
  ::close(fd_);
}

void Journal::SetCommitCallback(CommitCallback callback) { callback_ = std::move(callback); }

uint64_t Journal::Append(std::string_view record) {
  buffer_ += FrameJournalRecord(record);
  ++records_in_file_;
  return ++appended_;
}

void Journal::Flush() {
  if (flushed_ == appended_) return;
  if (!sync_) {
    // Nothing to wait for: write on the caller's thread, so the answers can
    // leave at once instead of after a wake-up of the writer thread (which
    // takes milliseconds when the CPUs are busy). Pending writer work (a
    // rewrite) goes first, to keep the order.
    Status status = Sync();
    if (status.ok()) status = WriteFully(fd_, buffer_, path_);
    uint64_t records = appended_ - flushed_;
    buffer_.clear();
    flushed_ = appended_;
    std::unique_lock<std::mutex> lock(mu_);
    if (status.ok()) {
      stats_.batches += 1;
      stats_.records += records;
      sync_latency_.Add(0);
      committed_.store(appended_, std::memory_order_release);
      return;
    }
    if (failure_.ok()) failure_ = status;
    CommitCallback callback = callback_;
    lock.unlock();
    if (callback) callback(committed(), status);
    return;
  }
  Op op;
  op.data.swap(buffer_);
  op.last_seq = appended_;
  op.flushed_ns = NowNs();
  flushed_ = appended_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.push_back(std::move(op));
    ++ops_submitted_;
  }
  work_cv_.notify_one();
}

void Journal::Rewrite(const std::vector<std::string>& records) {
  Flush();
  Op op;
  op.rewrite = true;
  for (const auto& record : records) op.data += FrameJournalRecord(record);
  op.last_seq = appended_;
  records_in_file_ = records.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.push_back(std::move(op));
    ++ops_submitted_;
  }
  work_cv_.notify_one();
}

Status Journal::Sync() {
  if (sync_) Flush();
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return !failure_.ok() || ops_completed_ == ops_submitted_; });
  return failure_;
}

Journal::Stats Journal::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats stats = stats_;
  stats.sync_ns_p50 = sync_latency_.Percentile(50);
  stats.sync_ns_p99 = sync_latency_.Percentile(99);
  stats.pickup_ns_p99 = pickup_latency_.Percentile(99);
  return stats;
}

Status Journal::RewriteFile(const std::string& data) {
  std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open " + temp);
  Status s = WriteFully(fd, data, temp);
  if (s.ok() && sync_ && ::fsync(fd) != 0) s = ErrnoStatus("fsync " + temp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(temp.c_str(), path_.c_str()) != 0) return ErrnoStatus("rename " + temp);
  if (sync_) RCUDA_RETURN_IF_ERROR(SyncDirectory(path_));
  int new_fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (new_fd < 0) return ErrnoStatus("reopen journal " + path_);
  ::close(fd_);
  fd_ = new_fd;
  return Status::Ok();
}

void Journal::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || !ops_.empty(); });
    if (ops_.empty()) break;  // stopping, nothing left
    std::deque<Op> ops;
    ops.swap(ops_);
    bool failed = !failure_.ok();
    lock.unlock();

    Status status = failed ? Status::IoError("journal stopped after an earlier error") : Status::Ok();
    uint64_t last_seq = 0, records = 0, rewrites = 0;
    uint64_t started = NowNs();
    uint64_t pickup = ops.front().flushed_ns ? started - ops.front().flushed_ns : 0;
    // Consecutive appends become one write().
    std::string appends;
    for (Op& op : ops) {
      if (!status.ok()) break;
      if (op.rewrite) {
        if (!appends.empty()) status = WriteFully(fd_, appends, path_);
        appends.clear();
        if (status.ok()) status = RewriteFile(op.data);
        ++rewrites;
      } else {
        appends += op.data;
      }
      last_seq = op.last_seq;
    }
    if (status.ok() && !appends.empty()) status = WriteFully(fd_, appends, path_);
    if (status.ok() && sync_ && ::fdatasync(fd_) != 0) status = ErrnoStatus("fdatasync " + path_);
    uint64_t elapsed = NowNs() - started;
    for (const Op& op : ops) records += std::count(op.data.begin(), op.data.end(), '\n');

    lock.lock();
    if (status.ok()) {
      stats_.batches += 1;
      stats_.records += records;
      stats_.rewrites += rewrites;
      stats_.sync_ns_total += elapsed;
      stats_.sync_ns_max = std::max(stats_.sync_ns_max, elapsed);
      sync_latency_.Add(elapsed);
      pickup_latency_.Add(pickup);
      uint64_t previous = committed_.load();
      while (previous < last_seq && !committed_.compare_exchange_weak(previous, last_seq)) {
      }
      committed_at_ns_.store(NowNs(), std::memory_order_release);
    } else if (failure_.ok()) {
      failure_ = status;
    }
    ops_completed_ += ops.size();
    CommitCallback callback = callback_;
    lock.unlock();
    if (callback) callback(status.ok() ? last_seq : committed_.load(), status);
    done_cv_.notify_all();
    lock.lock();
  }
}

}  // namespace rcuda::sched
