#include "faas/runtime/sandbox.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace rcuda::faas {
namespace {

bool IsSymlink(const std::string& path, std::string* target) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return false;
  char buffer[4096];
  ssize_t n = readlink(path.c_str(), buffer, sizeof buffer - 1);
  if (n <= 0) return false;
  target->assign(buffer, size_t(n));
  return true;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string ReadSome(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

}  // namespace

Status ParseSandboxMode(const std::string& text, SandboxMode* mode) {
  if (text == "off") *mode = SandboxMode::kOff;
  else if (text == "auto") *mode = SandboxMode::kAuto;
  else if (text == "on") *mode = SandboxMode::kOn;
  else return Status::InvalidValue("sandbox mode '" + text + "': use off, auto or on");
  return Status::Ok();
}

std::vector<std::string> Sandbox::SystemArgs() const {
  std::vector<std::string> args = {options_.bwrap, "--unshare-all", "--share-net", "--die-with-parent",
                                   "--new-session", "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"};
  // Debian's merged /usr: /bin, /lib... are links into /usr; elsewhere they
  // may be directories.
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::string target;
    if (IsSymlink(top, &target)) {
      args.insert(args.end(), {"--symlink", target, top});
    } else if (IsDirectory(top)) {
      args.insert(args.end(), {"--ro-bind", top, top});
    }
  }
  args.insert(args.end(), {"--ro-bind", "/etc", "/etc", "--ro-bind-try", "/opt", "/opt", "--proc", "/proc", "--dev",
                           "/dev", "--tmpfs", "/tmp"});
  for (const auto& dir : options_.rcuda_dirs) args.insert(args.end(), {"--ro-bind", dir, dir});
  for (const auto& path : options_.ro_binds) args.insert(args.end(), {"--ro-bind", path, path});
  return args;
}

std::vector<std::string> Sandbox::Wrap(const std::vector<std::string>& command, const std::string& task_dir,
                                       const std::vector<std::string>& ro_files) const {
  if (!enabled_) return command;
  std::vector<std::string> args = SystemArgs();
  args.insert(args.end(), {"--bind", task_dir, task_dir});
  for (const auto& file : ro_files) args.insert(args.end(), {"--ro-bind", file, file});
  args.insert(args.end(), {"--chdir", task_dir, "--"});
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

Status Sandbox::Create(const SandboxOptions& options, const ExecHelper& helper, const ExecRequest& trial,
                       std::unique_ptr<Sandbox>* sandbox, std::string* why) {
  if (options.mode == SandboxMode::kOff) {
    sandbox->reset(new Sandbox(options, false));
    return Status::Ok();
  }
  for (const auto& path : options.ro_binds) {
    if (access(path.c_str(), F_OK) != 0) return Status::InvalidValue("--sandbox-ro-bind " + path + ": no such path");
  }
  Sandbox candidate(options, true);
  ExecRequest request = trial;
  request.command = candidate.Wrap({"/bin/true"}, trial.work_dir, {});
  ExecResult result;
  Status s = helper.Run(request, &result);
  bool works = s.ok() && result.exit_code == 0;
  if (!works) {
    *why = !s.ok() ? s.message() : "bwrap exited with " + std::to_string(result.exit_code) + ": " + ReadSome(trial.log_path);
    while (!why->empty() && (why->back() == '\n' || why->back() == ' ')) why->pop_back();
    if (options.mode == SandboxMode::kOn) return Status::Unavailable("the sandbox (bwrap) does not work here: " + *why);
  }
  sandbox->reset(new Sandbox(options, works));
  return Status::Ok();
}

}  // namespace rcuda::faas
