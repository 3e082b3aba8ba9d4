// Transports: a Connection is a reliable, ordered byte stream between a
// client session and a server worker; a Listener accepts them. TCP and shared
// memory implement these; nothing above this interface knows which one runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda {

struct ConstBuffer {
  const void* data;
  size_t size;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Writes every buffer, in order, or fails. Blocks until the transport has
  // taken all bytes (the caller may reuse them when this returns).
  virtual Status WriteAll(std::span<const ConstBuffer> buffers) = 0;

  // Reads exactly `size` bytes into `data`, or fails (peer gone, transport
  // error). A clean end of stream before the first byte is an error too.
  virtual Status ReadExact(void* data, size_t size) = 0;

  // Unblocks and fails pending and later reads and writes.
  virtual void Shutdown() = 0;

  // The peer, for logs: "tcp 10.0.0.5:41234".
  virtual std::string PeerName() const = 0;

  // What another process (a session worker) needs to take the connection
  // over: the transport's name and its file descriptors, in the order the
  // transport's Adopt function takes them.
  virtual std::string Kind() const { return "unknown"; }
  virtual std::vector<int> HandoffHandles() const { return {}; }
  // The first handoff handle (the socket), or -1.
  virtual int NativeHandle() const {
    std::vector<int> handles = HandoffHandles();
    return handles.empty() ? -1 : handles[0];
  }
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Status Accept(std::unique_ptr<Connection>* connection) = 0;
  // The port actually bound (useful with port 0).
  virtual uint16_t Port() const = 0;
  virtual void Close() = 0;
};

}  // namespace rcuda
