// ExecHelper: rcuda-fn's side of rcuda-fn-exec (fn_exec_main.cc), which runs
// each invocation's command, enforces its timeout and limits, and kills
// whatever the command leaves behind. rcuda-fn only starts it and reads its
// one result; it never waits for any process but the helper, so it can live
// inside a process that has children of its own (the tests).
//
// A lifeline pipe, whose write end only this process holds, tells every
// helper to kill its command when this process ends, however it ends.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace rcuda::faas {

struct ExecRequest {
  std::vector<std::string> command;      // argv; command[0] found on the helper's PATH
  std::vector<std::string> environment;  // "NAME=value", the command's whole environment
  std::string log_path;                  // stdout and stderr
  std::string work_dir;                  // where the command starts
  int64_t timeout_ms = 0;
  int64_t grace_ms = 2000;               // between SIGTERM and SIGKILL
  uint64_t memory_bytes = 0;             // RLIMIT_AS, or the cgroup's limit; 0: none
  uint64_t file_size_bytes = 0;          // RLIMIT_FSIZE; 0: none
  std::optional<uid_t> uid;              // run as this user (the helper must be root)
  gid_t gid = 0;
  std::string cgroup_dir;                // a memory cgroup to create; empty: RLIMIT_AS
};

struct ExecResult {
  pid_t pid = -1;             // the command's first process (and its process group)
  int exit_code = -1;         // -1 when it ended by a signal
  int signal = 0;
  bool timed_out = false;
  bool aborted = false;       // the helper was told to stop
  int64_t leftovers = 0;      // processes still running when the command ended, killed
  bool all_gone = false;      // nothing of the command was left when the helper finished
  int64_t max_rss_kb = 0;     // the largest process's peak resident memory
  int64_t oom_kills = 0;      // with a cgroup: processes the OOM killer ended
};

class ExecHelper {
 public:
  // `helper_path`: the rcuda-fn-exec binary.
  static Status Create(const std::string& helper_path, std::unique_ptr<ExecHelper>* helper);
  ~ExecHelper();

  // Runs the command to its end (or its timeout) and every process it left
  // behind to theirs. Thread-safe; each call runs its own helper.
  Status Run(const ExecRequest& request, ExecResult* result) const;

  // Ends every helper's command now and any started later (shutdown): the
  // helpers see the lifeline close.
  void AbortAll();

  const std::string& path() const { return path_; }

 private:
  ExecHelper(std::string path, int lifeline_read, int lifeline_write)
      : path_(std::move(path)), lifeline_read_(lifeline_read), lifeline_write_(lifeline_write) {}

  std::string path_;
  int lifeline_read_;   // given to every helper (fd 3 there)
  std::atomic<int> lifeline_write_;  // held only here, never inherited; -1 once closed
};

// Parses the helper's result lines ("name=value\n"); public for the tests.
Status ParseExecResult(const std::string& text, ExecResult* result);

}  // namespace rcuda::faas
