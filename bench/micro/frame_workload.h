// The frame workload tls_bench and ucx_bench run over a connection (the
// transport is theirs to set up): a small synchronous call's round trip, and
// bulk uploads and downloads as a session worker stages copies.
//   - round trip: a 16-byte header and a 48-byte message each way, p50/p99;
//   - upload: frames of 64 MiB of bulk from the client, which the server
//     reads in 8 MiB chunks (as a worker stages a host-to-device copy);
//   - download: the server answers with 64 MiB written in 8 MiB chunks, which
//     the client reads whole into its destination (a device-to-host copy).
#pragma once

#include <string>

#include "common/status.h"
#include "protocol/transport.h"

namespace rcuda::bench {

struct FramePlan {
  int rounds = 20000;
  int bulk_frames = 16;
};

// Exits the process with a message naming `program` when `s` is an error.
void CheckOrExit(const Status& s, const char* program, const char* what);

// Puts the calling process on one CPU (--pin): on a small or busy host the
// scheduler tends to put a waker and the woken on one core, where a side that
// polls keeps its peer from running at all.
void PinToCpu(int cpu, const char* program);

Status WriteBytes(Connection& c, const void* data, size_t n);

// The server's side (a worker's session loop, reduced).
void ServeFrameWorkload(Connection& c, const FramePlan& plan, const char* program);
// The client's side; prints "METRIC <name>_rt_p50 <us> us", "..._rt_p99",
// "..._upload <GB/s> GB/s" and "..._download".
void MeasureFrameWorkload(Connection& c, const std::string& name, const FramePlan& plan, const char* program);

}  // namespace rcuda::bench
