// ssgmd's network side: accepts ssgm and monitor connections (one JSON line
// per message, wire.h), feeds the Scheduler, journals its lease changes with
// group commit and answers each request once the records its answer depends
// on are durable. One thread runs everything except the journal's writer.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "scheduler/scheduler.h"

namespace rcuda::sched {

struct SsgmdOptions {
  std::string listen_address = "0.0.0.0";
  uint16_t port = 8309;          // 0 picks a free port (tests)
  std::string journal_path;      // empty: no journal (leases die with the process)
  // fdatasync each batch (survives machine crashes); false: write() only
  // (survives ssgmd being killed, not the machine crashing).
  bool journal_sync = true;
  std::string lease_key;         // empty: no tokens are issued
  std::string client_key;        // non-empty: requests must be signed with it (request_auth.h)
  std::string node_key;          // non-empty: reports must be signed with it (request_parser.h)
  std::string operator_key;      // non-empty: requests signed with it act on any lease, see lease ids
  // Released leases whose tokens are still alive: beyond this many, new
  // requests are answered busy until older tokens expire (never forgotten early).
  size_t max_revocations = 1'000'000;
  size_t revocations_per_reply = 4096;  // in one reply to a monitor's report
  SchedulerOptions scheduler;
  int64_t default_ttl_ms = 300'000;
  int64_t max_ttl_ms = 86'400'000;
  int64_t max_wait_ms = 3'600'000;
  int max_gpus_per_request = 16;
  uint64_t compact_min_records = 10'000;  // compact the journal beyond this many records...
  uint64_t compact_live_factor = 4;       // ...and beyond this many times the live leases
};

class SsgmdService {
 public:
  SsgmdService(asio::io_context& io, SsgmdOptions options);
  ~SsgmdService();

  // Replays the journal, binds the port, starts accepting.
  Status Start();
  uint16_t Port() const;
  // Stops accepting, makes the journal durable; the io_context then runs out.
  void Stop();
  // Set when the journal failed: ssgmd must exit (it can no longer promise durability).
  bool failed() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rcuda::sched
