// A session worker tells its daemon what its connection actually runs on
// (TransportEntry::describe: the UCX transports in use, "tcp/lo" or
// "rc_mlx5/mlx5_0:1"), for the status file: one message on the worker's
// control socket. The daemon looks for it without waiting (its reaper's
// round, every 100 ms) and keeps only printable text of bounded size: a
// worker runs a client's session and is not trusted with more.
//
// The other message a worker sends there is a TLS session's Hello
// (tls_handoff.h), which the daemon awaits in Dispatch, before the session
// counts as handed over; the reaper looks for reports only once it does,
// and only takes a message that is a report (each starts with its own
// tag), so neither reader can take the other's message.
#pragma once

#include <string>

#include "common/status.h"

namespace rcuda {

inline constexpr size_t kMaxTransportReportBytes = 256;

Status SendTransportReport(int control_fd, const std::string& detail);
// True, with *detail, when a report was waiting on `control_fd`; never
// blocks.
bool TakeTransportReport(int control_fd, std::string* detail);

}  // namespace rcuda
