// RpcChannel: the client's end of one session's connection. It numbers the
// messages, sends them, hands each reply to the thread that waits for it
// (replies come in any order: the server answers a request that waits for
// the GPU when the GPU is done, and others meanwhile), and carries the
// errors of asynchronous requests, which the server reports with a later
// reply, as CUDA reports them at a later call. A transport failure breaks
// the channel for good: every later call gets its sticky error.
//
// Threads: any thread of the program may call; mu_ serializes sending and
// the channel's state (GUARDED_BY below). A thread waiting for its reply
// releases mu_: one waiting thread at a time reads frames (reading_), the
// others sleep on reply_cv_. Session (client/session.h) is a channel, and
// guards its own state with the same mu_.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/host_channel.h"
#include "common/mutex.h"
#include "common/status.h"
#include "protocol/call_ops.h"
#include "protocol/frame.h"
#include "protocol/tcp_stripes.h"
#include "protocol/transport.h"

namespace rcuda::client {

class RpcChannel {
 public:
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  // Sends builder_'s pending request `body` of type `type` as the next
  // message, followed by `bulk`; *id is the message's id.
  Status SendLocked(wire::Request type, flatbuffers::Offset<void> body, std::span<const ConstBuffer> bulk = {},
                    uint64_t* id = nullptr) REQUIRES(mu_);
  // Waits for the reply to message `id` (mu_ is released while waiting). A
  // bulk in the reply is read into `bulk_dst`, which must hold exactly
  // `bulk_bytes`. Returns the request's error, else an error of earlier
  // asynchronous requests.
  Status ReceiveLocked(uint64_t id, const wire::Reply** reply, void* bulk_dst = nullptr, uint64_t bulk_bytes = 0)
      REQUIRES(mu_);
  // The same, with the reply's bulk (if any) read by `read_bulk`.
  Status ReceiveWithLocked(uint64_t id, const wire::Reply** reply, const std::function<Status(uint64_t)>& read_bulk)
      REQUIRES(mu_);
  // ReceiveLocked for a reply whose bulk goes to a strided host region.
  Status ReceiveIntoLocked(uint64_t id, const HostRegion& dst) REQUIRES(mu_);
  // Send + receive for requests without bulk either way.
  Status CallLocked(wire::Request type, flatbuffers::Offset<void> body, const wire::Reply** reply = nullptr)
      REQUIRES(mu_);
  // Reading a reply's body, checked. When the request succeeded (the
  // reply's error is 0), its reply must carry the body the request calls
  // for: one without it (a union type with no table, or a table of another
  // type) comes from a broken or hostile server, and breaks the channel with
  // an error naming the server. *body is then never null; when the request
  // failed it is null and the status says why. Every read of a reply body
  // goes through these, never through reply->body_as_*().
  template <class T>
  Status CallForLocked(wire::Request type, flatbuffers::Offset<void> request, const T** body) REQUIRES(mu_);
  template <class T>
  Status ReceiveForLocked(uint64_t id, const T** body) REQUIRES(mu_);
  // The generic call `op` (protocol/call_ops.h): packs `args`, and on
  // success fills *values with at least `results` values (fewer break the
  // channel: the server is broken or hostile). *values stays empty when
  // the call failed.
  Status CallGenericLocked(CallOp op, std::span<const int64_t> args, size_t results, std::vector<int64_t>* values)
      REQUIRES(mu_);
  // An asynchronous generic call: sent, not waited for.
  Status SendGenericLocked(CallOp op, std::span<const int64_t> args) REQUIRES(mu_);
  // Sleeps (mu_ released) until `done` holds; re-checked at every reply.
  void WaitLocked(const std::function<bool()>& done) REQUIRES(mu_);
  // Marks the channel broken (a transport failure, a reply no sane server
  // sends): every later call fails with the returned sticky error.
  Status BreakLocked(const Status& cause) REQUIRES(mu_);

 protected:
  friend class ModuleCache;  // loads modules on the channel, under mu_

  explicit RpcChannel(int device) : device_(device) {}
  ~RpcChannel() = default;

  // "rcuda server host:port (GPU n)", for messages.
  virtual std::string ServerName() const = 0;
  // Called by BreakLocked with the sticky error.
  virtual void OnBrokenLocked(const Status& sticky) REQUIRES(mu_) = 0;
  // Records a sticky error (client/errors.h) as the session's standing one.
  Status NoteError(const Status& status) REQUIRES(mu_);
  // The reply's body of `type`, or the channel broken.
  Status CheckBodyLocked(const wire::Reply* reply, wire::ReplyBody type, const void** body) REQUIRES(mu_);
  // Forgets the connection's state (ids, waiters), not the connection.
  void ClearLocked() REQUIRES(mu_);
  // Reads the next `size` bytes of the reply bulk being read, from the
  // control connection or the data streams. Only the reading thread.
  Status ReadReplyBulk(void* dst, size_t size);

  const int device_;
  Mutex mu_;
  std::unique_ptr<Connection> connection_ GUARDED_BY(mu_);
  // Striped TCP (protocol/tcp_stripes.h): the session's data streams, if
  // it has any; large bulks go on them (SendLocked).
  std::unique_ptr<TcpStripes> stripes_ GUARDED_BY(mu_);
  bool stripes_announced_ GUARDED_BY(mu_) = false;
  bool connected_ GUARDED_BY(mu_) = false;
  bool connecting_ GUARDED_BY(mu_) = false;  // a thread is shaking hands
  Status sticky_ GUARDED_BY(mu_);            // the standing error, once broken
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  flatbuffers::FlatBufferBuilder builder_ GUARDED_BY(mu_){1024};
  // Threads waiting for replies, by message id (see ReceiveWithLocked).
  struct PendingReply {
    const std::function<Status(uint64_t)>* read_bulk = nullptr;
    std::vector<uint8_t> frame;
    Status transport;
    bool done = false;
  };
  std::unordered_map<uint64_t, PendingReply*> pending_ GUARDED_BY(mu_);
  bool reading_ GUARDED_BY(mu_) = false;  // a waiting thread is reading frames
  // Where the reply bulk being read comes from (the reading thread's).
  Connection* reply_connection_ = nullptr;
  TcpStripes* reply_stripes_ = nullptr;
  std::condition_variable_any reply_cv_;
};

template <class T>
Status RpcChannel::CallForLocked(wire::Request type, flatbuffers::Offset<void> request, const T** body) {
  uint64_t id = 0;
  *body = nullptr;
  RCUDA_RETURN_IF_ERROR(SendLocked(type, request, {}, &id));
  return ReceiveForLocked(id, body);
}

template <class T>
Status RpcChannel::ReceiveForLocked(uint64_t id, const T** body) {
  *body = nullptr;
  const wire::Reply* reply = nullptr;
  Status s = ReceiveLocked(id, &reply);
  if (!reply || reply->error() != 0) return s;
  const void* b = nullptr;
  RCUDA_RETURN_IF_ERROR(CheckBodyLocked(reply, wire::ReplyBodyTraits<T>::enum_value, &b));
  *body = static_cast<const T*>(b);
  return s;  // OK, or an error of earlier asynchronous work
}

}  // namespace rcuda::client
