// Sandbox: wraps an invocation's command in bubblewrap (bwrap) when it can:
// new user, PID, IPC, UTS and mount namespaces (--unshare-all), the network
// kept (--share-net: the CUDA program must reach its rcuda-server), the
// system read-only (/usr, /etc, /opt and the top-level links or directories
// into /usr), rcuda's bin and lib read-only, a private /tmp, /proc and /dev,
// and only the invocation's task directory writable. Nothing else of the
// host's file system is there: no /home, /root, /var, /run, no other
// invocation's files. --die-with-parent and the PID namespace end every
// process of the sandbox with it.
//
// Modes: off; auto (use it when a trial run works, else run without it and
// say so once); on (refuse to start without it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "faas/runtime/exec_helper.h"

namespace rcuda::faas {

enum class SandboxMode { kOff, kAuto, kOn };

Status ParseSandboxMode(const std::string& text, SandboxMode* mode);

struct SandboxOptions {
  SandboxMode mode = SandboxMode::kAuto;
  std::string bwrap = "bwrap";             // found on PATH unless a path
  std::vector<std::string> ro_binds;       // more read-only paths (programs, data)
  std::vector<std::string> rcuda_dirs;     // rcuda's bin and lib directories
};

class Sandbox {
 public:
  // With mode auto or on, runs `bwrap ... /bin/true` through the helper as
  // the invocations will run (same user, same limits) to see whether it
  // works here; *why says what failed.
  static Status Create(const SandboxOptions& options, const ExecHelper& helper, const ExecRequest& trial,
                       std::unique_ptr<Sandbox>* sandbox, std::string* why);

  bool enabled() const { return enabled_; }

  // The command to run for `command` inside the sandbox, `task_dir` writable
  // and `ro_files` (e.g. the script) readable at their own paths; the command
  // itself when the sandbox is off.
  std::vector<std::string> Wrap(const std::vector<std::string>& command, const std::string& task_dir,
                                const std::vector<std::string>& ro_files) const;

 private:
  Sandbox(SandboxOptions options, bool enabled) : options_(std::move(options)), enabled_(enabled) {}
  std::vector<std::string> SystemArgs() const;

  SandboxOptions options_;
  bool enabled_;
};

}  // namespace rcuda::faas
