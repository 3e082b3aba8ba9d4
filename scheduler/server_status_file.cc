#include "scheduler/server_status_file.h"

#include <signal.h>

#include <cerrno>

namespace rcuda::sched {

bool ProcessExists(int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

}  // namespace rcuda::sched
