// The client end of a session's host channel (see protocol/rcuda.fbs): a
// second connection, opened when first needed, on which the server asks for
// host functions to run and hands over the data of asynchronous
// device-to-host copies, in stream order. A thread of its own serves it, so
// that callbacks run and data lands while the program does anything else.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "protocol/frame.h"
#include "protocol/transport.h"

namespace rcuda::client {

// Where the packed bytes of a device-to-host copy go in the program's
// memory: rows of `width` bytes, `pitch` apart, `slice_height` rows a slice.
struct HostRegion {
  char* base = nullptr;
  uint64_t pitch = 0, slice_height = 0;
  uint64_t width = 0, height = 1, depth = 1;
  uint64_t bytes() const { return width * height * depth; }
};

class HostChannelClient {
 public:
  ~HostChannelClient();

  // Takes over a connected, attached channel and starts serving it.
  void Start(std::unique_ptr<Connection> connection);
  bool started() const { return started_; }
  // Why the channel stopped, if it did.
  Status status();

  // Registers what the server may ask for. `once`: forgotten after use.
  uint64_t AddHostFunction(std::function<void()> fn, bool once);
  uint64_t AddPendingCopy(const HostRegion& region, bool once);
  void Remove(uint64_t id);

  // Waits until every host function launched into a stream has run. Host
  // memory that such a function may write is read only after this, as the
  // stream would read it (see Session::CopyToDevice). Ends with the
  // channel's error when the channel fails (a malformed message, the server
  // gone) or the session breaks (Fail).
  Status WaitForHostFunctions();

  // The session broke: waiters get `why`, and the channel is shut down.
  void Fail(const Status& why);

  // In a forked child: closes this process's copies of the channel's
  // descriptors; the object is never destroyed (its serving thread is the
  // parent's, and the channel the parent's session's).
  void AbandonInForkedChild();

 private:
  struct Entry {
    std::function<void()> fn;  // host function
    HostRegion region;         // or copy destination
    bool is_copy = false;
    bool once = false;
  };

  void Serve();
  // One message of the channel; an error ends the channel.
  Status ServeOne(std::vector<uint8_t>& frame, flatbuffers::FlatBufferBuilder& builder);
  // Records why the channel ended (the first reason) and wakes waiters.
  void Stop(const Status& why);

  std::unique_ptr<Connection> connection_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::mutex mu_;
  std::condition_variable idle_cv_;
  int pending_functions_ = 0;  // once-only host functions not yet run
  std::unordered_map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 0;
  Status status_;
};

}  // namespace rcuda::client
