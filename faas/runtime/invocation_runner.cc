#include "faas/runtime/invocation_runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "faas/runtime/output_plan.h"

namespace rcuda::faas {

namespace fs = std::filesystem;

struct InvocationRunner::Paths {
  std::string root;    // <work-root>/<request id>   (rcuda-fn's)
  std::string script;  // root/function.sh          (read-only to the function)
  std::string log;     // root/log                  (written through its descriptors only)
  std::string task;    // root/task                 (the function's)
  std::string input;   // task/input
  std::string output;  // task/output
  std::string tmp;     // task/tmp
};

namespace {

using Clock = std::chrono::steady_clock;

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) != 0) return Status::IoError("mkdir " + path + ": " + std::strerror(errno));
  if (chmod(path.c_str(), mode) != 0) return Status::IoError("chmod " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return Status::IoError("create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return Status::IoError("write " + path + ": " + std::strerror(errno));
    }
    done += size_t(n);
  }
  fchmod(fd, mode);
  close(fd);
  return Status::Ok();
}

// "signal: killed", as Lambda (Go's os/exec) words it.
std::string SignalText(int signal) {
  std::string name = strsignal(signal);
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  return "signal: " + name;
}

std::string BaseName(const std::string& key) {
  size_t slash = key.find_last_of('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

}  // namespace

std::string ReadTail(const std::string& path, size_t bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  struct stat st;
  std::string text;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t start = st.st_size > off_t(bytes) ? st.st_size - off_t(bytes) : 0;
    text.resize(size_t(st.st_size - start));
    ssize_t n = pread(fd, text.data(), text.size(), start);
    text.resize(n > 0 ? size_t(n) : 0);
  }
  close(fd);
  return text;
}

Status InvocationRunner::Prepare(const FunctionDefinition& function, const Paths& paths) const {
  // The root is traversable (not listable) by the function's user, so that
  // it reaches task/ and the script; the log is rcuda-fn's alone.
  RCUDA_RETURN_IF_ERROR(MakeDir(paths.root, options_.run_as_uid ? 0711 : 0700));
  RCUDA_RETURN_IF_ERROR(WriteFile(paths.script, function.script, 0644));
  RCUDA_RETURN_IF_ERROR(MakeDir(paths.task, 0700));
  for (const std::string* dir : {&paths.input, &paths.output, &paths.tmp}) RCUDA_RETURN_IF_ERROR(MakeDir(*dir, 0700));
  if (options_.run_as_uid) {
    for (const std::string* dir : {&paths.task, &paths.input, &paths.output, &paths.tmp}) {
      if (chown(dir->c_str(), *options_.run_as_uid, options_.run_as_gid) != 0) {
        return Status::IoError("chown " + *dir + ": " + std::strerror(errno));
      }
    }
  }
  return Status::Ok();
}

bool InvocationRunner::DownloadInput(const FunctionDefinition& function, const EventObject& object,
                                     const Paths& paths, InvocationOutcome* outcome, std::string* input_path) const {
  uint64_t cap = options_.max_input_bytes ? options_.max_input_bytes
                                          : uint64_t(function.ephemeral_storage_mb) * 1024 * 1024;
  ObjectInfo info;
  bool exists = false;
  Status s = store_->Head(object.bucket, object.key, &info, &exists);
  if (!s.ok()) {
    outcome->kind = InvocationOutcome::Kind::kServiceError;
    outcome->error_message = "reading the input's metadata: " + s.message();
    return false;
  }
  outcome->kind = InvocationOutcome::Kind::kFunctionError;
  if (!exists) {
    outcome->error_type = "Function.InputNotFound";
    outcome->error_message = "the input object s3://" + object.bucket + "/" + object.key + " does not exist";
    return false;
  }
  if (info.size > cap) {
    outcome->error_type = "Function.InputTooLarge";
    outcome->error_message = "the input object is " + std::to_string(info.size) + " bytes; the limit is " +
                             std::to_string(cap);
    return false;
  }
  *input_path = paths.input + "/" + BaseName(object.key);
  s = store_->GetFile(object.bucket, object.key, *input_path, cap);
  if (!s.ok()) {
    outcome->kind = InvocationOutcome::Kind::kServiceError;
    outcome->error_message = "downloading the input: " + s.message();
    return false;
  }
  if (options_.run_as_uid && chown(input_path->c_str(), *options_.run_as_uid, options_.run_as_gid) != 0) {
    outcome->kind = InvocationOutcome::Kind::kServiceError;
    outcome->error_message = "chown " + *input_path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  outcome->input_bytes = stat(input_path->c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
  return true;
}

std::vector<std::string> InvocationRunner::Environment(const FunctionDefinition& function,
                                                       const InvocationRequest& request,
                                                       const std::string& request_id, const Paths& paths,
                                                       const std::string& input_path) const {
  std::vector<std::string> env;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  if (!options_.rcuda_bin_dir.empty()) {
    path = options_.rcuda_bin_dir + ":" + path;
    env.push_back("RCUDA_RUN=" + options_.rcuda_bin_dir + "/rcuda-run");
  }
  env.push_back("PATH=" + path);
  env.push_back("HOME=" + paths.task);
  env.push_back("TMPDIR=" + paths.tmp);
  env.push_back("LANG=C.UTF-8");
  // The definition's variables cannot collide with the ones below: those
  // names are reserved (IsReservedEnvironmentName).
  for (const auto& [name, value] : function.environment) env.push_back(name + "=" + value);
  env.push_back("AWS_LAMBDA_FUNCTION_NAME=" + function.name);
  env.push_back("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(function.memory_mb));
  env.push_back("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
  env.push_back("AWS_LAMBDA_REQUEST_ID=" + request_id);
  env.push_back("TMP_INPUT_DIR=" + paths.input);
  env.push_back("TMP_OUTPUT_DIR=" + paths.output);
  if (request.object) {
    env.push_back("INPUT_FILE_PATH=" + input_path);
    env.push_back("INPUT_BUCKET=" + request.object->bucket);
    env.push_back("INPUT_OBJECT_KEY=" + request.object->key);
  }
  for (const auto& [name, value] : request.lease.variables) env.push_back(name + "=" + value);
  return env;
}

void InvocationRunner::Execute(const FunctionDefinition& function, const InvocationRequest& request,
                               const std::string& request_id, const Paths& paths, const std::string& input_path,
                               InvocationOutcome* outcome) const {
  ExecRequest exec;
  exec.command = sandbox_->Wrap({"/bin/bash", paths.script}, paths.task, {paths.script});
  exec.environment = Environment(function, request, request_id, paths, input_path);
  exec.log_path = paths.log;
  exec.work_dir = paths.task;
  exec.timeout_ms = int64_t(function.timeout_s) * 1000;
  exec.grace_ms = options_.kill_grace_ms;
  exec.memory_bytes = uint64_t(function.memory_mb) * 1024 * 1024;
  exec.file_size_bytes = uint64_t(function.ephemeral_storage_mb) * 1024 * 1024;
  exec.uid = options_.run_as_uid;
  exec.gid = options_.run_as_gid;
  if (!options_.cgroup_parent.empty()) exec.cgroup_dir = options_.cgroup_parent + "/rcuda-fn-" + request_id;
  outcome->sandboxed = sandbox_->enabled();
  auto start = Clock::now();
  Status s = helper_->Run(exec, &outcome->exec);
  outcome->duration_ms = MillisSince(start);
  outcome->ran = s.ok();
  outcome->log_tail = ReadTail(paths.log, options_.log_tail_bytes);
  const ExecResult& r = outcome->exec;
  if (!s.ok() || r.aborted) {
    outcome->kind = InvocationOutcome::Kind::kServiceError;
    outcome->error_message = !s.ok() ? "running the function: " + s.message() : "rcuda-fn is stopping";
    return;
  }
  if (!r.all_gone) spdlog::error("invocation {}: some of its processes could not be killed", request_id);
  outcome->kind = InvocationOutcome::Kind::kFunctionError;
  if (r.timed_out) {
    outcome->error_type = "Sandbox.Timedout";
    outcome->error_message = "RequestId: " + request_id + " Error: Task timed out after " +
                             std::to_string(function.timeout_s) + ".00 seconds";
  } else if (r.oom_kills > 0) {
    outcome->error_type = "Runtime.OutOfMemory";
    outcome->error_message = "RequestId: " + request_id + " Error: Runtime exited with error: out of memory (" +
                             std::to_string(function.memory_mb) + " MB)";
  } else if (r.signal != 0) {
    outcome->error_type = "Runtime.ExitError";
    outcome->error_message = "RequestId: " + request_id + " Error: Runtime exited with error: " + SignalText(r.signal);
  } else if (r.exit_code != 0) {
    outcome->error_type = "Runtime.ExitError";
    outcome->error_message = "RequestId: " + request_id + " Error: Runtime exited with error: exit status " +
                             std::to_string(r.exit_code);
  } else {
    outcome->kind = InvocationOutcome::Kind::kSucceeded;
  }
}

void InvocationRunner::Upload(const FunctionDefinition& function, const std::string& request_id,
                              const Paths& paths, InvocationOutcome* outcome) const {
  OutputLimits limits;
  limits.max_files = options_.max_output_files;
  limits.max_total_bytes = uint64_t(function.ephemeral_storage_mb) * 1024 * 1024;
  OutputPlan plan;
  Status s = PlanOutputs(function, request_id, paths.output, limits, &plan);
  outcome->skipped_outputs = plan.skipped;
  if (!s.ok()) {
    outcome->kind = InvocationOutcome::Kind::kFunctionError;
    outcome->error_type = "Function.OutputError";
    outcome->error_message = s.message();
    return;
  }
  for (const auto& upload : plan.uploads) {
    s = store_->PutFile(upload.bucket, upload.key, upload.local_path);
    if (!s.ok()) {
      outcome->kind = InvocationOutcome::Kind::kServiceError;
      outcome->error_message = "uploading s3://" + upload.bucket + "/" + upload.key + ": " + s.message();
      return;
    }
    outcome->outputs.push_back({upload.bucket, upload.key, upload.bytes});
  }
}

InvocationOutcome InvocationRunner::Run(const FunctionDefinition& function, const InvocationRequest& request,
                                        const std::string& request_id) const {
  auto start = Clock::now();
  InvocationOutcome outcome;
  outcome.input = request.object;
  Paths paths;
  paths.root = options_.work_root + "/" + request_id;
  paths.script = paths.root + "/function.sh";
  paths.log = paths.root + "/log";
  paths.task = paths.root + "/task";
  paths.input = paths.task + "/input";
  paths.output = paths.task + "/output";
  paths.tmp = paths.task + "/tmp";

  Status s = Prepare(function, paths);
  std::string input_path;
  if (!s.ok()) {
    outcome.kind = InvocationOutcome::Kind::kServiceError;
    outcome.error_message = "preparing the work directory: " + s.message();
  } else if (!request.object || DownloadInput(function, *request.object, paths, &outcome, &input_path)) {
    Execute(function, request, request_id, paths, input_path, &outcome);
    if (outcome.kind == InvocationOutcome::Kind::kSucceeded) Upload(function, request_id, paths, &outcome);
  }
  if (!options_.keep_work_dirs) {
    std::error_code ec;
    fs::remove_all(paths.root, ec);  // never follows links
    if (ec) spdlog::error("invocation {}: cannot remove {}: {}", request_id, paths.root, ec.message());
  }
  outcome.total_ms = MillisSince(start);
  return outcome;
}

}  // namespace rcuda::faas
