// What the hostile-peer tests (hostile_*_test.cc) share: raw sessions over
// TCP or shared memory, and the checks every case ends with: the daemon
// still serves, a session opened before the attack still works, and what the
// attack took is given back.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <string>
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

}  // namespace rcuda::itest
