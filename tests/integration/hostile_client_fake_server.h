// TEST EQUIPMENT: a fake rcuda server for the hostile-server tests of the
// client library (hostile_client_server.cc). It speaks the wire protocol on
// 127.0.0.1 over TCP and answers enough of it for the probe program's calls
// (hostile_client_probe.cu): correctly, except for the one way a test case
// tells it to be broken. It runs no kernels and holds no memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/fatbin.h"
#include "protocol/frame.h"
#include "protocol/transport.h"

namespace rcuda::itest {

class FakeServer {
 public:
  struct Script {
    // Replies to these requests name their body's type but carry no table
    // (the flatbuffers verifier lets that through).
    std::set<wire::Request> bodiless;
    // Call replies carry a CallReply without values.
    bool call_without_values = false;
    // Never answer a session's Hello.
    bool silent = false;
    // What ModuleLoad says of every kernel's parameters; empty: the true
    // layout of the probe's kernel (int, float*).
    std::vector<KernelParamInfo> layout;
    // On a HostFunction request, send a malformed message on the session's
    // host channel instead of the call.
    bool garbage_on_host_channel = false;
  };

  explicit FakeServer(Script script);
  // Closes the listener and every connection; joins every thread.
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1@" + std::to_string(port_); }

 private:
  void AcceptLoop();
  void Serve(Connection* connection);
  // Answers one request; false ends the connection.
  bool Answer(Connection& connection, const wire::Message& m, uint64_t bulk_bytes);
  bool Reply(Connection& connection, const wire::Message& m, wire::ReplyBody type,
             const std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>& body,
             std::span<const ConstBuffer> bulk = {});

  const Script script_;
  std::unique_ptr<Listener> listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> connections_;  // under mu_
  std::vector<std::thread> threads_;                      // under mu_
  Connection* host_channel_ = nullptr;                    // under mu_
  uint64_t next_handle_ = 0x1000;                         // under mu_
};

}  // namespace rcuda::itest
