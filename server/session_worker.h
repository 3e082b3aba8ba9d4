// SessionWorker: serves one client session in its own process. Reads frames,
// checks them, replays each request on the Executor and answers the ones
// that expect an answer. Any malformed input ends the session (and with it
// the process, which frees the session's GPU memory); it never reaches the
// GPU. The dispatcher and its checks are generated from the operations'
// descriptions (protocol/rpc/operations.def).
//
// Threads: the session's thread (Run) owns all state but these: replies also
// leave from the wait pool's threads (WaitThenReply), so frames are written
// under write_mu_ and the pending asynchronous error is async_mu_'s; the
// host channel and the wait pool are thread-safe themselves.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "common/allocation_table.h"
#include "common/mutex.h"
#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/tls/tls_context.h"
#include "protocol/tcp_stripes.h"
#include "protocol/transport.h"
#include "server/device_output.h"
#include "server/executor.h"
#include "server/handle_table.h"
#include "server/host_channel.h"
#include "server/host_segment_table.h"
#include "server/library_call.h"
#include "server/memory_budget.h"
#include "server/session_monitor.h"
#include "server/wait_pool.h"

namespace rcuda {

struct SessionPolicy {
  // With a key, a session needs a valid lease token (RCUDA_TOKEN) for this
  // server's port and the requested GPU, and is held to its memory grant.
  std::string auth_key;
  std::string node_name;
  uint16_t port = 0;
  int gpu = 0;  // the GPU this worker's executor opened
  // The daemon's control socket: the session's host channel arrives on it.
  int control_fd = -1;
  // The key the client presents to attach its host channel (and its data
  // streams).
  std::string session_key;
  // How many TCP data streams (striped TCP, protocol/tcp_stripes.h) a TCP
  // session may attach: rcuda-server --tcp-streams.
  int tcp_streams = 0;
  // The lease's shared memory account (LeaseMemory) and this session's slot
  // in it, from the daemon; -1 without a lease.
  int lease_fd = -1;
  int lease_slot = -1;
  // A session idle this long is ended (0: never); see SessionMonitor.
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds gone_grace{5000};
  // The worker's TLS certificate (--tls-cert), loaded while it was warm,
  // and how long a TLS handshake and the Hello inside it may take
  // (session_worker_tls.h); null: no TLS.
  std::shared_ptr<const TlsContext> tls;
  std::chrono::milliseconds handshake_timeout{10000};
  // Bytes of pinned host segments (the client's cudaMallocHost memory over
  // shared memory, mapped and registered by the worker) one session may hold.
  uint64_t host_segment_bytes = kDefaultSessionPinnedBytes;
  // The most device output (the driver's writes to stdout: kernels' printf)
  // kept between two replies (--session-device-output-kib); 0: not
  // captured, it stays in the worker's stdout (device_output.h).
  uint64_t device_output_bytes = 0;
};

// What one session may hold of the worker's host, whatever it asks.
struct SessionCaps {
  static constexpr uint64_t kMaxModuleBytes = 1ull << 30;  // one fatbinary
  static constexpr int kMaxHandles = 16384;  // live streams, events, graphs, pools, library handles
  static constexpr size_t kMaxWaitThreads = 32;  // threads waiting on the GPU
  static constexpr size_t kMaxHostSegments = 256;  // pinned buffers shared over shared memory
};

class SessionWorker {
 public:
  // `executor` was opened ahead of the session (a warm worker); `open_status`
  // says whether that worked. A failure is reported to the client in the
  // handshake.
  SessionWorker(std::unique_ptr<Connection> connection, std::unique_ptr<Executor> executor, Status open_status,
                SessionPolicy policy);

  // Runs the session to its end. `hello` is the session's first message,
  // already read by the daemon (empty: read it from the connection).
  // Returns OK when the client left cleanly, otherwise why the session was
  // ended.
  Status Run(std::span<const uint8_t> hello);
  ~SessionWorker();

 private:
  Status Handshake(std::span<const uint8_t> hello);

  // ---- The generated dispatcher, hooks and handlers ------------------------
  // Serve and one Serve<Op> per operation are generated from
  // protocol/rpc/operations.def (session_dispatch.inc); so are the
  // declarations of the hooks (On<Op>: an operation's semantics beyond
  // forwarding) and handlers (Handle<Op>: hand-shaped requests) written by
  // hand in session_worker*.cc.
#include "server/session_dispatch.inc"

  // ---- The argument checks the dispatcher makes ---------------------------
  // cudaErrorInvalidResourceHandle unless `handle` is one of the session's
  // objects of `kind`.
  Status CheckHandle(HandleKind kind, uint64_t handle, const char* op, const char* arg) const;
  // cudaErrorInvalidValue unless [ptr, ptr + size) lies in memory this
  // session allocated.
  Status CheckMemory(const char* op, const char* arg, uint64_t ptr, uint64_t size) const;
  // Takes a cudaMalloc'ed range out of the session's memory map by its base
  // (*bytes: its size); cudaErrorInvalidValue if `ptr` is not one's base.
  Status TakeAllocation(const char* op, uint64_t ptr, uint64_t* bytes);
  static Status TooManyHandles();

  // session_worker_memory.cc: what takes or gives GPU memory (pools,
  // limits) is charged to the session's budget.
  // Charges `bytes`; when the grant is spent, looks again at what the
  // session's pools really reserve, then tries once more.
  bool ChargeOrRefresh(uint64_t bytes);
  // Charges the session's stream-ordered pools what they reserve now.
  void RefreshPoolCharge();
  // The pool a cudaMallocAsync of pool argument `pool` draws from.
  int64_t PoolOf(int64_t pool);

  // session_worker_host_segments.cc: a copy of a host segment, and the
  // release of every segment when the session ends.
  Status CopySegment(uint64_t device, int64_t segment, int64_t offset, int64_t size, int64_t to_device,
                     uint64_t stream, bool wait);
  void ReleaseHostSegments();

  // Converts a graph from the wire, checking its device memory ranges and
  // its nodes' functions and events.
  Status GraphSpecs(const flatbuffers::Vector<flatbuffers::Offset<wire::GraphNode>>* nodes,
                    std::vector<GraphNodeSpec>* specs);
  Status NodeSpec(const wire::GraphNode& node, GraphNodeSpec* spec);
  // Whether a strided region lies in the session's device memory.
  bool OwnsStrided(uint64_t base, uint64_t pitch, uint64_t slice_height, uint64_t width, uint64_t height,
                   uint64_t depth) const;
  // Receives the session's host channel (and data streams) from the daemon.
  void AttachLoop();
  // Answers an attachment's Hello (message `id`).
  static Status SendAttachReply(Connection& connection, uint64_t id, bool ok, const std::string& why);

  // session_worker_stripes.cc: striped TCP. Takes a data stream whose Hello
  // is `h` (h.stripe() > 0), or refuses it.
  void AttachStripe(const wire::Hello& h, uint64_t id, const std::string& kind,
                    std::unique_ptr<Connection> connection) EXCLUDES(stripes_mu_);
  // Called for each frame: a striped one (its bulk on the data streams)
  // freezes the session's data streams at the first, and starts reading
  // its bulk from them.
  Status BeginFrameBulk(const FrameHeader& header, const wire::Message& message) EXCLUDES(stripes_mu_);
  // After the frame was served: a striped bulk must have been read whole.
  Status EndFrameBulk();
  // Reads the current frame's next `n` bulk bytes from wherever it comes.
  Status ReadBulk(void* dst, size_t n);
  // Drops `bytes` of bulk data. Hides rcuda::DiscardBulk inside the
  // worker (the generated dispatcher calls it unqualified): a striped
  // frame's bulk is dropped from the data streams.
  Status DiscardBulk(Connection& connection, uint64_t bytes);
  // Writing a reply's frame with its bulk, on the data streams when the
  // client uses them and the bulk is large: whole, or started, continued
  // and ended (StreamReply).
  Status WriteReplyFrame(std::span<const uint8_t> message, std::span<const ConstBuffer> bulk) REQUIRES(write_mu_);
  Status StartReplyBulk(std::span<const uint8_t> message, uint64_t bulk_bytes, ConstBuffer first)
      REQUIRES(write_mu_);
  Status ContinueReplyBulk(ConstBuffer part) REQUIRES(write_mu_);
  Status EndReplyBulk() REQUIRES(write_mu_);

  // Hands `use` a reader of the request's bulk data (for the executor to
  // pull in chunks); a GPU-side failure becomes an asynchronous error and
  // the unread bulk is dropped, a transport failure ends the session.
  Status ConsumeBulk(uint64_t bulk_bytes, const std::function<Status(const ChunkReader&)>& use);
  // Sends a reply whose bulk is produced piecewise (synchronous
  // device-to-host copies); pads with zeros if production fails midway.
  Status StreamReply(uint64_t id, uint64_t bytes,
                     const std::function<Status(const ChunkWriter&)>& produce);

  // Sends the Reply to message `id`, with `result` as its error and any
  // pending asynchronous error. `body` is finished by the caller's builder.
  Status SendReply(uint64_t id, const Status& result,
                   wire::ReplyBody body_type = wire::ReplyBody::NONE,
                   flatbuffers::Offset<void> body = 0, std::span<const ConstBuffer> bulk = {});
  // Builds (in `builder`) and writes a reply; safe from any thread.
  Status FinishReply(flatbuffers::FlatBufferBuilder* builder, uint64_t id, const Status& result,
                     wire::ReplyBody body_type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk)
      EXCLUDES(write_mu_);
  // Records the failure of a request that gets no reply, to report with the
  // next reply.
  // Queries `target` for up to 50 us: OK once its work is done, kCudaErrorNotReady while
  // it still runs, another error for a bad handle or a fault.
  Status LookBriefly(Executor::WaitTarget target, uint64_t handle);
  void RecordAsyncError(const Status& status) EXCLUDES(async_mu_);
  Status TakeAsyncError() EXCLUDES(async_mu_);
  // The device output captured since the last reply, as a reply's
  // device_output (null when there is none). Called with the frame lock
  // held, so that output leaves in the order it was written.
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> DeviceOutputVector(flatbuffers::FlatBufferBuilder* builder)
      REQUIRES(write_mu_);
  // Answers a synchronizing request when the GPU work it waits for is done,
  // without holding up the session's other requests meanwhile.
  Status WaitThenReply(uint64_t id, Executor::WaitTarget target, uint64_t handle);
  // Runs `task` on the wait pool (counted by the monitor as work in
  // progress); with every pool thread busy, runs it here and now.
  void RunWait(std::function<void()> task);

  std::unique_ptr<Connection> connection_;
  // Striped TCP: data streams attached so far (by index - 1), until the
  // first striped frame takes them (stripes_frozen_) into stripes_, which
  // only the session thread uses.
  Mutex stripes_mu_;
  std::vector<std::unique_ptr<Connection>> attached_stripes_ GUARDED_BY(stripes_mu_);
  bool stripes_frozen_ GUARDED_BY(stripes_mu_) = false;
  std::unique_ptr<TcpStripes> stripes_;
  bool bulk_striped_ = false;  // the frame being served has its bulk on stripes_
  std::unique_ptr<Executor> executor_;
  Status open_status_;
  SessionPolicy policy_;
  AllocationTable allocations_;
  MemoryBudget budget_;
  HostSegmentTable host_segments_{policy_.host_segment_bytes, SessionCaps::kMaxHostSegments};
  // Loaded modules, by the id the client gave each.
  struct LoadedModule {
    uint64_t executor_id = 0;
    std::vector<uint64_t> variables;  // bases in allocations_
    std::vector<uint64_t> functions;  // handles in handles_
    uint64_t charged = 0;
  };
  std::map<uint64_t, LoadedModule> modules_;
  // Stream-ordered pools: what the session's allocations use in each (a
  // pool's charge is the larger of that and what the pool reserves).
  std::map<int64_t, uint64_t> pool_used_;
  std::map<uint64_t, std::pair<int64_t, uint64_t>> pool_allocations_;  // ptr -> pool, bytes
  uint64_t pool_charge_ = 0;
  std::map<uint64_t, uint64_t> array_bytes_;  // CUDA arrays: handle -> bytes charged
  std::map<uint64_t, uint64_t> mipmap_bytes_;  // mipmapped arrays: handle -> bytes charged
  std::map<uint64_t, std::set<uint64_t>> mipmap_levels_;  // mipmapped array -> its level arrays given out
  std::map<int64_t, uint64_t> limit_charges_;  // by cudaLimit
  uint64_t resident_threads_ = 1;  // SMs * threads per SM: a stack size's multiplier
  uint32_t arch_ = 0;              // the GPU's, e.g. 90: which module image it loads
  HandleTable handles_{SessionCaps::kMaxHandles};
  // Forwarded math libraries (session_worker_library.cc): their handles
  // count in handles_ (kLibrary) and are destroyed when the session ends.
  library::LibrarySessionState libraries_;
  std::unique_ptr<SessionMonitor> monitor_;
  uint64_t next_id_ = 0;
  Mutex async_mu_;
  Status async_error_ GUARDED_BY(async_mu_);
  Mutex write_mu_;  // one frame at a time on connection_
  TcpStripes* reply_stripes_ GUARDED_BY(write_mu_) = nullptr;  // stripes_, once the client uses them
  bool replying_striped_ GUARDED_BY(write_mu_) = false;        // StreamReply's frame goes on them
  // The driver's writes to stdout, for the client (null: not captured).
  // Declared before waits_: the wait pool's threads reply until it ends.
  std::unique_ptr<DeviceOutput> device_output_;
  WaitPool waits_{SessionCaps::kMaxWaitThreads};
  ClientHostChannel host_channel_;
  std::thread attach_thread_;
  std::atomic<bool> ending_{false};
  flatbuffers::FlatBufferBuilder builder_{1024};
  std::vector<uint8_t> frame_;
};

}  // namespace rcuda
