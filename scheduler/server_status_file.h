// rcuda-server's status file (its --status-file option), which the monitor
// reads to report the server's sessions and whether it runs. Its format has
// one definition, protocol/server_status_file.h, shared with the server that
// writes it.
#pragma once

#include <cstdint>

#include "protocol/server_status_file.h"

namespace rcuda::sched {

using ServerStatus = rcuda::ServerStatusFile;
using rcuda::ParseServerStatus;
using rcuda::ReadServerStatusFile;

// Whether a process with this id exists (kill(pid, 0)).
bool ProcessExists(int64_t pid);

}  // namespace rcuda::sched
