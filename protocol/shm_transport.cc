#include "protocol/shm_transport.h"

#include <linux/futex.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

namespace rcuda {
namespace {

constexpr uint32_t kSetupMagic = 0x53554352;  // "RCUS"
constexpr size_t kRingBytes = 8 << 20;        // per direction; a power of two
// Spinning before sleeping on the futex saves a wake-up (a futex wake and a
// trip through the scheduler, 5 to 20 us in a VM) when the answer is
// microseconds away, which it usually is: a small copy or a short kernel.
// RCUDA_SHM_SPIN_US sets how long (0: sleep at once, for hosts whose cores
// are oversubscribed); by default 50 us, or 5 us on hosts of 1 or 2 cores,
// where the spinner would hold the core its peer needs.
int64_t SpinNanos() {
  static const int64_t nanos = [] {
    if (const char* v = std::getenv("RCUDA_SHM_SPIN_US")) return std::max<int64_t>(0, std::atoll(v)) * 1000;
    return std::thread::hardware_concurrency() > 2 ? int64_t{50000} : int64_t{5000};
  }();
  return nanos;
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until `ready()` or the spin time has passed; whether it became ready.
template <class Ready>
bool SpinUntil(Ready ready) {
  if (ready()) return true;
  const int64_t nanos = SpinNanos();
  if (nanos <= 0) return false;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 1;; ++i) {
    CpuRelax();
    if (ready()) return true;
    if ((i & 63) == 0 && std::chrono::steady_clock::now() - start >= std::chrono::nanoseconds(nanos)) return false;
  }
}
// A ring step copies at most this much before it publishes its progress, so
// that the peer copies out one piece while this side copies in the next.
constexpr size_t kMaxStep = 2 << 20;
// Copies of at least this size are split across the copy threads.
constexpr size_t kParallelCopyMin = 512 << 10;

// A few threads that share large copies into and out of the rings: one
// core's memcpy is well below a server's memory bandwidth, and every byte of
// a bulk transfer is copied on both sides. RCUDA_SHM_COPY_THREADS sets how
// many threads copy (the caller included; 1: the caller alone); by default a
// quarter of the cores, at most 4.
class CopyThreads {
 public:
  static CopyThreads& Get() {
    static CopyThreads* pool = new CopyThreads();  // never destroyed: threads may outlive statics
    return *pool;
  }

  void Copy(void* dst, const void* src, size_t n) {
    // Small copies (every request and reply) take no lock. One parallel copy
    // at a time per process, and none in a forked child (it has no copy
    // threads); anyone else copies alone.
    if (n < kParallelCopyMin || helpers_ == 0) {
      std::memcpy(dst, src, n);
      return;
    }
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock() || getpid() != pid_) {
      std::memcpy(dst, src, n);
      return;
    }
    EnsureStarted();
    const size_t parts = helpers_ + 1;
    // Pieces of whole cache lines that together cover all n bytes.
    const size_t piece = ((n + parts - 1) / parts + 63) & ~size_t{63};
    {
      std::lock_guard<std::mutex> lock(mu_);
      dst_ = static_cast<char*>(dst);
      src_ = static_cast<const char*>(src);
      size_ = n;
      piece_ = piece;
      pending_ = helpers_;
      ++generation_;
    }
    work_.notify_all();
    std::memcpy(dst, src, std::min(n, piece));  // the caller's part: the first
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  CopyThreads() : pid_(getpid()) {
    size_t threads = std::max(1u, std::thread::hardware_concurrency() / 4);
    if (const char* v = std::getenv("RCUDA_SHM_COPY_THREADS")) threads = std::max(1, std::atoi(v));
    helpers_ = std::min<size_t>(threads, 16) - 1;
  }

  void EnsureStarted() {
    if (started_) return;
    started_ = true;
    for (size_t i = 0; i < helpers_; ++i) std::thread([this, i] { Run(i + 1); }).detach();
  }

  void Run(size_t part) {
    uint64_t seen = 0;
    while (true) {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      char* dst = dst_;
      const char* src = src_;
      const size_t begin = std::min(size_, part * piece_);
      const size_t end = std::min(size_, begin + piece_);
      lock.unlock();
      if (end > begin) std::memcpy(dst + begin, src + begin, end - begin);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  const pid_t pid_;
  size_t helpers_ = 0;
  bool started_ = false;  // under busy_
  std::mutex busy_;
  std::mutex mu_;
  std::condition_variable work_, done_;
  uint64_t generation_ = 0;
  char* dst_ = nullptr;
  const char* src_ = nullptr;
  size_t size_ = 0, piece_ = 0, pending_ = 0;
};

constexpr int kPeerCheckMillis = 100;         // how often a sleeper checks the peer

// One direction of the connection, in shared memory. Positions only grow;
// the ring holds tail - head bytes. The sequence words are what the futexes
// wait on: `data_seq` moves when bytes were added, `space_seq` when removed.
struct alignas(64) RingHeader {
  std::atomic<uint64_t> head;  // read position (consumer)
  char pad0[56];
  std::atomic<uint64_t> tail;  // write position (producer)
  char pad1[56];
  std::atomic<uint32_t> data_seq;
  std::atomic<uint32_t> reader_sleeping;
  std::atomic<uint32_t> space_seq;
  std::atomic<uint32_t> writer_sleeping;
  char pad2[48];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free);

constexpr size_t kRegionBytes = 2 * (sizeof(RingHeader) + kRingBytes);

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int millis) {
  timespec timeout{millis / 1000, (millis % 1000) * 1000000L};
  // Shared (not FUTEX_PRIVATE): the word lives in memory of two processes.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &timeout, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

struct Ring {
  RingHeader* header;
  char* data;
};

class ShmConnection final : public Connection {
 public:
  // `client`: the connecting side writes ring 0 and reads ring 1.
  ShmConnection(int socket_fd, int memfd, void* region, bool client, std::string peer)
      : socket_(socket_fd), memfd_(memfd), region_(region), peer_(std::move(peer)) {
    char* base = static_cast<char*>(region);
    Ring rings[2];
    for (int i = 0; i < 2; ++i) {
      char* at = base + i * (sizeof(RingHeader) + kRingBytes);
      rings[i] = Ring{reinterpret_cast<RingHeader*>(at), at + sizeof(RingHeader)};
    }
    out_ = rings[client ? 0 : 1];
    in_ = rings[client ? 1 : 0];
  }

  ~ShmConnection() override {
    munmap(region_, kRegionBytes);
    close(memfd_);
    close(socket_);
  }

  Status WriteAll(std::span<const ConstBuffer> buffers) override {
    // Writing into the ring would succeed for a while after the peer died;
    // a request the client does not wait for must fail then, as a write to
    // a closed socket does.
    if (PeerGone()) return Status::IoError("write to " + peer_ + " failed: peer gone");
    for (const auto& b : buffers) {
      const char* p = static_cast<const char*>(b.data);
      size_t n = b.size;
      while (n) {
        RingHeader* h = out_.header;
        uint64_t tail = h->tail.load(std::memory_order_relaxed);
        uint64_t free_bytes = kRingBytes - (tail - h->head.load(std::memory_order_acquire));
        if (free_bytes == 0) {
          RCUDA_RETURN_IF_ERROR(WaitForSpace());
          continue;
        }
        size_t chunk = std::min<uint64_t>({n, free_bytes, kMaxStep});
        size_t at = tail & (kRingBytes - 1);
        size_t first = std::min(chunk, kRingBytes - at);
        CopyThreads::Get().Copy(out_.data + at, p, first);
        if (chunk > first) CopyThreads::Get().Copy(out_.data, p + first, chunk - first);
        h->tail.store(tail + chunk, std::memory_order_release);
        h->data_seq.fetch_add(1, std::memory_order_seq_cst);
        if (h->reader_sleeping.load(std::memory_order_acquire)) FutexWake(&h->data_seq);
        p += chunk;
        n -= chunk;
      }
    }
    return Status::Ok();
  }

  Status ReadExact(void* data, size_t size) override {
    char* p = static_cast<char*>(data);
    while (size) {
      RingHeader* h = in_.header;
      uint64_t head = h->head.load(std::memory_order_relaxed);
      uint64_t available = h->tail.load(std::memory_order_acquire) - head;
      if (available == 0) {
        RCUDA_RETURN_IF_ERROR(WaitForData());
        continue;
      }
      size_t chunk = std::min<uint64_t>({size, available, kMaxStep});
      size_t at = head & (kRingBytes - 1);
      size_t first = std::min(chunk, kRingBytes - at);
      CopyThreads::Get().Copy(p, in_.data + at, first);
      if (chunk > first) CopyThreads::Get().Copy(p + first, in_.data, chunk - first);
      h->head.store(head + chunk, std::memory_order_release);
      h->space_seq.fetch_add(1, std::memory_order_seq_cst);
      if (h->writer_sleeping.load(std::memory_order_acquire)) FutexWake(&h->space_seq);
      p += chunk;
      size -= chunk;
    }
    return Status::Ok();
  }

  void Shutdown() override {
    shut_down_.store(true);
    ::shutdown(socket_, SHUT_RDWR);
    FutexWake(&in_.header->data_seq);
    FutexWake(&out_.header->space_seq);
  }

  std::string PeerName() const override { return peer_; }
  std::string Kind() const override { return "shm"; }
  std::vector<int> HandoffHandles() const override { return {socket_, memfd_}; }

 private:
  // Whether the peer has gone: its end of the Unix socket closed.
  bool PeerGone() {
    if (shut_down_.load()) return true;
    pollfd pfd{socket_, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) return false;
    if (pfd.revents & (POLLHUP | POLLERR)) return true;
    char byte;
    return recv(socket_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  // Spins a little (a reply usually comes within microseconds), then sleeps
  // on the futex, waking now and then to notice a peer that died.
  Status WaitForData() {
    RingHeader* h = in_.header;
    if (SpinUntil([h] { return h->tail.load(std::memory_order_acquire) != h->head.load(std::memory_order_relaxed); }))
      return Status::Ok();
    while (true) {
      uint32_t seq = h->data_seq.load(std::memory_order_acquire);
      h->reader_sleeping.store(1, std::memory_order_seq_cst);
      if (h->tail.load(std::memory_order_seq_cst) != h->head.load(std::memory_order_relaxed)) {
        h->reader_sleeping.store(0);
        return Status::Ok();
      }
      FutexWait(&h->data_seq, seq, kPeerCheckMillis);
      h->reader_sleeping.store(0);
      if (h->tail.load(std::memory_order_acquire) != h->head.load(std::memory_order_relaxed)) return Status::Ok();
      if (PeerGone()) return Status::IoError("connection closed by " + peer_);
    }
  }

  Status WaitForSpace() {
    RingHeader* h = out_.header;
    auto full = [&] {
      return h->tail.load(std::memory_order_relaxed) - h->head.load(std::memory_order_acquire) == kRingBytes;
    };
    if (SpinUntil([&] { return !full(); })) return Status::Ok();
    while (true) {
      uint32_t seq = h->space_seq.load(std::memory_order_acquire);
      h->writer_sleeping.store(1, std::memory_order_seq_cst);
      if (!full()) {
        h->writer_sleeping.store(0);
        return Status::Ok();
      }
      FutexWait(&h->space_seq, seq, kPeerCheckMillis);
      h->writer_sleeping.store(0);
      if (!full()) return Status::Ok();
      if (PeerGone()) return Status::IoError("write to " + peer_ + " failed: peer gone");
    }
  }

  int socket_;
  int memfd_;
  void* region_;
  std::string peer_;
  Ring out_{}, in_{};
  std::atomic<bool> shut_down_{false};
};

Status MapRegion(int memfd, void** region) {
  struct stat st;
  if (fstat(memfd, &st) != 0 || static_cast<size_t>(st.st_size) != kRegionBytes) {
    return Status::InvalidValue("shared memory region of the wrong size");
  }
  void* p = mmap(nullptr, kRegionBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (p == MAP_FAILED) return Status::IoError(std::string("mmap: ") + std::strerror(errno));
  *region = p;
  return Status::Ok();
}

Status UnixAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path) return Status::InvalidValue("socket path too long: " + path);
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::Ok();
}

class ShmListener final : public Listener {
 public:
  ShmListener(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~ShmListener() override { Close(); }

  Status Accept(std::unique_ptr<Connection>* connection) override {
    int s = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) return Status::IoError(std::string("accept: ") + std::strerror(errno));
    // The client sends the magic with its memfd attached.
    uint32_t magic = 0;
    iovec iov{&magic, sizeof magic};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    // A client that connects and sends nothing must not stall the accept
    // loop: the set-up message is due at once.
    timeval tv{5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
    cmsghdr* cmsg = n == static_cast<ssize_t>(sizeof magic) ? CMSG_FIRSTHDR(&msg) : nullptr;
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS || magic != kSetupMagic) {
      close(s);
      return Status::Corruption("a local client sent no shared-memory set-up");
    }
    int memfd;
    std::memcpy(&memfd, CMSG_DATA(cmsg), sizeof memfd);
    timeval none{0, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    Status st = ShmAdopt(s, memfd, connection);
    return st;
  }

  uint16_t Port() const override { return 0; }

  void Close() override {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);
    close(fd_);
    unlink(path_.c_str());
    fd_ = -1;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

std::string ShmSocketPath(uint16_t port) {
  const char* dir = std::getenv("RCUDA_SOCKET_DIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/rcuda-server-" + std::to_string(port) + ".sock";
}

Status ShmConnect(const std::string& socket_path, std::unique_ptr<Connection>* connection) {
  sockaddr_un addr;
  RCUDA_RETURN_IF_ERROR(UnixAddress(socket_path, &addr));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status st = Status::Unavailable("cannot connect to " + socket_path + ": " + std::strerror(errno));
    close(s);
    return st;
  }
  int memfd = memfd_create("rcuda-shm", MFD_CLOEXEC);
  if (memfd < 0 || ftruncate(memfd, kRegionBytes) != 0) {
    Status st = Status::IoError(std::string("memfd: ") + std::strerror(errno));
    if (memfd >= 0) close(memfd);
    close(s);
    return st;
  }
  void* region = nullptr;
  Status st = MapRegion(memfd, &region);
  if (!st.ok()) {
    close(memfd);
    close(s);
    return st;
  }
  // ftruncate zero-fills: both rings start empty.
  uint32_t magic = kSetupMagic;
  iovec iov{&magic, sizeof magic};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &memfd, sizeof memfd);
  if (sendmsg(s, &msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof magic)) {
    st = Status::IoError(std::string("sending the shared-memory set-up failed: ") + std::strerror(errno));
    munmap(region, kRegionBytes);
    close(memfd);
    close(s);
    return st;
  }
  *connection = std::make_unique<ShmConnection>(s, memfd, region, /*client=*/true, "shm " + socket_path);
  return Status::Ok();
}

Status ShmListen(const std::string& socket_path, std::unique_ptr<Listener>* listener) {
  sockaddr_un addr;
  RCUDA_RETURN_IF_ERROR(UnixAddress(socket_path, &addr));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  unlink(socket_path.c_str());  // a stale socket of an earlier server
  if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(s, SOMAXCONN) != 0) {
    Status st = Status::Unavailable("cannot listen on " + socket_path + ": " + std::strerror(errno));
    close(s);
    return st;
  }
  chmod(socket_path.c_str(), 0666);  // like the TCP port: any local user may connect
  *listener = std::make_unique<ShmListener>(s, socket_path);
  return Status::Ok();
}

Status ShmAdopt(int socket_fd, int memfd, std::unique_ptr<Connection>* connection) {
  void* region = nullptr;
  Status st = MapRegion(memfd, &region);
  if (!st.ok()) {
    close(memfd);
    close(socket_fd);
    return st;
  }
  ucred cred{};
  socklen_t len = sizeof cred;
  std::string peer = "shm (local client)";
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer = "shm pid " + std::to_string(cred.pid);
  }
  *connection = std::make_unique<ShmConnection>(socket_fd, memfd, region, /*client=*/false, peer);
  return Status::Ok();
}

}  // namespace rcuda
