// InvocationRunner: one invocation from start to end, as SCAR's supervisor
// does it inside a Lambda function:
//
//   1. a fresh directory <work-root>/<request id>/ with task/{input,output,tmp}
//      (owned by the user functions run as) and the script beside task/;
//   2. the event's object downloaded into task/input/ (size-capped);
//   3. the script run by bash through rcuda-fn-exec (timeout, memory limit,
//      sandbox), with the definition's environment, SCAR's variables
//      (INPUT_FILE_PATH, TMP_INPUT_DIR, TMP_OUTPUT_DIR, AWS_LAMBDA_*) and the
//      lease's (RCUDA_DEVICE_*, RCUDA_TOKEN, SSGM_JOB_ID), rcuda-run first on
//      PATH and in RCUDA_RUN;
//   4. on success, task/output/ uploaded to the function's outputs;
//   5. the directory removed; the outcome and the log's tail reported.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faas/function/function_definition.h"
#include "faas/runtime/exec_helper.h"
#include "faas/runtime/invocation_request.h"
#include "faas/runtime/sandbox.h"
#include "faas/storage/object_store.h"

namespace rcuda::faas {

struct RunnerOptions {
  std::string work_root;            // must exist; invocations' directories go here
  std::string rcuda_bin_dir;        // where rcuda-run is (first on PATH)
  std::optional<uid_t> run_as_uid;  // functions run as this user (rcuda-fn runs as root)
  gid_t run_as_gid = 0;
  std::string cgroup_parent;        // a delegated memory cgroup; empty: RLIMIT_AS
  int64_t kill_grace_ms = 2000;     // SIGTERM to SIGKILL at the timeout
  uint64_t max_input_bytes = 0;     // 0: the function's ephemeral storage
  size_t max_output_files = 1000;
  size_t log_tail_bytes = 4096;
  bool keep_work_dirs = false;      // for debugging: leave the directories
};

struct UploadedObject {
  std::string bucket;
  std::string key;
  uint64_t bytes = 0;
};

struct InvocationOutcome {
  enum class Kind { kSucceeded, kFunctionError, kServiceError };
  Kind kind = Kind::kServiceError;
  std::string error_type;     // Lambda's: Runtime.ExitError, Sandbox.Timedout, Runtime.OutOfMemory, ...
  std::string error_message;
  bool ran = false;           // the script was started
  ExecResult exec;
  int64_t duration_ms = 0;    // the script's run
  int64_t total_ms = 0;       // everything, transfers included
  std::optional<EventObject> input;
  uint64_t input_bytes = 0;
  std::vector<UploadedObject> outputs;
  std::vector<std::string> skipped_outputs;
  std::string log_tail;
  bool sandboxed = false;
};

class InvocationRunner {
 public:
  // The pointers must outlive the runner.
  InvocationRunner(RunnerOptions options, ObjectStore* store, const ExecHelper* helper, const Sandbox* sandbox)
      : options_(std::move(options)), store_(store), helper_(helper), sandbox_(sandbox) {}

  // Thread-safe (each call has its own directory and helper).
  InvocationOutcome Run(const FunctionDefinition& function, const InvocationRequest& request,
                        const std::string& request_id) const;

  const RunnerOptions& options() const { return options_; }

 private:
  struct Paths;
  Status Prepare(const FunctionDefinition& function, const Paths& paths) const;
  bool DownloadInput(const FunctionDefinition& function, const EventObject& object, const Paths& paths,
                     InvocationOutcome* outcome, std::string* input_path) const;
  std::vector<std::string> Environment(const FunctionDefinition& function, const InvocationRequest& request,
                                       const std::string& request_id, const Paths& paths,
                                       const std::string& input_path) const;
  void Execute(const FunctionDefinition& function, const InvocationRequest& request, const std::string& request_id,
               const Paths& paths, const std::string& input_path, InvocationOutcome* outcome) const;
  void Upload(const FunctionDefinition& function, const std::string& request_id, const Paths& paths,
              InvocationOutcome* outcome) const;

  RunnerOptions options_;
  ObjectStore* store_;
  const ExecHelper* helper_;
  const Sandbox* sandbox_;
};

// The last `bytes` bytes of a file (the function's log).
std::string ReadTail(const std::string& path, size_t bytes);

}  // namespace rcuda::faas
