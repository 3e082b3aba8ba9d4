// What the hostile-peer tests (hostile_*_test.cc) share: raw sessions over
// TCP or shared memory, and the checks every case ends with: the daemon
// still serves, a session opened before the attack still works, and what the
// attack took is given back.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace rcuda::itest {

using BodyBuilder = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

// A message whose union names `type` but carries no table.
inline flatbuffers::Offset<void> NoTable(flatbuffers::FlatBufferBuilder&) { return 0; }

// Opens a session (Hello accepted) on `server` over `via`.
void RequireOpen(RawClient& c, const TestServer& server, Via via, const HelloFields& fields = {});

// Sends a request and reads its reply (and the reply's bulk).
const wire::Reply* RequireCall(RawClient& c, const TestServer& server, wire::Request type, const BodyBuilder& build,
                               std::span<const uint8_t> bulk = {}, std::vector<uint8_t>* reply_bulk = nullptr);

// Device synchronization: the reply carries earlier asynchronous errors.
const wire::Reply* RequireSync(RawClient& c, const TestServer& server);

// Allocates `bytes`, writes a pattern, reads it back, frees: the session
// works. Returns the reply's error of the allocation (0 when it worked).
void RequireSessionWorks(RawClient& c, const TestServer& server, uint64_t bytes = 4096);

// A session opened now over each transport works.
void RequireFreshSessionsWork(const TestServer& server);

// The daemon's resident memory, and a check that it did not grow by more
// than `slack` over `before` (allocator arenas of new threads take a few
// MiB the first time).
uint64_t DaemonResident(const TestServer& server);
void CheckDaemonResidentNear(const TestServer& server, uint64_t before, uint64_t slack = 24ull << 20);

// Waits until the daemon lists no session (every worker ended).
bool WaitNoSessions(const TestServer& server, milliseconds timeout = milliseconds(15000));

// The worker pid of the newest session in the status file (-1 if none).
pid_t NewestWorker(const TestServer& server);

// Threads of a process (0 if it is gone).
int ThreadCount(pid_t pid);

// The id of the newest session the status file lists (0: none).
uint64_t LastSessionId(const TestServer& server);
// Waits for a session newer than `last_id` to appear in the status file;
// its worker's pid (-1 if none came).
pid_t WorkerOfNewSession(const TestServer& server, uint64_t last_id);

// Both ways to the CUDA executor on the fake libcuda.so.1 (TEST EQUIPMENT):
// the test backend, which opens the fake by path and configures it from its
// own options, and the CUDA backend, which finds it as it finds a real
// driver (LD_LIBRARY_PATH).
inline const char* kBackends[] = {"test", "cuda"};

// hostile_kernels.cu, loaded through a raw client.
struct LoadedKernels {
  uint64_t sleep = 0;   // fault_sleep(long long ns)
  uint64_t bump = 0;    // hostile_bump(int)
  uint64_t print = 0;   // hostile_print(long long bytes)
  uint64_t global = 0;  // hostile_global's address
  uint64_t global_bytes = 0;
};
// Loads the module as `module_id`; the reply's error (0: *kernels is set).
int LoadHostileKernels(RawClient& c, const TestServer& server, uint64_t module_id, LoadedKernels* kernels);

// Launches `function` (one block of one thread) with the packed `params`;
// asynchronous, as the client sends launches.
void SendLaunch(RawClient& c, uint64_t function, std::span<const uint8_t> params, uint64_t stream = 0);

// A generic Call (protocol/call_ops.h) and its reply.
const wire::Reply* RequireGenericCall(RawClient& c, const TestServer& server, uint32_t op,
                                      std::vector<int64_t> args);

// The client's end of a session's host channel, served on a thread of its
// own: acknowledges every message and keeps what deliveries bring.
class RawHostChannel {
 public:
  ~RawHostChannel();
  Status Open(const TestServer& server, Via via, const std::string& session_key);
  // (pending id, bytes) of each delivery so far, in arrival order.
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> Deliveries();

 private:
  void Serve();

  RawClient client_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> deliveries_;
};

// Opens a session and returns its host channel key.
std::string RequireOpenWithKey(RawClient& c, const TestServer& server, Via via);

// A lease token for this server's port and GPU 0, signed with `key`.
std::string LeaseToken(const std::string& key, const std::string& lease, const std::string& node, uint16_t port,
                       uint64_t mem_bytes, int gpu = 0);

}  // namespace rcuda::itest
